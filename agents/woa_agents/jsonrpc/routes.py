"""The JSON-RPC 2.0 endpoint (A2A 1.0 binding), built from a request handler.

The endpoint reads the body (refusing more than ``max_body_bytes``), verifies the request
signature against the agent's policy, parses the JSON-RPC envelope, dispatches by method
name, and signs whatever it answers: a JSON response bound to the request's signature, or
an SSE stream whose head is signed. Errors keep the agent serving: each becomes the
documented JSON-RPC error (spec AGT-040).
"""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any, TypeVar

from pydantic import BaseModel
from starlette.responses import StreamingResponse
from starlette.types import Receive, Scope, Send

from woa_protocol import (
    AmbiguousHostError,
    HttpRequest,
    HttpResponse,
    MessageSigner,
)
from woa_protocol.httpsig import decode_headers, target_uri
from woa_protocol.models import (
    CancelTaskRequest,
    GetTaskRequest,
    ListTasksRequest,
    SendMessageRequest,
    SubscribeToTaskRequest,
)

from ..errors import JsonRpcCode, RpcError
from ..signing import RequestVerifier
from ..tracing import TraceContext
from ..transport import (
    Answer,
    ClientGoneError,
    JsonAnswer,
    TooLargeError,
    check_json_content_type,
    parse_body,
    read_body,
    to_json,
)
from .handler import A2ARequestHandler, CallInfo, RawJson, parse_request

__all__ = ["JsonRpcEndpoint", "METHODS"]

log = logging.getLogger(__name__)

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
_JSON = "application/json"


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


class JsonRpcEndpoint:
    """The ASGI endpoint serving :data:`METHODS` through an :class:`A2ARequestHandler`."""

    def __init__(
        self,
        handler: A2ARequestHandler,
        *,
        signer: MessageSigner,
        verifier: RequestVerifier,
        max_body_bytes: int = 1024 * 1024,
        public_url: str | None = None,
        observe: Callable[[str, str, float], None] | None = None,
    ) -> None:
        self.handler = handler
        self.signer = signer
        self.verifier = verifier
        self.max_body_bytes = max_body_bytes
        self.public_url = public_url
        self._observe = observe
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

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """ASGI entry point: answer one POST."""
        answer = await self.handle(scope, receive)
        if answer is not None:
            await answer(scope, receive, send)

    async def handle(self, scope: Scope, receive: Receive) -> Answer | None:
        """Handle one POST; return the (signed) answer, or None if the client left."""
        started = time.perf_counter()
        method = "-"
        outcome = "ok"
        headers = decode_headers(scope["headers"])
        http_request = HttpRequest("POST", "", headers, normalized=True)
        request_id: Any = None
        try:
            try:
                http_request.url = target_uri(scope, self.public_url)
            except AmbiguousHostError as exc:  # no single @target-uri to verify (MSG-011)
                raise RpcError(
                    JsonRpcCode.INVALID_REQUEST,
                    exc.detail,
                    reason="AMBIGUOUS_HOST",
                    metadata={"type": exc.problem.uri},
                    http_status=400,
                ) from None
            try:
                http_request.body = await read_body(receive, headers, self.max_body_bytes)
            except ClientGoneError:
                outcome = "CLIENT_DISCONNECTED"
                return None
            except TooLargeError:
                raise RpcError(
                    JsonRpcCode.INVALID_REQUEST,
                    f"payload too large: the limit is {self.max_body_bytes} bytes",
                    reason="PAYLOAD_TOO_LARGE",
                    metadata={"maxBodyBytes": str(self.max_body_bytes)},
                    http_status=413,
                ) from None
            verified = self.verifier.verify(http_request)
            check_json_content_type(headers)
            body = parse_body(http_request.body)
            if isinstance(body, dict):
                rid = body.get("id")
                request_id = (
                    rid if isinstance(rid, str | int) and not isinstance(rid, bool) else None
                )
            method = self._check_envelope(body)
            version = http_request.headers.get("a2a-version")
            if version and not version.startswith("1."):
                raise RpcError(
                    JsonRpcCode.VERSION_NOT_SUPPORTED,
                    f"A2A-Version {version} is not supported; this agent speaks 1.0",
                )
            trace = TraceContext.parse(http_request.headers.get("traceparent"))
            call = CallInfo(
                caller_did=verified.did if verified else None,
                trace=trace.child() if trace else TraceContext.new(),
            )
            params = body.get("params", {})
            if method in self._streaming:
                events = await self._streaming[method](params, call)
                return self._stream(http_request, request_id, events)
            result = await self._unary[method](params, call)
            return self._json(
                http_request,
                200,
                _result_json(request_id, result),
                verified.label if verified else None,
            )
        except RpcError as exc:
            outcome = exc.reason
            error = {"jsonrpc": "2.0", "id": request_id, "error": exc.to_error()}
            return self._json(http_request, exc.http_status, to_json(error))
        except Exception as exc:  # the agent keeps serving whatever a handler does
            log.exception("internal error in %s", method)
            outcome = "INTERNAL_ERROR"
            internal = RpcError(JsonRpcCode.INTERNAL_ERROR, f"internal error: {type(exc).__name__}")
            return self._json(
                http_request,
                200,
                to_json({"jsonrpc": "2.0", "id": request_id, "error": internal.to_error()}),
            )
        finally:
            if self._observe is not None:
                self._observe(method, outcome, time.perf_counter() - started)

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

    def _json(
        self,
        request: HttpRequest,
        status: int,
        body: bytes,
        label: str | None = None,
    ) -> Answer:
        response = HttpResponse(
            status, {"content-type": _JSON}, body, request=request, normalized=True
        )
        if label is not None:  # already verified: bind without parsing the fields again
            self.signer.sign_response(response, label)
        else:
            self.signer.sign_reply(response)
        return JsonAnswer(status, response.headers, body)

    def _stream(
        self, request: HttpRequest, request_id: Any, events: AsyncIterator[dict[str, Any]]
    ) -> Answer:
        head = HttpResponse(200, {"content-type": "text/event-stream"}, request=request)
        self.signer.sign_reply(head, stream=True)

        async def body() -> AsyncIterator[bytes]:
            try:
                async for event in events:
                    frame = {"jsonrpc": "2.0", "id": request_id, "result": event}
                    yield b"data: " + to_json(frame) + b"\n\n"
            except RpcError as exc:
                frame = {"jsonrpc": "2.0", "id": request_id, "error": exc.to_error()}
                yield b"event: error\ndata: " + to_json(frame) + b"\n\n"

        headers = dict(head.headers)  # content-type as signed (no charset appended)
        headers["cache-control"] = "no-cache"
        return StreamingResponse(body(), headers=headers)
