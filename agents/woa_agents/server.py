"""The agent's HTTP app (Starlette): card, JSON-RPC endpoint, health and metrics.

Routes: ``GET /.well-known/agent-card.json`` (the signed card, with ``Cache-Control`` and a
strong ``ETag``; ``If-None-Match`` answers 304), ``POST /`` (the A2A JSON-RPC binding), the
A2A HTTP+JSON binding's paths (``/message:send``, ``/tasks/{id}``, ...: :mod:`.rest`),
``GET /healthz`` and ``GET /metrics``. Every response is signed by the agent's key.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

from prometheus_client import CONTENT_TYPE_LATEST
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

from woa_protocol import AmbiguousHostError, HttpResponse, MessageSigner, canonicalize
from woa_protocol.headers import (
    DEFAULT_MAX_HEADER_BYTES,
    DEFAULT_MAX_HEADER_FIELDS,
    HeaderFieldsTooLargeError,
    check_header_limits,
)
from woa_protocol.httpsig import request_host
from woa_protocol.models import AGENT_CARD_PATH  # shared with clients

from .jsonrpc import A2ARequestHandler, JsonRpcEndpoint
from .metrics import AgentMetrics
from .rest import RestEndpoint, rest_operation
from .signing import RequestVerifier

__all__ = ["AGENT_CARD_PATH", "CARD_CACHE_CONTROL", "build_app"]

CARD_CACHE_CONTROL = "public, max-age=300"


def _signed(signer: MessageSigner, status: int, body: bytes, headers: dict[str, str]) -> Response:
    response = HttpResponse(status, headers, body)
    signer.sign_response(response)
    return Response(body, status_code=status, headers=response.headers)


class _AgentApp(Starlette):
    """Starlette, with the JSON-RPC POST taken before routing and middleware (hot path).

    The endpoint catches every error itself, so the error middleware has nothing to add;
    skipping it and the router saves a measurable share of each call (``woa bench agent``).
    """

    def __init__(
        self,
        endpoint: JsonRpcEndpoint,
        rest: RestEndpoint,
        *,
        header_limits: tuple[int, int],
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.endpoint = endpoint
        self.rest = rest
        self.max_header_bytes, self.max_header_fields = header_limits

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "lifespan":  # 431 before any work (MSG-013)
            try:
                check_header_limits(
                    scope["headers"],
                    max_bytes=self.max_header_bytes,
                    max_fields=self.max_header_fields,
                )
            except HeaderFieldsTooLargeError as exc:
                if scope["type"] == "websocket":
                    await send({"type": "websocket.close", "code": 1009, "reason": exc.detail})
                    return
                body = json.dumps(exc.to_problem(str(scope.get("path", "")))).encode()
                headers = {"content-type": "application/problem+json"}
                await _signed(self.endpoint.signer, 431, body, headers)(scope, receive, send)
                return
        if scope["type"] == "http" and scope["method"] == "POST" and scope["path"] == "/":
            await self.endpoint(scope, receive, send)  # it refuses two Host lines itself
            return
        if scope["type"] == "http" and rest_operation(scope["path"]) is not None:
            await self.rest(scope, receive, send)  # likewise
            return
        if scope["type"] == "http":
            try:
                request_host(scope.get("headers", ()))
            except AmbiguousHostError as exc:  # RFC 9112 §3.2: 400, on every route (MSG-011)
                body = json.dumps(exc.to_problem(str(scope.get("path", "")))).encode()
                headers = {"content-type": "application/problem+json"}
                await _signed(self.endpoint.signer, 400, body, headers)(scope, receive, send)
                return
        await super().__call__(scope, receive, send)


def build_app(
    *,
    card: dict[str, Any],
    handler: A2ARequestHandler,
    signer: MessageSigner,
    verifier: RequestVerifier,
    max_body_bytes: int = 1024 * 1024,
    max_header_bytes: int = DEFAULT_MAX_HEADER_BYTES,
    max_header_fields: int = DEFAULT_MAX_HEADER_FIELDS,
    public_url: str | None = None,
    on_startup: Callable[[], Awaitable[None]] | None = None,
    on_shutdown: Callable[[], Awaitable[None]] | None = None,
) -> Starlette:
    """Build the app for one agent (its signed ``card`` as a JSON object)."""
    metrics = AgentMetrics()
    card_body = json.dumps(card, separators=(",", ":"), ensure_ascii=False).encode()
    etag = '"' + hashlib.sha256(canonicalize(card)).hexdigest()[:32] + '"'
    endpoint = JsonRpcEndpoint(
        handler,
        signer=signer,
        verifier=verifier,
        max_body_bytes=max_body_bytes,
        public_url=public_url,
        observe=metrics.observe,
    )

    rest = RestEndpoint(
        handler,
        signer=signer,
        verifier=verifier,
        max_body_bytes=max_body_bytes,
        public_url=public_url,
        observe=metrics.observe,
    )

    async def agent_card(request: Request) -> Response:
        headers = {"cache-control": CARD_CACHE_CONTROL, "etag": etag}
        match = request.headers.get("if-none-match", "")
        if etag in [tag.strip() for tag in match.split(",")] or match.strip() == "*":
            return _signed(signer, 304, b"", headers)
        return _signed(signer, 200, card_body, {**headers, "content-type": "application/json"})

    async def healthz(request: Request) -> Response:
        return _signed(signer, 200, b'{"status":"ok"}', {"content-type": "application/json"})

    async def metrics_route(request: Request) -> Response:
        return _signed(signer, 200, metrics.render(), {"content-type": CONTENT_TYPE_LATEST})

    async def http_error(request: Request, exc: Exception) -> Response:
        status = getattr(exc, "status_code", 500)
        problem = {
            "type": "about:blank",
            "title": {404: "Not Found", 405: "Method Not Allowed"}.get(status, "Error"),
            "status": status,
            "detail": f"{request.method} {request.url.path}",
        }
        body = json.dumps(problem).encode()
        return _signed(signer, status, body, {"content-type": "application/problem+json"})

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        await handler.store.open()
        if on_startup is not None:
            await on_startup()
        try:
            yield
        finally:
            if on_shutdown is not None:
                await on_shutdown()
            await handler.runner.close()
            await handler.store.close()

    app = _AgentApp(
        endpoint,
        rest,
        header_limits=(max_header_bytes, max_header_fields),
        routes=[
            Route(AGENT_CARD_PATH, agent_card, methods=["GET"]),
            Route("/", endpoint, methods=["POST"]),
            Route("/healthz", healthz, methods=["GET"]),
            Route("/metrics", metrics_route, methods=["GET"]),
        ],
        lifespan=lifespan,
        exception_handlers={404: http_error, 405: http_error},
    )
    app.state.metrics = metrics
    app.state.handler = handler
    return app
