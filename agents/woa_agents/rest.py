"""The A2A 1.0 HTTP+JSON (REST) binding, built from the same request handler as JSON-RPC.

Routes (each also under a ``/{tenant}`` prefix): ``POST /message:send``,
``POST /message:stream``, ``GET /tasks``, ``GET /tasks/{id}``, ``POST /tasks/{id}:cancel``,
``GET|POST /tasks/{id}:subscribe``; the push-notification routes answer
PushNotificationNotSupported and ``GET /extendedAgentCard`` ExtendedAgentCardNotConfigured.
Bodies are ProtoJSON request messages, query parameters their members (either spelling);
answers are the operation's result as JSON, streams Server-Sent Events whose ``data`` is a
StreamResponse. Errors are AIP-193 objects (``{"error": {"code", "status", "message",
"details"}}``, details as in JSON-RPC) with the HTTP status of A2A's mapping table (spec
AGT-005). Requests are verified and answers signed exactly as on the JSON-RPC route.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import parse_qsl

from starlette.types import Scope

from woa_protocol import HttpRequest, VerifiedMessage
from woa_protocol.models import (
    CancelTaskRequest,
    GetTaskRequest,
    ListTasksRequest,
    SendMessageRequest,
    SubscribeToTaskRequest,
)

from .endpoint import Exchange, SignedEndpoint
from .errors import JsonRpcCode, RpcError
from .jsonrpc.handler import CallInfo, RawJson, parse_request
from .transport import Answer, check_json_content_type, parse_body, to_json

__all__ = ["HTTP_STATUS", "RestEndpoint", "rest_operation"]

HTTP_STATUS: dict[int, tuple[int, str, str]] = {
    JsonRpcCode.TASK_NOT_FOUND: (404, "NOT_FOUND", "TASK_NOT_FOUND"),
    JsonRpcCode.TASK_NOT_CANCELABLE: (409, "FAILED_PRECONDITION", "TASK_NOT_CANCELABLE"),
    JsonRpcCode.PUSH_NOTIFICATION_NOT_SUPPORTED: (
        400,
        "UNIMPLEMENTED",
        "PUSH_NOTIFICATION_NOT_SUPPORTED",
    ),
    JsonRpcCode.UNSUPPORTED_OPERATION: (400, "UNIMPLEMENTED", "UNSUPPORTED_OPERATION"),
    JsonRpcCode.CONTENT_TYPE_NOT_SUPPORTED: (
        415,
        "INVALID_ARGUMENT",
        "CONTENT_TYPE_NOT_SUPPORTED",
    ),
    JsonRpcCode.INVALID_AGENT_RESPONSE: (502, "INTERNAL", "INVALID_AGENT_RESPONSE"),
    JsonRpcCode.EXTENDED_AGENT_CARD_NOT_CONFIGURED: (
        400,
        "FAILED_PRECONDITION",
        "EXTENDED_AGENT_CARD_NOT_CONFIGURED",
    ),
    JsonRpcCode.EXTENSION_SUPPORT_REQUIRED: (
        400,
        "FAILED_PRECONDITION",
        "EXTENSION_SUPPORT_REQUIRED",
    ),
    JsonRpcCode.VERSION_NOT_SUPPORTED: (400, "UNIMPLEMENTED", "VERSION_NOT_SUPPORTED"),
    JsonRpcCode.PARSE_ERROR: (400, "INVALID_ARGUMENT", "INVALID_REQUEST"),
    JsonRpcCode.INVALID_REQUEST: (400, "INVALID_ARGUMENT", "INVALID_REQUEST"),
    JsonRpcCode.METHOD_NOT_FOUND: (404, "NOT_FOUND", "METHOD_NOT_FOUND"),
    JsonRpcCode.INVALID_PARAMS: (400, "INVALID_ARGUMENT", "INVALID_PARAMS"),
    JsonRpcCode.INTERNAL_ERROR: (500, "INTERNAL", "INTERNAL_ERROR"),
}
"""A2A error code -> (HTTP status, google.rpc.Code name, A2A ErrorInfo reason): A2A 1.0's
mapping table. -32050 and -32051 (this profile's) are 401 UNAUTHENTICATED and 403
PERMISSION_DENIED with their own reasons."""

_TASK = r"/tasks/(?P<id>[^/:]+)"
_ROUTES: list[tuple[re.Pattern[str], frozenset[str], str]] = [
    (re.compile(r"/message:send"), frozenset({"POST"}), "SendMessage"),
    (re.compile(r"/message:stream"), frozenset({"POST"}), "SendStreamingMessage"),
    (re.compile(r"/tasks"), frozenset({"GET"}), "ListTasks"),
    (re.compile(_TASK + ":cancel"), frozenset({"POST"}), "CancelTask"),
    (re.compile(_TASK + ":subscribe"), frozenset({"GET", "POST"}), "SubscribeToTask"),
    (re.compile(_TASK), frozenset({"GET"}), "GetTask"),
    (
        re.compile(_TASK + r"/pushNotificationConfigs(?:/[^/]+)?"),
        frozenset({"GET", "POST", "DELETE"}),
        "push",
    ),
    (re.compile(r"/extendedAgentCard"), frozenset({"GET"}), "extendedCard"),
]
_TENANT = re.compile(r"/[^/]+(?=/)")
_SLASHES = re.compile(r"//+")


def rest_operation(path: str) -> tuple[str, frozenset[str], str | None] | None:
    """The operation a path names (with its allowed methods and task id), or None."""
    path = _SLASHES.sub("/", path)  # a base URL ending in "/" joined to "/message:send"
    for candidate in (path, _TENANT.sub("", path, count=1)):
        for pattern, methods, operation in _ROUTES:
            match = pattern.fullmatch(candidate)
            if match is not None:
                return operation, methods, match.groupdict().get("id")
        if not _TENANT.match(path):
            break
    return None


def _error_body(exc: RpcError) -> tuple[int, bytes]:
    """The AIP-193 error body and its HTTP status.

    ErrorInfo's reason is A2A's for the error type (REST clients map errors by it); the
    profile's finer reason, when there is one, is in its metadata as ``woaReason``.
    """
    if exc.code == JsonRpcCode.UNAUTHENTICATED:
        status, code, reason = 401, "UNAUTHENTICATED", exc.reason
    elif exc.code == JsonRpcCode.FORBIDDEN:
        status, code, reason = 403, "PERMISSION_DENIED", exc.reason
    else:
        status, code, reason = HTTP_STATUS.get(exc.code, (500, "INTERNAL", "INTERNAL_ERROR"))
    if exc.http_status == 413:
        status = 413
    details = exc.to_error()["data"]
    if reason != exc.reason:
        metadata = {**details[0]["metadata"], "woaReason": exc.reason}
        details[0] = {**details[0], "reason": reason, "metadata": metadata}
    body = {"code": status, "status": code, "message": exc.message, "details": details}
    return status, to_json({"error": body})


def _query(scope: Scope) -> dict[str, Any]:
    raw = bytes(scope.get("query_string", b"")).decode("latin-1")
    out: dict[str, Any] = {}
    for key, value in parse_qsl(raw, keep_blank_values=False):
        out[key] = value
    return out


class RestEndpoint(SignedEndpoint):
    """The ASGI endpoint serving the HTTP+JSON binding through an :class:`A2ARequestHandler`."""

    def route(self, scope: Scope) -> tuple[str, Any]:
        """The operation the path names (observed as ``-`` when there is none)."""
        found = rest_operation(str(scope["path"]))
        return (found[0] if found else "-"), found

    async def serve(
        self, scope: Scope, exchange: Exchange, verified: VerifiedMessage | None
    ) -> Answer:
        """Check the route and method, then answer the operation in HTTP+JSON."""
        found: tuple[str, frozenset[str], str | None] | None = exchange.route
        if found is None:
            raise RpcError(JsonRpcCode.METHOD_NOT_FOUND, f"no A2A operation at {scope['path']}")
        operation, methods, task_id = found
        method = exchange.request.method
        if method not in methods:
            raise RpcError(
                JsonRpcCode.METHOD_NOT_FOUND,
                f"{method} is not allowed here; use {', '.join(sorted(methods))}",
                reason="METHOD_NOT_ALLOWED",
            )
        call = CallInfo.of(exchange.request.headers, verified)
        label = verified.label if verified else None
        return await self._dispatch(operation, task_id, scope, exchange.request, call, label)

    def error_body(self, exchange: Exchange, exc: RpcError) -> tuple[int, bytes]:
        """An AIP-193 error object with the HTTP status of A2A's mapping table."""
        return _error_body(exc)

    def internal_error_body(self, exchange: Exchange, exc: Exception) -> tuple[int, bytes]:
        """500 INTERNAL, naming nothing of the exception."""
        return _error_body(RpcError(JsonRpcCode.INTERNAL_ERROR, "internal error"))

    def _body(self, request: HttpRequest) -> dict[str, Any]:
        if not request.body.strip():
            return {}
        body = parse_body(request.body)  # I-JSON, as on JSON-RPC (JCS-006)
        if not isinstance(body, dict):
            raise RpcError(JsonRpcCode.INVALID_PARAMS, "the body must be a JSON object")
        return body

    async def _dispatch(
        self,
        operation: str,
        task_id: str | None,
        scope: Scope,
        request: HttpRequest,
        call: CallInfo,
        label: str | None,
    ) -> Answer:
        h = self.handler
        if operation == "push":
            raise RpcError(
                JsonRpcCode.PUSH_NOTIFICATION_NOT_SUPPORTED, "push notifications are not supported"
            )
        if operation == "extendedCard":
            raise RpcError(
                JsonRpcCode.EXTENDED_AGENT_CARD_NOT_CONFIGURED, "this agent has no extended card"
            )
        result: Any
        if request.body:
            check_json_content_type(request.headers)
        if operation == "SendMessage":
            result = await h.send_message(
                parse_request(SendMessageRequest, self._body(request)), call
            )
        elif operation == "SendStreamingMessage":
            events = await h.send_streaming_message(
                parse_request(SendMessageRequest, self._body(request)), call
            )
            return self._stream(request, events)
        elif operation == "SubscribeToTask":
            params = {**self._body(request), "id": task_id}
            events = await h.subscribe_to_task(parse_request(SubscribeToTaskRequest, params), call)
            return self._stream(request, events)
        elif operation == "GetTask":
            params = {**_query(scope), "id": task_id}
            result = await h.get_task(parse_request(GetTaskRequest, params), call)
        elif operation == "CancelTask":
            params = {**self._body(request), "id": task_id}
            result = await h.cancel_task(parse_request(CancelTaskRequest, params), call)
        else:  # ListTasks
            result = await h.list_tasks(parse_request(ListTasksRequest, _query(scope)), call)
        body = bytes(result) if isinstance(result, RawJson) else to_json(result)
        return self.signed_json(request, 200, body, label)

    def _stream(self, request: HttpRequest, events: AsyncIterator[dict[str, Any]]) -> Answer:
        return self.signed_stream(request, events, to_json, lambda exc: _error_body(exc)[1])
