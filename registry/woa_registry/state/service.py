"""The shared-state logic, free of HTTP: preconditions, JSON Patch, ACL, quotas, batches.

Every write becomes a list of :class:`Operation` applied by :meth:`StateService.apply`
through :meth:`StateStore.write`: the checks run inside the store's serialised transaction
on the rows it just read, so a compare-and-set can never act on a stale version, and any
failure (precondition, ACL, patch, quota) raises before anything is written: a failed
operation, or a failed batch, changes nothing.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any

import jsonpatch
import jsonpointer

from woa_protocol import canonicalize_str, resolve_did

from ..problems import InvalidCursorError, InvalidRequestError
from ..text import control_character
from .acl import can_read, require_owner, require_read, require_write
from .models import (
    ETAG_LIST_PATTERN,
    Acl,
    Change,
    ChangeKind,
    Document,
    Namespace,
    NamespaceRequest,
    Provenance,
    StoredDocument,
    check_key,
    check_namespace_name,
    check_prefix,
)
from .problems import (
    AlreadyExistsError,
    DocumentNotFoundError,
    InvalidPatchError,
    NamespaceNotFoundError,
    PatchTestFailedError,
    PreconditionRequiredError,
    QuotaExceededError,
    StateError,
    VersionMismatchError,
)
from .store.base import Mutation, StateStore, usage_after

__all__ = [
    "ANY_VERSION",
    "OpKind",
    "Operation",
    "StateLimits",
    "StateService",
    "check_text",
    "parse_if_match",
    "parse_if_none_match",
]


def _utcnow() -> datetime:
    return datetime.now(UTC)


class _AnyVersion:
    """``If-Match: *``: any current version (the document must exist)."""

    def __repr__(self) -> str:
        return "ANY_VERSION"


ANY_VERSION = _AnyVersion()
"""The ``If-Match: *`` precondition."""

IfMatch = _AnyVersion | frozenset[int]

_ETAG_LIST = re.compile(ETAG_LIST_PATTERN)
_ETAG = re.compile(r'(W/)?"([^"]*)"')


def parse_if_match(value: str | None) -> IfMatch | None:
    """Parse ``If-Match``: ``*`` or a list of our ETags (``"7"``); weak tags never match."""
    if value is None:
        return None
    if value.strip() == "*":
        return ANY_VERSION
    # the whole list at once: an entity tag may itself hold a comma ('"a,b"', RFC 9110 etagc)
    if _ETAG_LIST.fullmatch(value) is None:
        raise InvalidRequestError(
            f'If-Match {value[:80]!r} is not "*" or a list of quoted ETags like "7"',
            [{"path": "If-Match", "message": "invalid entity-tag list"}],
        )
    versions = {
        int(tag)
        for weak, tag in _ETAG.findall(value)
        if not weak and tag.isdigit() and len(tag) <= 18
    }
    return frozenset(versions)


def parse_if_none_match(value: str | None) -> bool:
    """Parse ``If-None-Match`` on a write: only ``*`` (create only) is meaningful."""
    if value is None:
        return False
    if value.strip() != "*":
        raise InvalidRequestError(
            'writes accept only "If-None-Match: *" (create only)',
            [{"path": "If-None-Match", "message": 'must be "*"'}],
        )
    return True


class OpKind(StrEnum):
    """What one operation does."""

    PUT = "put"
    PATCH = "patch"
    DELETE = "delete"
    CHECK = "check"


@dataclass(frozen=True)
class Operation:
    """One write (or precondition check) on one key."""

    kind: OpKind
    key: str
    value: Any = None
    patch: Any = None
    if_match: IfMatch | None = None
    create_only: bool = False
    ttl_seconds: int | None = None


@dataclass(frozen=True)
class StateLimits:
    """Quotas and bounds of the service."""

    max_document_bytes: int = 64 * 1024
    """Largest canonical JSON value of one document."""
    max_namespace_bytes: int = 16 * 1024 * 1024
    """Largest total of a namespace's live values."""
    max_namespace_documents: int = 10_000
    """Most live documents in one namespace."""
    max_batch_operations: int = 100
    """Most operations in one batch."""
    max_ttl_seconds: int = 30 * 24 * 3600
    """Longest TTL a document may ask for."""
    max_page: int = 1000
    """Largest page of a listing or history."""


@dataclass
class _Decider:
    """The ``decide`` function of one write: run inside the store's transaction."""

    service: StateService
    ops: Sequence[Operation]
    signer: str
    now: datetime
    results: dict[str, StoredDocument | None] = field(default_factory=dict)

    def __call__(
        self, namespace: Namespace, current: Mapping[str, StoredDocument | None]
    ) -> list[Mutation]:
        require_write(namespace.acl, self.signer, namespace.name)
        mutations: list[Mutation] = []
        for index, op in enumerate(self.ops):
            try:
                mutation = self.service.decide_one(op, current.get(op.key), self.now)
            except StateError as exc:
                if len(self.ops) > 1:
                    exc.extensions["operation"] = index
                    exc.detail = f"operation {index} ({op.kind.value} {op.key!r}): {exc.detail}"
                    exc.args = (exc.detail,)
                raise
            if mutation is not None:
                mutations.append(mutation)
        self.service.check_quota(namespace, current, mutations)
        return mutations


class StateService:
    """Namespaces and documents over a :class:`StateStore`, with every rule of the spec."""

    def __init__(
        self,
        store: StateStore,
        limits: StateLimits | None = None,
        *,
        clock: Callable[[], datetime] = _utcnow,
    ) -> None:
        self.store = store
        self.limits = limits or StateLimits()
        self._clock = clock

    # -- namespaces ------------------------------------------------------------------

    async def put_namespace(
        self, name: str, signer: str, request: NamespaceRequest
    ) -> tuple[Namespace, bool]:
        """Create ``name`` owned by ``signer``, or (owner only) replace its ACL and contextId."""
        check_namespace_name(name)
        if request.context_id is not None:
            check_text(request.context_id, "contextId")
        for did in (*request.writers, *request.readers):
            resolve_did(did)  # InvalidDidError (400) for anything but an Ed25519 did:key
        now = self._clock()

        def decide(current: Namespace | None) -> Namespace:
            owner = signer if current is None else current.acl.owner
            if current is not None:
                require_owner(current.acl, signer, name)
            acl = Acl(
                owner=owner,
                writers=tuple(dict.fromkeys(request.writers)),
                readers=tuple(dict.fromkeys(request.readers)),
                public_read=request.public_read,
            )
            return Namespace(
                name=name,
                acl=acl,
                context_id=request.context_id,
                created_at=now if current is None else current.created_at,
                updated_at=now,
            )

        return await self.store.put_namespace(name, decide, now)

    async def namespace(self, name: str, reader: str | None) -> Namespace:
        """Return the namespace if ``reader`` may read it."""
        check_namespace_name(name)
        ns = await self.store.get_namespace(name)
        if ns is None:
            raise NamespaceNotFoundError(f"no namespace {name!r}")
        require_read(ns.acl, reader, name)
        return ns

    async def namespaces_for_context(self, context_id: str, reader: str | None) -> list[Namespace]:
        """Return the namespaces tied to an A2A contextId that ``reader`` may read."""
        check_text(context_id, "contextId")
        found = await self.store.namespaces_for_context(context_id)
        return [ns for ns in found if can_read(ns.acl, reader)]

    # -- reads -----------------------------------------------------------------------

    async def get(self, namespace: str, key: str, reader: str | None) -> Document:
        """Return the live document, or raise DocumentNotFoundError."""
        await self.namespace(namespace, reader)
        check_key(key)
        row = await self.store.read(namespace, key)
        if row is None or not row.live(self._clock()):
            raise DocumentNotFoundError(f"no document {key!r} in namespace {namespace!r}")
        return _document(row)

    async def list_documents(
        self,
        namespace: str,
        reader: str | None,
        *,
        prefix: str = "",
        cursor: str | None = None,
        limit: int = 100,
    ) -> tuple[list[Document], str | None]:
        """Return one page of live documents under ``prefix`` (by key) and the next cursor."""
        await self.namespace(namespace, reader)
        check_prefix(prefix)
        after = _decode_cursor(cursor) if cursor else None
        limit = max(1, min(limit, self.limits.max_page))
        rows = await self.store.list_live(namespace, prefix, after, limit + 1, self._clock())
        more = len(rows) > limit
        rows = rows[:limit]
        next_cursor = _encode_cursor(rows[-1].key) if more else None
        return [_document(row) for row in rows], next_cursor

    async def history(
        self, namespace: str, key: str, reader: str | None, *, after: int = 0, limit: int = 100
    ) -> list[Change]:
        """Return a key's append-only history (with the signed requests) after ``after``."""
        await self.namespace(namespace, reader)
        check_key(key)
        limit = max(1, min(limit, self.limits.max_page))
        changes = await self.store.history(namespace, key, after, limit)
        if not changes and after == 0:
            raise DocumentNotFoundError(f"document {key!r} in {namespace!r} has no history")
        return changes

    async def changes(
        self, namespace: str, prefix: str, after: int, limit: int = 500
    ) -> list[Change]:
        """Return the namespace's changes under ``prefix`` after revision ``after``."""
        return await self.store.changes_since(namespace, prefix, after, limit)

    # -- writes ----------------------------------------------------------------------

    async def apply(
        self,
        namespace: str,
        ops: Sequence[Operation],
        signer: str,
        provenance: Provenance | None = None,
    ) -> list[Change]:
        """Apply ``ops`` atomically as ``signer``; return the committed changes."""
        check_namespace_name(namespace)
        if not ops:
            raise InvalidRequestError("a batch needs at least one operation")
        if len(ops) > self.limits.max_batch_operations:
            raise QuotaExceededError(
                f"a batch may hold at most {self.limits.max_batch_operations} operations",
                limit=self.limits.max_batch_operations,
                size=len(ops),
            )
        seen: set[str] = set()
        for index, op in enumerate(ops):
            check_key(op.key)
            if op.key in seen:
                raise InvalidRequestError(
                    f"operation {index} names key {op.key!r} again: one operation per key",
                    [{"path": f"$.operations[{index}].key", "message": "duplicate key"}],
                )
            seen.add(op.key)
            self._check_shape(op, index)
        decider = _Decider(self, ops, signer, self._clock())
        return await self.store.write(
            namespace,
            [op.key for op in ops],
            decider,
            writer=signer,
            at=decider.now,
            provenance=provenance,
        )

    def _check_shape(self, op: Operation, index: int) -> None:
        where = f"$.operations[{index}]"
        if op.ttl_seconds is not None and not 1 <= op.ttl_seconds <= self.limits.max_ttl_seconds:
            raise InvalidRequestError(
                f"ttl must lie in [1, {self.limits.max_ttl_seconds}] seconds",
                [{"path": f"{where}.ttlSeconds", "message": "out of range"}],
            )
        if op.kind in (OpKind.DELETE, OpKind.CHECK) and op.ttl_seconds is not None:
            raise InvalidRequestError(f"{op.kind.value} takes no TTL")
        if op.kind is not OpKind.CHECK and op.create_only and op.if_match is not None:
            raise InvalidRequestError("give either If-Match or If-None-Match: *, not both")

    def decide_one(
        self, op: Operation, row: StoredDocument | None, now: datetime
    ) -> Mutation | None:
        """Check one operation against the current row; return its mutation (None: check)."""
        live = row if row is not None and row.live(now) else None
        if op.kind is OpKind.PUT:
            if op.create_only:
                if live is not None:
                    raise AlreadyExistsError(
                        f"{op.key!r} exists (version {live.version}); If-None-Match: * "
                        "only creates",
                        current_version=live.version,
                    )
            else:
                self._check_if_match(op, live)
            value_json = self._encode(op.value)
            return Mutation(op.key, ChangeKind.PUT, value_json, self._expiry(op, None, now))
        if op.kind is OpKind.CHECK and op.create_only:
            if live is not None:
                raise AlreadyExistsError(f"{op.key!r} exists", current_version=live.version)
            return None
        if live is None:
            if op.if_match is None:
                raise PreconditionRequiredError(f"{op.kind.value} needs If-Match")
            raise DocumentNotFoundError(f"no document {op.key!r}")
        self._check_if_match(op, live)
        if op.kind is OpKind.CHECK:
            return None
        if op.kind is OpKind.DELETE:
            return Mutation(op.key, ChangeKind.DELETE, None)
        assert live.value_json is not None
        patched = _apply_patch(op.patch, json.loads(live.value_json))
        value_json = self._encode(patched)
        return Mutation(op.key, ChangeKind.PATCH, value_json, self._expiry(op, live, now))

    @staticmethod
    def _check_if_match(op: Operation, live: StoredDocument | None) -> None:
        if op.if_match is None:
            raise PreconditionRequiredError(
                f"{op.kind.value} of {op.key!r} needs If-Match"
                + (" or If-None-Match: *" if op.kind is OpKind.PUT else "")
                + " (compare-and-set)"
            )
        current = None if live is None else live.version
        if live is None or (isinstance(op.if_match, frozenset) and live.version not in op.if_match):
            wanted = "*" if op.if_match is ANY_VERSION else sorted(op.if_match)  # type: ignore[arg-type]
            raise VersionMismatchError(
                f"{op.key!r} is at version {current}, the request expected {wanted}",
                current_version=current,
            )

    def _encode(self, value: Any) -> str:
        text = canonicalize_str(value)  # CanonicalizationError (422) for NaN, huge ints, ...
        size = len(text.encode("utf-8"))
        if size > self.limits.max_document_bytes:
            raise QuotaExceededError(
                f"the document is {size} bytes of canonical JSON; the limit is "
                f"{self.limits.max_document_bytes}",
                limit=self.limits.max_document_bytes,
                size=size,
            )
        return text

    @staticmethod
    def _expiry(op: Operation, live: StoredDocument | None, now: datetime) -> datetime | None:
        if op.ttl_seconds is not None:
            return now + timedelta(seconds=op.ttl_seconds)
        return None if live is None or op.kind is OpKind.PUT else live.expires_at

    def check_quota(
        self,
        namespace: Namespace,
        current: Mapping[str, StoredDocument | None],
        mutations: Sequence[Mutation],
    ) -> None:
        """Refuse mutations that grow the namespace beyond its byte or document quota."""
        usage = usage_after(namespace, current, mutations)
        limits = self.limits
        if usage.bytes_used > limits.max_namespace_bytes and (
            usage.bytes_used > namespace.bytes_used
        ):
            raise QuotaExceededError(
                f"namespace {namespace.name!r} would hold {usage.bytes_used} bytes; the quota "
                f"is {limits.max_namespace_bytes}",
                limit=limits.max_namespace_bytes,
                size=usage.bytes_used,
            )
        if usage.document_count > limits.max_namespace_documents and (
            usage.document_count > namespace.document_count
        ):
            raise QuotaExceededError(
                f"namespace {namespace.name!r} would hold {usage.document_count} documents; "
                f"the quota is {limits.max_namespace_documents}",
                limit=limits.max_namespace_documents,
                size=usage.document_count,
            )

    async def expire(self, limit: int = 500) -> list[Change]:
        """Turn documents whose TTL ended into tombstones (recorded as ``expire`` changes)."""
        return await self.store.expire(self._clock(), limit)


def _apply_patch(patch: Any, document: Any) -> Any:
    """Apply an RFC 6902 patch with the ``jsonpatch`` library, mapping its errors."""
    if not isinstance(patch, list):
        raise InvalidPatchError("a JSON Patch is an array of operations")
    try:
        return jsonpatch.JsonPatch(patch).apply(document, in_place=False)
    except jsonpatch.JsonPatchTestFailed as exc:
        raise PatchTestFailedError(f"a test operation failed: {exc}") from exc
    except (
        jsonpatch.JsonPatchException,
        jsonpointer.JsonPointerException,
        TypeError,
        KeyError,
        ValueError,
        AttributeError,
    ) as exc:
        raise InvalidPatchError(f"the JSON Patch cannot be applied: {exc}") from exc


def _document(row: StoredDocument) -> Document:
    assert row.value_json is not None
    return Document(
        namespace=row.namespace,
        key=row.key,
        value=json.loads(row.value_json),
        version=row.version,
        writer=row.writer,
        updated_at=row.updated_at,
        expires_at=row.expires_at,
        rev=row.rev,
    )


def check_text(value: str, where: str) -> str:
    """Apply the one text rule (REG-075) to a state text field; 422 ``invalid-request``."""
    bad = control_character(value)
    if bad is not None:
        raise InvalidRequestError(
            f"{where} contains the control character {bad}",
            [{"path": where, "message": f"control character {bad}"}],
        )
    return value


def _encode_cursor(key: str) -> str:
    return base64.urlsafe_b64encode(key.encode("utf-8")).decode("ascii").rstrip("=")


def _decode_cursor(cursor: str) -> str:
    try:
        key = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode("utf-8")
        return check_key(key)
    except (binascii.Error, UnicodeDecodeError, ValueError, InvalidRequestError) as exc:
        raise InvalidCursorError(f"cursor {cursor[:80]!r} was not issued by this service") from exc
