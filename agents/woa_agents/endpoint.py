"""One request's path through either A2A binding (JSON-RPC, HTTP+JSON).

:class:`SignedEndpoint` reads the body (refusing more than ``max_body_bytes``), verifies the
request signature, hands the verified request to its binding, signs whatever is answered,
turns errors into the binding's error answer, and reports each call to ``observe``.
"""

from __future__ import annotations

import logging
import time
from abc import ABC, abstractmethod
from collections.abc import AsyncIterator, Callable
from typing import TYPE_CHECKING, Any, Required, TypedDict

from starlette.responses import StreamingResponse
from starlette.types import Receive, Scope, Send

from woa_protocol import (
    AmbiguousHostError,
    HttpRequest,
    HttpResponse,
    MessageSigner,
    VerifiedMessage,
)
from woa_protocol.httpsig import decode_headers, target_uri

from .errors import JsonRpcCode, RpcError
from .signing import RequestVerifier
from .transport import Answer, ClientGoneError, JsonAnswer, TooLargeError, read_body

if TYPE_CHECKING:  # the handler's package imports its binding, which imports this module
    from .jsonrpc.handler import A2ARequestHandler

__all__ = ["EndpointOptions", "Exchange", "SignedEndpoint"]

log = logging.getLogger(__name__)


class EndpointOptions(TypedDict, total=False):
    """The keyword options of :class:`SignedEndpoint` (a binding passes them on)."""

    signer: Required[MessageSigner]
    verifier: Required[RequestVerifier]
    max_body_bytes: int
    public_url: str | None
    observe: Callable[[str, str, float], None] | None


class Exchange:
    """One request in flight: what its answer is signed against, and what is observed.

    ``route`` is the binding's own (the REST route, or None); ``request_id`` the JSON-RPC id.
    """

    __slots__ = ("operation", "outcome", "request", "request_id", "route")

    def __init__(self, request: HttpRequest, operation: str, route: Any) -> None:
        self.request = request
        self.operation = operation
        self.outcome = "ok"
        self.route = route
        self.request_id: Any = None


class SignedEndpoint(ABC):
    """An ASGI endpoint that verifies each request and signs each answer (spec AGT-040).

    A binding says how a request is routed (:meth:`route`), served (:meth:`serve`) and how
    an error reads (:meth:`error_body`, :meth:`internal_error_body`).
    """

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

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """ASGI entry point: answer one request."""
        answer = await self.handle(scope, receive)
        if answer is not None:
            await answer(scope, receive, send)

    def route(self, scope: Scope) -> tuple[str, Any]:
        """The operation's name as observed before the body is read, and the binding's route."""
        return "-", None

    @abstractmethod
    async def serve(
        self, scope: Scope, exchange: Exchange, verified: VerifiedMessage | None
    ) -> Answer:
        """Answer a request whose body is read and whose signature is verified."""

    @abstractmethod
    def error_body(self, exchange: Exchange, exc: RpcError) -> tuple[int, bytes]:
        """The binding's error answer: HTTP status and body."""

    @abstractmethod
    def internal_error_body(self, exchange: Exchange, exc: Exception) -> tuple[int, bytes]:
        """The binding's answer to an unexpected exception: HTTP status and body."""

    async def handle(self, scope: Scope, receive: Receive) -> Answer | None:
        """Handle one request; return the (signed) answer, or None if the client left."""
        started = time.perf_counter()
        headers = decode_headers(scope["headers"])
        request = HttpRequest(str(scope["method"]), "", headers, normalized=True)
        exchange = Exchange(request, *self.route(scope))
        try:
            try:
                request.url = target_uri(scope, self.public_url)
            except AmbiguousHostError as exc:  # no single @target-uri to verify (MSG-011)
                raise RpcError(
                    JsonRpcCode.INVALID_REQUEST,
                    exc.detail,
                    reason="AMBIGUOUS_HOST",
                    metadata={"type": exc.problem.uri},
                    http_status=400,
                ) from None
            try:
                request.body = await read_body(receive, headers, self.max_body_bytes)
            except ClientGoneError:
                exchange.outcome = "CLIENT_DISCONNECTED"
                return None
            except TooLargeError:
                raise RpcError(
                    JsonRpcCode.INVALID_REQUEST,
                    f"payload too large: the limit is {self.max_body_bytes} bytes",
                    reason="PAYLOAD_TOO_LARGE",
                    metadata={"maxBodyBytes": str(self.max_body_bytes)},
                    http_status=413,
                ) from None
            return await self.serve(scope, exchange, self.verifier.verify(request))
        except RpcError as exc:
            exchange.outcome = exc.reason
            return self.signed_json(request, *self.error_body(exchange, exc))
        except Exception as exc:  # the agent keeps serving whatever a handler does
            log.exception("internal error in %s", exchange.operation)
            exchange.outcome = "INTERNAL_ERROR"
            return self.signed_json(request, *self.internal_error_body(exchange, exc))
        finally:
            if self._observe is not None:
                self._observe(exchange.operation, exchange.outcome, time.perf_counter() - started)

    def signed_json(
        self, request: HttpRequest, status: int, body: bytes, label: str | None = None
    ) -> Answer:
        """A JSON answer signed and bound to the request (by its verified ``label``, if any)."""
        response = HttpResponse(
            status, {"content-type": "application/json"}, body, request=request, normalized=True
        )
        if label is not None:  # already verified: bind without parsing the fields again
            self.signer.sign_response(response, label)
        else:
            self.signer.sign_reply(response)
        return JsonAnswer(status, response.headers, body)

    def signed_stream(
        self,
        request: HttpRequest,
        events: AsyncIterator[dict[str, Any]],
        data: Callable[[dict[str, Any]], bytes],
        error: Callable[[RpcError], bytes],
    ) -> Answer:
        """Server-Sent Events under a signed head: ``data`` per event, ``error`` on failure."""
        head = HttpResponse(200, {"content-type": "text/event-stream"}, request=request)
        self.signer.sign_reply(head, stream=True)

        async def body() -> AsyncIterator[bytes]:
            try:
                async for event in events:
                    yield b"data: " + data(event) + b"\n\n"
            except RpcError as exc:
                yield b"event: error\ndata: " + error(exc) + b"\n\n"

        headers = dict(head.headers)  # content-type as signed (no charset appended)
        headers["cache-control"] = "no-cache"
        return StreamingResponse(body(), headers=headers)
