"""Helpers for the registry tests: cards, signed requests, a live server, snapshots."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import uvicorn

from woa_protocol import HttpRequest, MessageSigner, SigningKey, sign_card
from woa_protocol.models import (
    AgentCapabilities,
    AgentCard,
    AgentInterface,
    AgentSkill,
    ModelFamily,
    SkillProfile,
    WoaCardExtension,
    attach_extension,
)
from woa_registry import RegistrySettings, create_app
from woa_registry.storage import AgentStore, SearchQuery

BASE = "http://registry.test"
REGISTRY_KEY = SigningKey.from_seed(bytes(range(32)))

TEXT_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["text"],
    "properties": {"text": {"type": "string"}},
    "additionalProperties": False,
}
IMAGE_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["image"],
    "properties": {"image": {"type": "string", "contentEncoding": "base64"}},
}


@dataclass
class SkillSpec:
    """What a test card's skill looks like."""

    id: str = "summarize"
    name: str = "Summarize"
    description: str = "Summarizes English text"
    tags: tuple[str, ...] = ("text", "summary")
    family: ModelFamily = ModelFamily.SLM
    input_schema: dict[str, Any] | None = None
    output_schema: dict[str, Any] | None = None
    input_modes: tuple[str, ...] = ("application/json",)
    output_modes: tuple[str, ...] = ("application/json",)


def make_card(
    key: SigningKey,
    *,
    name: str = "Text agent",
    description: str = "Works with text",
    skills: list[SkillSpec] | None = None,
    url: str = "http://127.0.0.1:9/a2a",
    extension_did: str | None = None,
    signer: SigningKey | None = None,
    with_extension: bool = True,
) -> dict[str, Any]:
    """Return a card for ``key``'s agent, signed by ``signer`` (default ``key``)."""
    skills = skills if skills is not None else [SkillSpec()]
    card = AgentCard(
        name=name,
        description=description,
        supported_interfaces=[AgentInterface(url=url, protocol_binding="JSONRPC")],
        version="1.0.0",
        capabilities=AgentCapabilities(streaming=True),
        default_input_modes=["application/json"],
        default_output_modes=["application/json"],
        skills=[
            AgentSkill(
                id=s.id,
                name=s.name,
                description=s.description,
                tags=list(s.tags),
                input_modes=list(s.input_modes),
                output_modes=list(s.output_modes),
            )
            for s in skills
        ],
    )
    if with_extension:
        extension = WoaCardExtension(
            did=extension_did or key.did,
            skills={
                s.id: SkillProfile(
                    input_schema=s.input_schema or TEXT_SCHEMA,
                    output_schema=s.output_schema or {"type": "object"},
                    family=s.family,
                )
                for s in skills
            },
        )
        card = attach_extension(card, extension)
    return sign_card(card, signer or key)


def signed(
    key: SigningKey,
    method: str,
    path: str,
    body: Any = None,
    *,
    raw: bytes | None = None,
    base: str = BASE,
    signer: MessageSigner | None = None,
) -> tuple[bytes, dict[str, str]]:
    """Return ``(content, headers)`` of a request signed by ``key`` (JSON ``body`` or ``raw``)."""
    content = raw if raw is not None else (b"" if body is None else json.dumps(body).encode())
    headers = {"content-type": "application/json"} if content else {}
    request = HttpRequest(method, base + path, headers, content)
    (signer or MessageSigner(key)).sign_request(request)
    return content, request.headers


async def put_agent(
    http: httpx.AsyncClient, key: SigningKey, card: dict[str, Any] | None = None, **body: Any
) -> httpx.Response:
    """Register ``key``'s agent with a signed request; return the raw response."""
    payload = {"card": card if card is not None else make_card(key), **body}
    content, headers = signed(key, "PUT", f"/v1/agents/{key.did}", payload)
    return await http.put(f"/v1/agents/{key.did}", content=content, headers=headers)


async def snapshot(store: AgentStore) -> tuple[int, int, list[tuple[str, str]]]:
    """What is stored: last event, agent count, each agent's DID and update time."""
    page = await store.search(SearchQuery(limit=1000))
    return (
        await store.last_seq(),
        await store.count(),
        [(a.did, a.updated_at.isoformat()) for a in page.agents],
    )


def free_socket(port: int = 0) -> socket.socket:
    """A TCP socket bound to 127.0.0.1 (a free port by default)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", port))
    return sock


class LiveServer:
    """The registry under uvicorn in a background thread, on a real 127.0.0.1 socket."""

    def __init__(
        self, settings: RegistrySettings, key: SigningKey = REGISTRY_KEY, port: int = 0
    ) -> None:
        self.sock = free_socket(port)
        self.port = self.sock.getsockname()[1]
        self.settings = settings.model_copy(update={"port": self.port})
        self.app = create_app(self.settings, key=key)
        config = uvicorn.Config(
            self.app, log_level="warning", lifespan="on", ws="websockets-sansio"
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(
            target=self.server.run, kwargs={"sockets": [self.sock]}, daemon=True
        )

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> LiveServer:
        self.thread.start()
        deadline = time.monotonic() + 20
        while not self.server.started:
            if not self.thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("registry server did not start")
            time.sleep(0.02)
        return self

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=20)
        self.sock.close()
        assert not self.thread.is_alive(), "registry server did not stop"


CLI = [sys.executable, "-c", "from woa_cli.main import app; app()"]
"""The ``woa`` command, run by this interpreter (no dependency on the PATH)."""


class RegistryProcess:
    """``woa registry serve`` (or ``command``) in a subprocess on a free 127.0.0.1 port.

    The one way the tests start a registry process. Its environment has no inherited
    ``WOA_REGISTRY_*``/``WOA_STATE_*`` setting; rate limits are off, the lease sweeper
    slow, and ``env`` adds or overrides settings. The URL is read from the first output
    line; :meth:`ready` waits until it answers, :meth:`stop` signals and reaps it.
    """

    def __init__(
        self,
        tmp: Path,
        *,
        database_url: str | None = None,
        command: list[str] | None = None,
        env: dict[str, str] | None = None,
    ) -> None:
        database_url = database_url or f"sqlite:///{tmp}/registry.db"
        environ = {
            k: v for k, v in os.environ.items() if not k.startswith(("WOA_REGISTRY_", "WOA_STATE_"))
        }
        environ.update(
            WOA_REGISTRY_RATE_PER_ADDRESS="0",
            WOA_REGISTRY_SWEEP_INTERVAL_SECONDS="3600",
            WOA_STATE_RATE_PER_DID="0",
            WOA_REGISTRY_DATABASE_URL=database_url,
            WOA_REGISTRY_KEY_FILE=str(tmp / "key.pem"),
            WOA_REGISTRY_PORT="0",
        )
        environ.update(env or {})
        self.proc = subprocess.Popen(
            command
            or [
                *CLI,
                "registry",
                "serve",
                "--port",
                "0",
                "--no-mdns",
                "--log-level",
                "warning",
                "--database-url",
                database_url,
                "--key-file",
                str(tmp / "key.pem"),
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=environ,
        )
        self.url = self._read_url()

    def _read_url(self) -> str:
        found: list[str] = []

        def read() -> None:
            assert self.proc.stdout is not None
            for line in self.proc.stdout:
                if "listening on" in line:
                    found.append(line.split("listening on ", 1)[1].split()[0])
                    return

        reader = threading.Thread(target=read, daemon=True)
        reader.start()
        reader.join(timeout=60)
        if not found:
            self.proc.kill()
            _, err = self.proc.communicate(timeout=10)
            raise AssertionError(f"registry did not start: {err[-2000:]}")
        return found[0]

    async def ready(self) -> RegistryProcess:
        """Wait (bounded) until the registry answers its well-known document."""
        async with httpx.AsyncClient() as http:
            for _ in range(400):
                try:
                    response = await http.get(self.url + "/.well-known/woa-registry.json")
                    if response.status_code == 200:
                        return self
                except httpx.TransportError:
                    pass
                await asyncio.sleep(0.05)
        raise AssertionError("registry never answered")

    def stop(self, sig: int = signal.SIGTERM) -> None:
        """Send ``sig`` (SIGTERM: a graceful shutdown) and wait for the process to end."""
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            self.proc.wait(timeout=30)
        for stream in (self.proc.stdout, self.proc.stderr):
            if stream:
                stream.close()


class FrameRelay:
    """A man in the middle on 127.0.0.1: relays a server's WebSocket frames through ``alter``.

    A client pointed at :attr:`url` reaches the same path and query on ``upstream``; every
    text frame the server sends passes through ``alter`` (return it unchanged to relay).
    """

    def __init__(self, upstream: str, alter: Callable[[str], str]) -> None:
        self.upstream = upstream.replace("http://", "ws://", 1)
        self.alter = alter
        self.port = 0
        self._server: Any = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def _relay(self, client: Any) -> None:
        from websockets.asyncio.client import connect
        from websockets.exceptions import ConnectionClosed

        async def forward(upstream: Any) -> None:
            with contextlib.suppress(ConnectionClosed):
                async for raw in upstream:
                    await client.send(self.alter(str(raw)))

        async with connect(self.upstream + client.request.path) as upstream:
            relay = asyncio.create_task(forward(upstream))
            gone = asyncio.create_task(client.wait_closed())
            await asyncio.wait({relay, gone}, return_when=asyncio.FIRST_COMPLETED)
            for task in (relay, gone):
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError, ConnectionClosed):
                    await task

    async def __aenter__(self) -> FrameRelay:
        from websockets.asyncio.server import serve

        self._server = await serve(self._relay, "127.0.0.1", 0)
        self.port = next(iter(self._server.sockets)).getsockname()[1]
        return self

    async def __aexit__(self, *exc: object) -> None:
        self._server.close()
        await self._server.wait_closed()


async def wait_until(predicate: Callable[[], Any], timeout: float = 10.0) -> None:
    """Poll an async or sync predicate until true (bounded)."""
    deadline = time.monotonic() + timeout
    while True:
        result = predicate()
        if asyncio.iscoroutine(result):
            result = await result
        if result:
            return
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached in time")
        await asyncio.sleep(0.05)


class CardServer:
    """A real HTTP server on 127.0.0.1 answering fixed responses by path; counts requests."""

    def __init__(self) -> None:
        from starlette.applications import Starlette
        from starlette.requests import Request
        from starlette.responses import Response
        from starlette.routing import Route

        self.responses: dict[str, tuple[int, bytes, dict[str, str]]] = {}
        self.hits: list[str] = []

        async def answer(request: Request) -> Response:
            self.hits.append(request.url.path)
            status, body, headers = self.responses.get(request.url.path, (404, b"", {}))
            return Response(
                body, status_code=status, headers=headers, media_type="application/json"
            )

        app = Starlette(routes=[Route("/{path:path}", answer)])
        self.sock = free_socket()
        self.port = self.sock.getsockname()[1]
        self.server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off"))
        self.thread = threading.Thread(
            target=self.server.run, kwargs={"sockets": [self.sock]}, daemon=True
        )

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def serve(self, path: str, body: Any, status: int = 200, **headers: str) -> None:
        raw = body if isinstance(body, bytes) else json.dumps(body).encode()
        self.responses[path] = (status, raw, headers)

    def start(self) -> CardServer:
        self.thread.start()
        deadline = time.monotonic() + 20
        while not self.server.started:
            if time.monotonic() > deadline:
                raise RuntimeError("card server did not start")
            time.sleep(0.02)
        return self

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=20)
        self.sock.close()
