"""Running the registry under uvicorn on a socket bound before the app starts.

Binding first lets ``port=0`` pick a free port whose number the app (mDNS, printed URL)
knows before serving.
"""

from __future__ import annotations

import socket
from collections.abc import Callable

import uvicorn

from .app import create_app
from .settings import RegistrySettings

__all__ = ["bind_socket", "serve"]


def bind_socket(host: str, port: int) -> socket.socket:
    """Return a TCP socket bound to ``host:port`` (IPv4 or IPv6), not yet listening."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    family, kind, proto, _, address = infos[0]
    sock = socket.socket(family, kind, proto)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(address)
    sock.set_inheritable(True)
    return sock


def serve(
    settings: RegistrySettings,
    *,
    on_ready: Callable[[RegistrySettings], None] | None = None,
    log_level: str = "info",
) -> None:
    """Serve until interrupted; ``on_ready`` gets the settings with the actual port."""
    sock = bind_socket(settings.host, settings.port)
    settings = settings.model_copy(update={"port": sock.getsockname()[1]})
    app = create_app(settings)
    config = uvicorn.Config(
        app, log_level=log_level, lifespan="on", ws="websockets-sansio", server_header=False
    )
    server = uvicorn.Server(config)
    if on_ready is not None:
        on_ready(settings)
    try:
        server.run(sockets=[sock])
    finally:
        sock.close()
