"""``/v1/state``: namespaces, versioned documents, batches, history and watch.

Writes are signed (RFC 9421) and carry their precondition: ``If-Match: "<version>"``
(compare-and-set, ``*`` for any version) or ``If-None-Match: *`` (create only). Reads of a
namespace without public read must be signed by an allowed DID. Documents answer with
their version as a strong ETag.
"""

from __future__ import annotations

from collections.abc import Coroutine
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request, WebSocket
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from woa_protocol import FrameSigner, WoaError

from ..body import parse_json, parse_model, read_body
from ..problems import InvalidRequestError
from ..routes.openapi import problem_responses
from ..streaming import CloseStream, parse_since, serve_stream, subscription_of
from ..text import TEXT_SCHEMA
from .acl import require_read
from .models import (
    ETAG_LIST_PATTERN,
    KEY_PATTERN,
    MAX_KEY_LENGTH,
    NAMESPACE_PATTERN,
    BatchRequest,
    Change,
    NamespaceRequest,
    check_key,
    check_namespace_name,
    check_prefix,
)
from .problems import NamespaceNotFoundError
from .runtime import runtime_of
from .service import Operation, OpKind, parse_if_match, parse_if_none_match

__all__ = [
    "WATCH_BATCH",
    "batch",
    "delete_document",
    "get_document",
    "get_namespace",
    "history",
    "list_documents",
    "namespaces_for_context",
    "patch_document",
    "put_document",
    "put_namespace",
    "router",
    "watch",
    "whoami",
]

router = APIRouter(prefix="/v1/state", tags=["state"])

WATCH_BATCH = 500
"""Changes read per query while a watcher catches up."""

NamespacePath = Annotated[
    str, Path(description="Namespace name.", pattern=f"^{NAMESPACE_PATTERN}$", max_length=128)
]
KeyPath = Annotated[
    str,
    Path(
        description="Document key ('/'-separated segments).",
        pattern=f"^{KEY_PATTERN}$",
        max_length=MAX_KEY_LENGTH,
    ),
]
Ttl = Annotated[int | None, Query(ge=1, description="Time to live in seconds (put and patch).")]

_JSON_CONTENT = {"application/json": {"schema": {"type": "object"}}}


def _inline(model: type[BaseModel]) -> dict[str, Any]:
    """The model's JSON Schema with its ``$defs`` inlined (routers cannot add components)."""
    schema = model.model_json_schema(by_alias=True)
    defs = schema.pop("$defs", {})

    def resolve(node: Any) -> Any:
        if isinstance(node, dict):
            ref = node.get("$ref")
            if isinstance(ref, str) and ref.startswith("#/$defs/"):
                return resolve(defs[ref.removeprefix("#/$defs/")])
            return {k: resolve(v) for k, v in node.items()}
        if isinstance(node, list):
            return [resolve(v) for v in node]
        return node

    return dict(resolve(schema))


def _body(model: type[BaseModel] | None, media: str = "application/json") -> dict[str, Any]:
    schema = {} if model is None else _inline(model)
    return {"requestBody": {"required": True, "content": {media: {"schema": schema}}}}


_ETAG_LIST = ETAG_LIST_PATTERN


def _preconditions(*, if_match_required: bool, if_none_match: bool) -> dict[str, Any]:
    """The ``If-Match`` / ``If-None-Match`` header parameters of a write (REG-005)."""
    parameters: list[dict[str, Any]] = [
        {
            "name": "If-Match",
            "in": "header",
            "required": if_match_required,
            "description": '"*" or a list of the document\'s ETags, like "7" (STATE-012)',
            "schema": {"type": "string", "pattern": _ETAG_LIST, "maxLength": 1024},
        }
    ]
    if if_none_match:
        parameters.append(
            {
                "name": "If-None-Match",
                "in": "header",
                "required": False,
                "description": (
                    "* creates only; a write needs this or If-Match (else 428), not both (else 422)"
                ),
                "schema": {"type": "string", "enum": ["*"]},
            }
        )
    return {"parameters": parameters}


def _change_response(change: Change, status: int = 200) -> JSONResponse:
    headers = {} if change.value is None else {"etag": f'"{change.version}"'}
    return JSONResponse(change.to_json(), status_code=status, headers=headers)


def _operation(
    request: Request, kind: OpKind, key: str, *, value: Any = None, patch: Any = None, ttl: Any
) -> Operation:
    return Operation(
        kind=kind,
        key=key,
        value=value,
        patch=patch,
        if_match=parse_if_match(request.headers.get("if-match")),
        create_only=parse_if_none_match(request.headers.get("if-none-match")),
        ttl_seconds=ttl,
    )


@router.post(
    ":whoami",
    summary="Echo the verified signer",
    responses={200: {"content": _JSON_CONTENT}, **problem_responses(401, 413, 429)},
)
async def whoami(request: Request) -> JSONResponse:
    """Verify the request signature and answer with the signer's DID (a signed no-op)."""
    rt = runtime_of(request)
    body = await read_body(request, rt.max_body_bytes)
    verified, _ = await rt.authenticate(request.scope, body)
    return JSONResponse({"did": verified.did})


@router.get(
    "",
    summary="Namespaces tied to an A2A contextId",
    responses={200: {"content": _JSON_CONTENT}, **problem_responses(401, 422, 429)},
)
async def namespaces_for_context(
    request: Request,
    context_id: Annotated[
        str,
        Query(alias="contextId", min_length=1, max_length=256, json_schema_extra=TEXT_SCHEMA),
    ],
) -> JSONResponse:
    """List the namespaces tied to ``contextId`` that the (optionally signed) caller may read."""
    rt = runtime_of(request)
    reader = await rt.caller(request.scope)
    found = await rt.service.namespaces_for_context(context_id, reader)
    return JSONResponse({"namespaces": [ns.to_json() for ns in found]})


@router.put(
    "/{ns}",
    summary="Create a namespace or replace its ACL",
    responses={
        200: {"description": "ACL replaced", "content": _JSON_CONTENT},
        201: {"description": "Created; the signer owns it", "content": _JSON_CONTENT},
        **problem_responses(400, 401, 403, 413, 422, 429),
    },
    openapi_extra=_body(NamespaceRequest),
)
async def put_namespace(ns: NamespacePath, request: Request) -> JSONResponse:
    """Create ``ns`` owned by the signer, or let its owner replace writers/readers/contextId."""
    rt = runtime_of(request)
    check_namespace_name(ns)
    body = await read_body(request, rt.max_body_bytes)
    verified, _ = await rt.authenticate(request.scope, body)
    payload = parse_model(parse_json(body), NamespaceRequest)
    namespace, created = await rt.service.put_namespace(ns, verified.did, payload)
    return JSONResponse(namespace.to_json(), status_code=201 if created else 200)


@router.get(
    "/{ns}",
    summary="Get a namespace",
    responses={200: {"content": _JSON_CONTENT}, **problem_responses(401, 403, 404, 422, 429)},
)
async def get_namespace(ns: NamespacePath, request: Request) -> JSONResponse:
    """Return the namespace's ACL, contextId and usage."""
    rt = runtime_of(request)
    namespace = await rt.service.namespace(ns, await rt.caller(request.scope))
    return JSONResponse(namespace.to_json())


@router.get(
    "/{ns}/docs",
    summary="List keys",
    responses={200: {"content": _JSON_CONTENT}, **problem_responses(400, 401, 403, 404, 422, 429)},
)
async def list_documents(
    ns: NamespacePath,
    request: Request,
    prefix: Annotated[str, Query(max_length=MAX_KEY_LENGTH, pattern=r"^[A-Za-z0-9._~@:/-]*$")] = "",
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    cursor: Annotated[str | None, Query(max_length=1024)] = None,
) -> JSONResponse:
    """Return one page of live documents under ``prefix`` ordered by key (without values)."""
    rt = runtime_of(request)
    check_prefix(prefix)
    purpose = f"state-docs\x00{ns}\x00{prefix}"  # a cursor continues only its own listing
    docs, next_cursor = await rt.service.list_documents(
        ns,
        await rt.caller(request.scope),
        prefix=prefix,
        cursor=rt.cursors.open(purpose, cursor),
        limit=limit,
    )
    next_cursor = rt.cursors.seal(purpose, next_cursor)
    return JSONResponse(
        {"documents": [d.to_json(with_value=False) for d in docs], "nextCursor": next_cursor}
    )


@router.get(
    "/{ns}/docs/{key:path}",
    summary="Get a document",
    responses={
        200: {"content": _JSON_CONTENT, "headers": {"ETag": {"schema": {"type": "string"}}}},
        **problem_responses(401, 403, 404, 422, 429),
    },
)
async def get_document(ns: NamespacePath, key: KeyPath, request: Request) -> JSONResponse:
    """Return the document with its version (also as ETag), writer and times."""
    rt = runtime_of(request)
    doc = await rt.service.get(ns, key, await rt.caller(request.scope))
    return JSONResponse(doc.to_json(), headers={"etag": doc.etag})


@router.put(
    "/{ns}/docs/{key:path}",
    summary="Put a document (compare-and-set or create only)",
    responses={
        200: {"description": "Replaced", "content": _JSON_CONTENT},
        201: {"description": "Created", "content": _JSON_CONTENT},
        **problem_responses(400, 401, 403, 404, 412, 413, 422, 428, 429),
    },
    openapi_extra={
        **_body(None),
        **_preconditions(if_match_required=False, if_none_match=True),
    },
)
async def put_document(
    ns: NamespacePath, key: KeyPath, request: Request, ttl: Ttl = None
) -> JSONResponse:
    """Store the JSON body as the document's next version, under the request's precondition."""
    rt = runtime_of(request)
    check_namespace_name(ns)
    check_key(key)
    body = await read_body(request, rt.max_body_bytes)
    verified, provenance = await rt.authenticate(request.scope, body)
    op = _operation(request, OpKind.PUT, key, value=parse_json(body), ttl=ttl)
    (change,) = await rt.service.apply(ns, [op], verified.did, provenance)
    return _change_response(change, 201 if op.create_only else 200)


@router.patch(
    "/{ns}/docs/{key:path}",
    summary="Patch a document (JSON Patch, RFC 6902) under If-Match",
    responses={
        200: {"content": _JSON_CONTENT},
        **problem_responses(400, 401, 403, 404, 409, 412, 413, 422, 428, 429),
    },
    openapi_extra={
        **_body(None, "application/json-patch+json"),
        **_preconditions(if_match_required=True, if_none_match=False),
    },
)
async def patch_document(
    ns: NamespacePath, key: KeyPath, request: Request, ttl: Ttl = None
) -> JSONResponse:
    """Apply the JSON Patch in the body to the version named by ``If-Match``."""
    rt = runtime_of(request)
    check_namespace_name(ns)
    check_key(key)
    body = await read_body(request, rt.max_body_bytes)
    verified, provenance = await rt.authenticate(request.scope, body)
    op = _operation(request, OpKind.PATCH, key, patch=parse_json(body), ttl=ttl)
    (change,) = await rt.service.apply(ns, [op], verified.did, provenance)
    return _change_response(change)


@router.delete(
    "/{ns}/docs/{key:path}",
    summary="Delete a document under If-Match",
    responses={
        200: {"content": _JSON_CONTENT},
        **problem_responses(400, 401, 403, 404, 412, 413, 422, 428, 429),
    },
    openapi_extra=_preconditions(if_match_required=True, if_none_match=False),
)
async def delete_document(ns: NamespacePath, key: KeyPath, request: Request) -> JSONResponse:
    """Delete the version named by ``If-Match`` (the key keeps its version count)."""
    rt = runtime_of(request)
    check_namespace_name(ns)
    check_key(key)
    body = await read_body(request, rt.max_body_bytes)
    verified, provenance = await rt.authenticate(request.scope, body)
    op = _operation(request, OpKind.DELETE, key, ttl=None)
    (change,) = await rt.service.apply(ns, [op], verified.did, provenance)
    return _change_response(change)


@router.post(
    "/{ns}/batch",
    summary="Apply operations atomically",
    responses={
        200: {"content": _JSON_CONTENT},
        **problem_responses(400, 401, 403, 404, 409, 412, 413, 422, 428, 429),
    },
    openapi_extra=_body(BatchRequest),
)
async def batch(ns: NamespacePath, request: Request) -> JSONResponse:
    """Apply every operation or none; each carries its own precondition."""
    rt = runtime_of(request)
    check_namespace_name(ns)
    body = await read_body(request, rt.max_body_bytes)
    verified, provenance = await rt.authenticate(request.scope, body)
    payload = parse_model(parse_json(body), BatchRequest)
    ops = []
    for index, item in enumerate(payload.operations):
        needs = {"put": "value", "patch": "patch"}.get(item.op)
        if needs is not None and needs not in item.model_fields_set:
            raise InvalidRequestError(
                f"operation {index} ({item.op}) needs {needs!r}",
                [{"path": f"$.operations[{index}].{needs}", "message": f"required for {item.op}"}],
            )
        ops.append(
            Operation(
                kind=OpKind(item.op),
                key=item.key,
                value=item.value,
                patch=item.patch,
                if_match=parse_if_match(item.if_match),
                create_only=parse_if_none_match(item.if_none_match),
                ttl_seconds=item.ttl_seconds,
            )
        )
    changes = await rt.service.apply(ns, ops, verified.did, provenance)
    return JSONResponse({"changes": [c.to_json() for c in changes]})


@router.get(
    "/{ns}/history/{key:path}",
    summary="A document's signed history",
    responses={200: {"content": _JSON_CONTENT}, **problem_responses(401, 403, 404, 422, 429)},
)
async def history(
    ns: NamespacePath,
    key: KeyPath,
    request: Request,
    after: Annotated[int, Query(ge=0, le=2**62)] = 0,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> JSONResponse:
    """Return the key's changes after revision ``after``, each with its signed request."""
    rt = runtime_of(request)
    entries = await rt.service.history(
        ns, key, await rt.caller(request.scope), after=after, limit=limit
    )
    next_after = entries[-1].rev if len(entries) == limit else None
    return JSONResponse({"entries": [e.to_json() for e in entries], "nextAfter": next_after})


# -- watch ---------------------------------------------------------------------------

CLOSE_BAD_REQUEST = 4400
CLOSE_UNAUTHORIZED = 4401
CLOSE_FORBIDDEN = 4403
CLOSE_NOT_FOUND = 4404


def _refusal(exc: WoaError) -> CloseStream:
    """The close of a watch refused or revoked for ``exc`` (STATE-041, STATE-043)."""
    code = {401: CLOSE_UNAUTHORIZED, 403: CLOSE_FORBIDDEN, 404: CLOSE_NOT_FOUND}.get(
        exc.problem.status, CLOSE_BAD_REQUEST
    )
    return CloseStream(code, f"{exc.problem.slug}: {exc.detail}")


@router.websocket("/{ns}/watch")
async def watch(websocket: WebSocket, ns: str) -> None:
    """Stream the namespace's changes under ``prefix`` after ``since``, in revision order.

    The first frame is ``{"type": "hello", "since": N}``; each next frame is a change with
    ``"type": "change"``. Without ``since`` the stream starts at the current revision.
    Every frame is signed by the registry for the connection's ``subscription`` (STATE-044).
    Reconnecting with ``since=<last rev received>`` loses nothing and repeats nothing.
    """
    rt = runtime_of(websocket)
    await websocket.accept()
    try:
        check_namespace_name(ns)
        prefix = check_prefix(websocket.query_params.get("prefix", ""))
        since = parse_since(websocket.query_params.get("since"))
        signer = FrameSigner(rt.frame_key, subscription_of(websocket))
    except (ValueError, WoaError) as exc:
        await websocket.close(code=CLOSE_BAD_REQUEST, reason=str(exc)[:120])
        return

    async def check_access(reader: str | None) -> None:
        namespace = await rt.store.get_namespace(ns)
        if namespace is None:
            raise NamespaceNotFoundError(f"no namespace {ns!r}")
        require_read(namespace.acl, reader, ns)

    try:
        reader = await rt.caller(websocket.scope)
        await check_access(reader)
    except WoaError as exc:
        refusal = _refusal(exc)
        await websocket.close(code=refusal.code, reason=refusal.reason)
        return
    position = await rt.store.last_rev() if since is None else since

    async def send_batch() -> bool:
        nonlocal position
        head = await rt.store.last_rev()
        changes = await rt.service.changes(ns, prefix, position, WATCH_BATCH)
        # The ACL as it stands now, read after the changes: a reader the owner has removed
        # since it connected gets none of them, and the stream ends (STATE-043).
        try:
            await check_access(reader)
        except WoaError as exc:
            raise _refusal(exc) from None
        for change in changes:
            await websocket.send_text(signer.sign({"type": "change", **change.to_json()}))
            position = change.rev
        if len(changes) == WATCH_BATCH:
            return True
        position = max(position, head)  # nothing under the prefix up to head
        return False

    def wait_for_more() -> Coroutine[Any, Any, bool]:
        return rt.store.wait_for_change(position, timeout=rt.settings.watch_poll_seconds)

    await serve_stream(
        websocket,
        send_batch=send_batch,
        wait_for_more=wait_for_more,
        first=signer.sign({"type": "hello", "since": position}),
    )
