"""One spelling per state resource: percent-encoding in a state path is refused (STATE-006).

Namespace names and keys use only characters that never need percent-encoding (STATE-001),
so an encoded octet in a state path is always a second spelling of some resource: ``a%2Fb``
would reach the key ``a/b`` while the signed ``@target-uri`` in its history says ``a%2Fb``,
and ``..%2F..%2Fetc`` would be routed as a path of several segments. The raw request path
is checked before routing, so each gets the same 422 ``invalid-request``.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Receive, Scope, Send

from ..middleware import problem_response
from ..problems import InvalidRequestError

__all__ = ["STATE_PREFIX", "LiteralStatePathMiddleware"]

STATE_PREFIX = b"/v1/state/"


class LiteralStatePathMiddleware:
    """Answer 422 to a state request whose path holds a percent-encoded octet."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Refuse before routing; everything else passes through."""
        if scope["type"] in ("http", "websocket"):
            raw = scope.get("raw_path") or scope.get("path", "").encode("utf-8")
            if raw.startswith(STATE_PREFIX) and b"%" in raw:
                if scope["type"] == "websocket":
                    reason = "percent-encoded state path"
                    await send({"type": "websocket.close", "code": 1008, "reason": reason})
                    return
                error = InvalidRequestError(
                    "state paths are written literally: namespace names and keys never need "
                    f"percent-encoding, and {raw.decode('latin-1')[:200]!r} uses it",
                    [{"path": "path", "message": "percent-encoded octet"}],
                )
                await problem_response(error, scope.get("path"))(scope, receive, send)
                return
        await self.app(scope, receive, send)
