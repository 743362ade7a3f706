"""A Content-Security-Policy on the dashboard and the API docs: same-origin assets only.

The pages ship every asset (REG-101); the policy makes the browser refuse anything else
before it is fetched (ReDoc, for one, links a logo from its vendor's CDN), and forbids
framing the pages or posting their forms elsewhere.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

__all__ = ["HTML_PREFIXES", "POLICY", "PagePolicyMiddleware"]

POLICY = (
    "default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline';"
    " img-src 'self' data:; worker-src 'self' blob:; connect-src 'self'; base-uri 'self';"
    " form-action 'self'; frame-ancestors 'none'"
)
"""Inline scripts and styles stay allowed: Swagger UI and ReDoc start from inline code."""

HTML_PREFIXES = ("/ui", "/docs", "/redoc")
"""Paths whose responses carry the policy."""


class PagePolicyMiddleware:
    """Add ``Content-Security-Policy`` to responses under :data:`HTML_PREFIXES`."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Pass through, adding the header to matching HTTP responses."""
        path = scope.get("path", "")
        if scope["type"] != "http" or not path.startswith(HTML_PREFIXES):
            await self.app(scope, receive, send)
            return

        async def with_policy(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [
                    *message.get("headers", []),
                    (b"content-security-policy", POLICY.encode()),
                ]
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, with_policy)
