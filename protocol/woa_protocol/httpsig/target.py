"""The target URI a client signed, rebuilt from what an ASGI server received (MSG-011).

A verifier needs ``@target-uri`` exactly as the client wrote it: the request target's raw
bytes (percent-encoding kept, so ``%2F`` stays ``%2F``), the scheme, and the one ``Host``
field. A request with two ``Host`` lines has no single authority: RFC 9112 §3.2 says a
server answers it 400, and :func:`request_host` raises :class:`AmbiguousHostError` for it.
Pure functions over an ASGI scope (a dict): no I/O.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from ..errors import AmbiguousHostError

__all__ = ["request_host", "target_uri"]

_WEBSOCKET_SCHEMES = {"ws": "http", "wss": "https"}
"""A WebSocket upgrade is an HTTP request: its target URI has the HTTP scheme."""


def request_host(headers: Iterable[tuple[bytes, bytes]]) -> str | None:
    """The ``Host`` field of ASGI header lines (names lower-case), or None when absent.

    Raises :class:`AmbiguousHostError` when there is more than one ``Host`` line.
    """
    host: str | None = None
    for name, value in headers:
        if name == b"host":
            if host is not None:
                raise AmbiguousHostError(
                    "the request has more than one Host header field (RFC 9112 §3.2)"
                )
            host = value.decode("latin-1").strip(" \t")
    return host


def target_uri(scope: Mapping[str, Any], public_url: str | None = None) -> str:
    """The absolute request URI as the client wrote it (raw path, raw query).

    With ``public_url`` (a server behind a proxy) scheme and authority come from it;
    otherwise from the scope's scheme and its one ``Host`` field (the server's address
    when there is none). Raises :class:`AmbiguousHostError` for two ``Host`` lines.
    """
    raw_path = scope.get("raw_path")  # without it (some servers) only the decoded path is left
    path = bytes(raw_path).split(b"?", 1)[0].decode("latin-1") if raw_path else str(scope["path"])
    root = str(scope.get("root_path", ""))
    if root and not path.startswith(root):  # a proxy took the mount prefix off
        path = root + path
    query = bytes(scope.get("query_string", b"")).decode("latin-1")
    host = request_host(scope.get("headers", ()))
    if public_url:
        base = public_url.rstrip("/")
    else:
        if host is None:
            server = scope.get("server") or ("localhost", None)
            host = str(server[0]) if server[1] is None else f"{server[0]}:{server[1]}"
        raw_scheme = str(scope.get("scheme", "http"))
        base = f"{_WEBSOCKET_SCHEMES.get(raw_scheme, raw_scheme)}://{host}"
    return base + path + (f"?{query}" if query else "")
