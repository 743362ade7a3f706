"""The JSON-RPC 2.0 endpoint (A2A 1.0 binding), built from a request handler.

The endpoint reads the body (refusing more than ``max_body_bytes``), verifies the request
signature against the agent's policy, parses the JSON-RPC envelope, dispatches by method
name, and signs whatever it answers: a JSON response bound to the request's signature, or
an SSE stream whose head is signed. Errors keep the agent serving: each becomes the
documented JSON-RPC error (spec AGT-040).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any, TypeVar, Unpack

from pydantic import BaseModel
from starlette.types import Scope

from woa_protocol import VerifiedMessage
from woa_protocol.models import (
    CancelTaskRequest,
    GetTaskRequest,
    ListTasksRequest,
    SendMessageRequest,
    SubscribeToTaskRequest,
)

from ..endpoint import EndpointOptions, Exchange, SignedEndpoint
from ..errors import JsonRpcCode, RpcError
from ..transport import Answer, check_json_content_type, parse_body, to_json
from .handler import A2ARequestHandler, CallInfo, RawJson, parse_request

__all__ = ["JsonRpcEndpoint", "METHODS"]

METHODS = (
    "SendMessage",
    "SendStreamingMessage",
    "GetTask",
    "ListTasks",
    "CancelTask",
    "SubscribeToTask",
)
"""The A2A operations this binding serves."""

_PUSH = (
    "CreateTaskPushNotificationConfig",
    "GetTaskPushNotificationConfig",
    "ListTaskPushNotificationConfigs",
    "DeleteTaskPushNotificationConfig",
)


def _result_json(request_id: Any, result: Any) -> bytes:
    """The JSON-RPC success response; a :class:`RawJson` result is copied in as it is."""
    if isinstance(result, RawJson):  # same bytes as _to_json would write for the envelope
        return b'{"jsonrpc":"2.0","id":' + to_json(request_id) + b',"result":' + result + b"}"
    return to_json({"jsonrpc": "2.0", "id": request_id, "result": result})


M = TypeVar("M", bound=BaseModel)
T = TypeVar("T")


def _typed(
    model: type[M], operation: Callable[[M, CallInfo], Awaitable[T]]
) -> Callable[[Any, CallInfo], Awaitable[T]]:
    """The operation taking JSON-RPC ``params``: parsed into its request model first."""

    async def call(params: Any, info: CallInfo) -> T:
        return await operation(parse_request(model, params), info)

    return call


class JsonRpcEndpoint(SignedEndpoint):
    """The ASGI endpoint serving :data:`METHODS` through an :class:`A2ARequestHandler`."""

    def __init__(self, handler: A2ARequestHandler, **options: Unpack[EndpointOptions]) -> None:
        super().__init__(handler, **options)
        self._unary: dict[str, Callable[[Any, CallInfo], Awaitable[Any]]] = {
            "SendMessage": _typed(SendMessageRequest, handler.send_message),
            "GetTask": _typed(GetTaskRequest, handler.get_task),
            "ListTasks": _typed(ListTasksRequest, handler.list_tasks),
            "CancelTask": _typed(CancelTaskRequest, handler.cancel_task),
        }
        self._streaming: dict[
            str, Callable[[Any, CallInfo], Awaitable[AsyncIterator[dict[str, Any]]]]
        ] = {
            "SendStreamingMessage": _typed(SendMessageRequest, handler.send_streaming_message),
            "SubscribeToTask": _typed(SubscribeToTaskRequest, handler.subscribe_to_task),
        }

    async def serve(
        self, scope: Scope, exchange: Exchange, verified: VerifiedMessage | None
    ) -> Answer:
        """Parse the envelope, dispatch by method name, answer in JSON-RPC."""
        request = exchange.request
        check_json_content_type(request.headers)
        body = parse_body(request.body)
        if isinstance(body, dict):
            rid = body.get("id")
            exchange.request_id = (
                rid if isinstance(rid, str | int) and not isinstance(rid, bool) else None
            )
        method = exchange.operation = self._check_envelope(body)
        call = CallInfo.of(request.headers, verified)
        params = body.get("params", {})
        request_id = exchange.request_id
        if method in self._streaming:
            events = await self._streaming[method](params, call)
            return self.signed_stream(
                request,
                events,
                lambda event: to_json({"jsonrpc": "2.0", "id": request_id, "result": event}),
                lambda exc: to_json({"jsonrpc": "2.0", "id": request_id, "error": exc.to_error()}),
            )
        result = await self._unary[method](params, call)
        label = verified.label if verified else None
        return self.signed_json(request, 200, _result_json(request_id, result), label)

    def error_body(self, exchange: Exchange, exc: RpcError) -> tuple[int, bytes]:
        """A JSON-RPC error response, with the error's HTTP status."""
        error = {"jsonrpc": "2.0", "id": exchange.request_id, "error": exc.to_error()}
        return exc.http_status, to_json(error)

    def internal_error_body(self, exchange: Exchange, exc: Exception) -> tuple[int, bytes]:
        """-32603 naming the exception's type, over 200 as JSON-RPC errors are."""
        internal = RpcError(JsonRpcCode.INTERNAL_ERROR, f"internal error: {type(exc).__name__}")
        return self.error_body(exchange, internal)

    def _check_envelope(self, body: Any) -> str:
        if isinstance(body, list):
            raise RpcError(JsonRpcCode.INVALID_REQUEST, "batch requests are not supported")
        if not isinstance(body, dict):
            raise RpcError(JsonRpcCode.INVALID_REQUEST, "a JSON-RPC request is an object")
        if body.get("jsonrpc") != "2.0":
            raise RpcError(JsonRpcCode.INVALID_REQUEST, "'jsonrpc' must be exactly '2.0'")
        rid = body.get("id")
        if "id" not in body or isinstance(rid, bool) or not isinstance(rid, str | int | None):
            raise RpcError(JsonRpcCode.INVALID_REQUEST, "'id' must be a string, integer or null")
        method = body.get("method")
        if not isinstance(method, str) or not method:
            raise RpcError(JsonRpcCode.INVALID_REQUEST, "'method' must be a non-empty string")
        if "params" in body and not isinstance(body["params"], dict):
            raise RpcError(JsonRpcCode.INVALID_PARAMS, "'params' must be an object")
        if method in self._unary or method in self._streaming:
            return method
        if method in _PUSH:
            raise RpcError(
                JsonRpcCode.PUSH_NOTIFICATION_NOT_SUPPORTED, "push notifications are not supported"
            )
        if method == "GetExtendedAgentCard":
            raise RpcError(
                JsonRpcCode.EXTENDED_AGENT_CARD_NOT_CONFIGURED, "this agent has no extended card"
            )
        raise RpcError(JsonRpcCode.METHOD_NOT_FOUND, f"method {method!r} not found")
