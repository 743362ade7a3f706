"""Signed skill calls against an unsigned FastAPI endpoint and an a2a-sdk agent (same run).

Three servers run side by side, each in its own process (one uvicorn worker) on 127.0.0.1:

* ``bare``: a FastAPI app with one unsigned ``POST /echo`` that returns its JSON body;
* ``a2a``: an a2a-sdk 1.3 hello-world agent (``DefaultRequestHandler``, in-memory task
  store, an executor that answers every message with a text message), called with
  ``SendMessage`` over its JSON-RPC binding;
* ``woa``: a Web of Agents SDK agent with one typed ``echo`` skill, called with a signed
  typed skill call: the client signs, the agent verifies (replay cache included),
  validates the input, runs the task, signs the answer bound to the request; the client
  verifies the answer and checks the output against the skill's schema.

The load generator (this process: asyncio, ``concurrency`` keep-alive connections per
server, see :class:`_Connection`) runs the three in interleaved rounds and reports medians.
The signed path's client work (signing, verifying the bound response signature, checking
the output schema) is inside its measured time, so the ratios are conservative.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import httpx

from woa_agents.tracing import TraceContext

from ._harness import LoadResult, measure_load, median_load

__all__ = ["AgentBenchResult", "LoadResult", "run"]

GOAL_VS_BARE = 0.5
GOAL_VS_A2A = 5.0


@dataclass(frozen=True)
class AgentBenchResult:
    """Median results per path."""

    bare: LoadResult
    a2a: LoadResult
    woa: LoadResult
    concurrency: int

    @property
    def vs_bare(self) -> float:
        """Signed skill calls per second / bare FastAPI requests per second."""
        return self.woa.throughput / self.bare.throughput

    @property
    def vs_a2a(self) -> float:
        """Signed skill calls per second / a2a-sdk SendMessage per second."""
        return self.woa.throughput / self.a2a.throughput


# -- the servers (run in child processes) -----------------------------------------------


def _bare_app() -> Any:
    from fastapi import FastAPI

    app = FastAPI()

    @app.post("/echo")
    async def echo(body: dict[str, Any]) -> dict[str, Any]:
        return body

    return app


def _a2a_app(url: str) -> Any:
    from a2a.helpers.proto_helpers import new_text_message
    from a2a.server.agent_execution import AgentExecutor, RequestContext
    from a2a.server.events import EventQueue
    from a2a.server.request_handlers import DefaultRequestHandler
    from a2a.server.routes import create_agent_card_routes, create_jsonrpc_routes
    from a2a.server.tasks import InMemoryTaskStore
    from a2a.types.a2a_pb2 import AgentCapabilities, AgentCard, AgentInterface, AgentSkill
    from a2a.utils.errors import TaskNotCancelableError
    from starlette.applications import Starlette

    class HelloWorld(AgentExecutor):
        async def execute(self, context: RequestContext, event_queue: EventQueue) -> None:
            await event_queue.enqueue_event(new_text_message("Hello World"))

        async def cancel(self, context: RequestContext, event_queue: EventQueue) -> None:
            raise TaskNotCancelableError("this sample agent finishes at once")

    card = AgentCard(
        name="hello",
        description="hello world",
        version="1.0.0",
        supported_interfaces=[
            AgentInterface(url=url, protocol_binding="JSONRPC", protocol_version="1.0")
        ],
        capabilities=AgentCapabilities(streaming=False),
        default_input_modes=["text/plain"],
        default_output_modes=["text/plain"],
        skills=[AgentSkill(id="hello", name="hello", description="hello", tags=["hello"])],
    )
    handler = DefaultRequestHandler(HelloWorld(), InMemoryTaskStore(), card)
    return Starlette(routes=[*create_agent_card_routes(card), *create_jsonrpc_routes(handler, "/")])


def _woa_app(url: str) -> Any:
    from pydantic import BaseModel

    from woa_agents import Agent

    class Text(BaseModel):
        text: str

    agent = Agent("echo", "Echoes text (benchmark).")

    @agent.skill(family="classical", idempotent=True)
    async def echo(request: Text) -> Text:
        return request

    return agent.app(url)


def _serve(kind: str, port: int) -> None:
    import uvicorn

    url = f"http://127.0.0.1:{port}/"
    builders: dict[str, Callable[[], Any]] = {
        "bare": _bare_app,
        "a2a": lambda: _a2a_app(url),
        "woa": lambda: _woa_app(url),
    }
    app = builders[kind]()
    uvicorn.run(  # the same server settings for all three
        app,
        host="127.0.0.1",
        port=port,
        log_level="warning",
        access_log=False,
        server_header=False,
        date_header=False,
    )


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _start(kind: str) -> tuple[subprocess.Popen[bytes], str]:
    port = _free_port()
    proc = subprocess.Popen(  # noqa: S603 - our own interpreter and module
        [sys.executable, "-m", "woa_benchmarks.agent", kind, str(port)],
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    return proc, f"http://127.0.0.1:{port}/"


async def _wait_up(url: str, path: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    async with httpx.AsyncClient() as http:
        while True:
            try:
                response = await http.request("GET" if path else "POST", url + path)
                if response.status_code < 500:
                    return
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"server at {url} did not start")
            await asyncio.sleep(0.1)


# -- the load generator ---------------------------------------------------------------------


async def _load(
    call: Callable[[_Connection], Awaitable[None]], pool: list[_Connection], requests: int
) -> LoadResult:
    async def on_own_connection(worker: int) -> None:
        await call(pool[worker])

    return await measure_load(on_own_connection, requests, len(pool))


class _Connection:
    """One keep-alive HTTP/1.1 connection over asyncio streams.

    Hand-written on purpose: httpx spends ~0.3 ms of CPU per request, more than the servers
    under test, so with it the load generator, not the server, sets the pace. This client
    sends a request and reads one ``Content-Length`` response; nothing more is needed here.
    """

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer

    @classmethod
    async def open(cls, url: str) -> _Connection:
        parts = urlsplit(url)
        reader, writer = await asyncio.open_connection(parts.hostname, parts.port)
        return cls(reader, writer)

    async def post(
        self, url: str, body: bytes, headers: dict[str, str]
    ) -> tuple[int, dict[str, str], bytes]:
        parts = urlsplit(url)
        lines = [f"POST {parts.path or '/'} HTTP/1.1", f"host: {parts.netloc}"]
        lines += [f"{k}: {v}" for k, v in headers.items()]
        lines.append(f"content-length: {len(body)}")
        self.writer.write(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body)
        head = await self.reader.readuntil(b"\r\n\r\n")
        status_line, *header_lines = head[:-4].decode("latin-1").split("\r\n")
        received: dict[str, str] = {}
        for line in header_lines:
            name, _, value = line.partition(":")
            key = name.strip().lower()
            received[key] = (
                f"{received[key]}, {value.strip()}" if key in received else value.strip()
            )
        content = await self.reader.readexactly(int(received.get("content-length", "0")))
        return int(status_line.split()[1]), received, content

    async def close(self) -> None:
        self.writer.close()
        with contextlib.suppress(OSError):
            await self.writer.wait_closed()


async def _measure(requests: int, rounds: int, concurrency: int) -> AgentBenchResult:
    from woa_agents import AgentClient
    from woa_agents.client import _output_of
    from woa_protocol import (
        HttpRequest,
        HttpResponse,
        MessageSigner,
        MessageVerifier,
        SigningKey,
        validate_instance,
    )

    procs = {kind: _start(kind) for kind in ("bare", "a2a", "woa")}
    try:
        await _wait_up(procs["bare"][1], "docs")
        await _wait_up(procs["a2a"][1], ".well-known/agent-card.json")
        await _wait_up(procs["woa"][1], "healthz")
        key = SigningKey.generate()
        async with AgentClient(key) as client:  # fetch and check the agent's signed card
            remote = await client.agent(procs["woa"][1])
        assert remote.did is not None
        output_schema = remote.skills["echo"].output_schema
        signer, verifier = MessageSigner(key), MessageVerifier()
        bare_url = procs["bare"][1] + "echo"
        a2a_url, woa_url = procs["a2a"][1], remote.url

        async def bare(conn: _Connection) -> None:
            status, _, content = await conn.post(
                bare_url, b'{"text":"hello"}', {"content-type": "application/json"}
            )
            if status != 200 or json.loads(content) != {"text": "hello"}:
                raise RuntimeError(f"FastAPI answered {status}")

        async def a2a(conn: _Connection) -> None:
            payload = {
                "jsonrpc": "2.0",
                "id": uuid.uuid4().hex,
                "method": "SendMessage",
                "params": {
                    "message": {
                        "messageId": uuid.uuid4().hex,
                        "role": "ROLE_USER",
                        "parts": [{"text": "hello"}],
                    }
                },
            }
            _, _, content = await conn.post(
                a2a_url,
                json.dumps(payload).encode(),
                {"content-type": "application/json", "a2a-version": "1.0"},
            )
            if "result" not in json.loads(content):
                raise RuntimeError(f"a2a-sdk answered {content[:200]!r}")

        async def woa(conn: _Connection) -> None:
            payload = {
                "jsonrpc": "2.0",
                "id": uuid.uuid4().hex,
                "method": "SendMessage",
                "params": {
                    "message": {
                        "messageId": uuid.uuid4().hex,
                        "role": "ROLE_USER",
                        "parts": [{"data": {"text": "hello"}}],
                        "metadata": {"woa.skill": "echo"},
                    }
                },
            }
            body = json.dumps(payload, separators=(",", ":")).encode()
            headers = {
                "content-type": "application/json",
                "a2a-version": "1.0",
                "traceparent": TraceContext.new().traceparent,
            }
            request = HttpRequest("POST", woa_url, dict(headers), body)
            headers.update(signer.sign_request(request))
            status, received, content = await conn.post(woa_url, body, headers)
            response = HttpResponse(status, received, content, request=request)
            if verifier.verify_response(response, "woa").did != remote.did:
                raise RuntimeError("answer signed by another DID")
            data, _ = _output_of(json.loads(content)["result"])
            if data != {"text": "hello"} or validate_instance(output_schema, data):
                raise RuntimeError(f"unexpected output {data}")

        paths = {"bare": (bare, bare_url), "a2a": (a2a, a2a_url), "woa": (woa, woa_url)}
        pools = {
            kind: [await _Connection.open(url) for _ in range(concurrency)]
            for kind, (_, url) in paths.items()
        }
        for kind, (call, _) in paths.items():  # warm up
            await _load(call, pools[kind], min(300, requests))
        results: dict[str, list[LoadResult]] = {k: [] for k in paths}
        for _ in range(rounds):
            for kind, (call, _) in paths.items():
                results[kind].append(await _load(call, pools[kind], requests))
        for pool in pools.values():
            for conn in pool:
                await conn.close()
        return AgentBenchResult(
            bare=median_load(results["bare"]),
            a2a=median_load(results["a2a"]),
            woa=median_load(results["woa"]),
            concurrency=concurrency,
        )
    finally:
        for proc, _ in procs.values():
            proc.terminate()
        for proc, _ in procs.values():
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()


def run(requests: int = 2000, rounds: int = 3, concurrency: int = 16) -> AgentBenchResult:
    """Start the three servers, load them in interleaved rounds, return medians."""
    return asyncio.run(_measure(requests, rounds, concurrency))


if __name__ == "__main__":
    _serve(sys.argv[1], int(sys.argv[2]))
