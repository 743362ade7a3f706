"""ASGI middleware answering before any route runs: body size, per-address rate, crashes."""

from __future__ import annotations

import logging

from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from woa_protocol import AmbiguousHostError, WoaError
from woa_protocol.headers import check_header_limits
from woa_protocol.httpsig import request_host

from .limits import TokenBucketLimiter
from .problems import PROBLEM_CONTENT_TYPE, PayloadTooLargeError, RateLimitedError

__all__ = [
    "AddressRateLimitMiddleware",
    "BodyLimitMiddleware",
    "HeaderLimitMiddleware",
    "HostCheckMiddleware",
    "InternalErrorMiddleware",
    "problem_response",
]

log = logging.getLogger(__name__)


def problem_response(error: WoaError, instance: str | None = None) -> JSONResponse:
    """Render ``error`` as ``application/problem+json`` (with Retry-After for 429)."""
    headers = {}
    if isinstance(error, RateLimitedError):
        headers["retry-after"] = str(error.retry_after)
    return JSONResponse(
        error.to_problem(instance),
        status_code=error.problem.status,
        media_type=PROBLEM_CONTENT_TYPE,
        headers=headers,
    )


class HostCheckMiddleware:
    """Answer 400 ``ambiguous-host`` to a request with two Host lines (RFC 9112 §3.2, MSG-011).

    Such a request has no single authority: a proxy may route it by one Host while a
    verifier rebuilds ``@target-uri`` from the other. h11 refuses it itself; httptools
    (uvicorn's default parser) passes it on, so the registry checks every HTTP request.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Refuse an ambiguous request before any route or signature check runs."""
        if scope["type"] in ("http", "websocket"):
            try:
                request_host(scope.get("headers", ()))
            except AmbiguousHostError as exc:
                if scope["type"] == "websocket":  # refuse the upgrade (HTTP 403 from the server)
                    await send({"type": "websocket.close", "code": 1008, "reason": exc.detail})
                    return
                await problem_response(exc, scope.get("path"))(scope, receive, send)
                return
        await self.app(scope, receive, send)


class HeaderLimitMiddleware:
    """Answer 431 to a request whose header fields are too many or too large (MSG-013).

    Sits directly inside the response signer, so the refusal is signed and no route,
    signature check or rate limiter runs for it; a WebSocket upgrade is refused.
    """

    def __init__(self, app: ASGIApp, *, max_bytes: int, max_fields: int) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.max_fields = max_fields

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Refuse oversized header sections before anything else runs."""
        if scope["type"] in ("http", "websocket"):
            try:
                check_header_limits(
                    scope.get("headers", ()), max_bytes=self.max_bytes, max_fields=self.max_fields
                )
            except WoaError as exc:
                if scope["type"] == "websocket":
                    await send({"type": "websocket.close", "code": 1009, "reason": exc.detail})
                    return
                await problem_response(exc, scope.get("path"))(scope, receive, send)
                return
        await self.app(scope, receive, send)


class BodyLimitMiddleware:
    """Refuse a request whose declared Content-Length exceeds the limit, before reading it.

    Bodies without a length (chunked) are counted while read (see ``body.read_body``).
    """

    def __init__(self, app: ASGIApp, *, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Answer 413 early when the declared length is too large."""
        if scope["type"] == "http":
            for name, value in scope.get("headers", []):
                if name == b"content-length" and value.isdigit() and int(value) > self.max_bytes:
                    error = PayloadTooLargeError(
                        f"body of {int(value)} bytes exceeds {self.max_bytes}", limit=self.max_bytes
                    )
                    await problem_response(error, scope.get("path"))(scope, receive, send)
                    return
        await self.app(scope, receive, send)


class AddressRateLimitMiddleware:
    """Token bucket per client address over every HTTP request and WebSocket handshake."""

    def __init__(self, app: ASGIApp, *, limiter: TokenBucketLimiter) -> None:
        self.app = app
        self.limiter = limiter

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Answer 429 with Retry-After when the client's bucket is empty."""
        if scope["type"] in ("http", "websocket") and self.limiter.enabled:
            client = scope.get("client")
            address = client[0] if client else "unknown"
            retry = self.limiter.acquire(address)
            if retry is not None:
                error = RateLimitedError(f"too many requests from {address}", retry_after=retry)
                if scope["type"] == "websocket":
                    await send({"type": "websocket.close", "code": 1013, "reason": "rate limited"})
                    return
                await problem_response(error, scope.get("path"))(scope, receive, send)
                return
        await self.app(scope, receive, send)


class InternalErrorMiddleware:
    """Turn an unexpected exception into a 500 problem, inside the signing middleware.

    Starlette's own handler for unexpected errors sits outside all user middleware, so its
    answer would go out unsigned; this one is signed like every other response.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Run the app; on an exception before the response started, answer 500."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, tracking_send)
        except Exception:
            log.exception("unhandled error on %s %s", scope.get("method"), scope.get("path"))
            if started:
                raise
            error = WoaError("the registry failed to answer; the error was logged")
            await problem_response(error, scope.get("path"))(scope, receive, send)
