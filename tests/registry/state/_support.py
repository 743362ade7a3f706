"""Helpers for the state tests: operations, namespaces, snapshots of what is stored."""

from __future__ import annotations

from typing import Any

from woa_protocol import SigningKey
from woa_registry.state import Operation, OpKind, StateService
from woa_registry.state.models import NamespaceRequest
from woa_registry.state.service import ANY_VERSION
from woa_registry.state.store import StateStore

NS = "board"


def put(key: str, value: Any, *, version: int | None = None, create: bool = False) -> Operation:
    return Operation(
        OpKind.PUT,
        key,
        value=value,
        if_match=None if version is None else frozenset({version}),
        create_only=create,
    )


def put_any(key: str, value: Any) -> Operation:
    return Operation(OpKind.PUT, key, value=value, if_match=ANY_VERSION)


def patch(key: str, ops: Any, version: int) -> Operation:
    return Operation(OpKind.PATCH, key, patch=ops, if_match=frozenset({version}))


def delete(key: str, version: int) -> Operation:
    return Operation(OpKind.DELETE, key, if_match=frozenset({version}))


async def make_namespace(
    service: StateService, owner: SigningKey, name: str = NS, **acl: Any
) -> None:
    await service.put_namespace(name, owner.did, NamespaceRequest(**acl))


async def snapshot(store: StateStore, namespace: str = NS) -> tuple[Any, ...]:
    """Everything observable about a namespace: usage, documents, changes, last revision."""
    ns = await store.get_namespace(namespace)
    changes = await store.changes_since(namespace, "", 0, 1000)
    docs = {}
    for change in changes:
        row = await store.read(namespace, change.key)
        docs[change.key] = row
    return (
        None if ns is None else (ns.acl, ns.bytes_used, ns.document_count),
        docs,
        [c.to_json() for c in changes],
        await store.last_rev(),
    )


def signed_request(
    key: SigningKey,
    method: str,
    path: str,
    body: Any = None,
    *,
    raw: bytes | None = None,
    headers: dict[str, str] | None = None,
    content_type: str = "application/json",
) -> tuple[bytes, dict[str, str]]:
    """``(content, headers)`` of a request to the test app signed by ``key``."""
    import json

    from woa_protocol import HttpRequest, MessageSigner

    from .._support import BASE

    content = raw if raw is not None else (b"" if body is None else json.dumps(body).encode())
    all_headers = dict(headers or {})
    if content:
        all_headers["content-type"] = content_type
    request = HttpRequest(method, BASE + path, all_headers, content)
    MessageSigner(key).sign_request(request)
    return content, request.headers
