"""Signed skill calls against an unsigned FastAPI endpoint and an a2a-sdk agent (same run).

Three servers run side by side, each in its own process (one uvicorn worker, the same
server settings, event loop and HTTP parser for all three) on 127.0.0.1. By default they
run as the project installs uvicorn (``uvicorn[standard]``): uvloop and httptools; the
pure-Python asyncio loop and h11 parser can be chosen instead:

* ``bare``: a FastAPI app with one unsigned ``POST /echo`` that returns its JSON body;
* ``a2a``: an a2a-sdk 1.3 hello-world agent (``DefaultRequestHandler``, in-memory task
  store, an executor that answers every message with a text message), called with
  ``SendMessage`` over its JSON-RPC binding;
* ``woa``: a Web of Agents SDK agent with one typed ``echo`` skill, called with a signed
  typed skill call: the agent verifies the request (replay cache included), validates the
  input, runs the task, and signs the answer bound to the request;
* ``text``: the same agent called as any A2A client calls it, with a plain unsigned
  ``SendMessage`` of one text part and no skill metadata, reaching its default text skill
  (the agent accepts unsigned callers and still signs its answer): a plain text round
  trip, beside a2a-sdk's.

The load generator (this process) measures the servers, as wrk would, and stays out of
their way: every request of a round is built beforehand (for ``woa``: signed, each with
its own nonce, well inside the signature's lifetime), ``concurrency`` keep-alive
connections per server send them (see :class:`_Connection`), and every answer is checked
after the round: status and body for all three; for ``woa`` the response signature, its
binding to the request, the signer's DID (the one in the agent's signed card) and the
output against the skill's output schema. A failed check fails the benchmark. What the
client side of a signed call costs (signing; verifying and checking the answer) is timed in
the same run and reported apart, and so is what one Ed25519 verify and one sign cost in a
tight loop: the floor of what a signed call costs its agent. The server's CPU time per
request (from ``/proc``) is reported beside throughput: on a small machine, where load
generator and server share the cores, it is the steadier figure.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import os
import socket
import statistics
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx

from woa_agents.tracing import TraceContext

from ._harness import LoadResult, measure_load, median_load

__all__ = ["AgentBenchResult", "LoadResult", "PathResult", "run"]

GOAL_VS_BARE = 0.5
GOAL_VS_A2A = 5.0
HTTP_PARSERS = ("httptools", "h11")
"""uvicorn's HTTP implementations: httptools (C, installed by ``uvicorn[standard]``, the
default) or h11 (pure Python, all that plain ``uvicorn`` has)."""
EVENT_LOOPS = ("uvloop", "asyncio")
"""uvicorn's event loops: uvloop (installed by ``uvicorn[standard]``, the default) or the
standard library's asyncio."""


@dataclass(frozen=True)
class PathResult:
    """One path's medians over the rounds: load, and the server's CPU time per request."""

    load: LoadResult
    server_cpu: float
    """Seconds of server CPU (user + system) per request."""


@dataclass(frozen=True)
class AgentBenchResult:
    """Median results per path, and the client side of a signed call."""

    bare: PathResult
    a2a: PathResult
    woa: PathResult
    text: PathResult
    """The plain A2A text round trip against the same agent."""
    concurrency: int
    http: str
    loop: str
    client_sign: float
    """Seconds the caller spends building and signing one signed call."""
    client_check: float
    """Seconds the caller spends verifying and checking one signed answer."""
    ed25519: float
    """Seconds one Ed25519 verify plus one sign take in a tight loop: the least a signed
    call costs its agent (it verifies the request and signs the answer)."""

    @property
    def vs_bare(self) -> float:
        """Signed skill calls per second / bare FastAPI requests per second."""
        return self.woa.load.throughput / self.bare.load.throughput

    @property
    def ed25519_share(self) -> float:
        """The agent's two Ed25519 operations / a bare FastAPI request's server CPU."""
        return self.ed25519 / self.bare.server_cpu

    @property
    def vs_a2a(self) -> float:
        """Signed skill calls per second / a2a-sdk SendMessage per second."""
        return self.woa.load.throughput / self.a2a.load.throughput

    @property
    def text_vs_a2a(self) -> float:
        """Plain text round trips per second / a2a-sdk SendMessage per second."""
        return self.text.load.throughput / self.a2a.load.throughput


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

    from woa_agents import Agent, SignaturePolicy

    class Text(BaseModel):
        text: str

    # plain A2A clients are unsigned; a signed request is still verified (AGT-031)
    agent = Agent(
        "echo", "Echoes text (benchmark).", policy=SignaturePolicy(require_signatures=False)
    )

    @agent.skill(family="classical", idempotent=True)
    async def echo(request: Text) -> Text:
        return request

    @agent.skill(family="classical", default=True)
    async def chat(text: str) -> str:
        return text

    return agent.app(url)


def _serve(kind: str, port: int, http: str, loop: str) -> None:
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
        http=http,  # checked against HTTP_PARSERS by run()
        loop=loop,  # checked against EVENT_LOOPS by run()
        log_level="warning",
        access_log=False,
        server_header=False,
        date_header=False,
        timeout_keep_alive=600,
    )


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _start(kind: str, http: str, loop: str) -> tuple[subprocess.Popen[bytes], str]:
    port = _free_port()
    proc = subprocess.Popen(  # noqa: S603 - our own interpreter and module
        [sys.executable, "-m", "woa_benchmarks.agent", kind, str(port), http, loop],
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    return proc, f"http://127.0.0.1:{port}/"


async def _wait_up(
    proc: subprocess.Popen[bytes], url: str, path: str, timeout: float = 60.0
) -> None:
    deadline = time.monotonic() + timeout
    async with httpx.AsyncClient() as http:
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"the server for {url} exited with status {proc.returncode}")
            try:
                response = await http.request("GET" if path else "POST", url + path)
                if response.status_code < 500:
                    return
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"server at {url} did not start")
            await asyncio.sleep(0.1)


def _ed25519_seconds(batches: int = 5, per_batch: int = 400) -> float:
    """Median seconds of one verify + one sign of a signature base's size (tight loop)."""
    from woa_protocol import SigningKey

    key = SigningKey.generate()
    public = key.public
    base = b"x" * 400  # about what a signed call's signature base holds
    signature = key.sign(base)
    times = []
    for _ in range(batches):
        began = time.perf_counter()
        for _ in range(per_batch):
            public.verify(signature, base)
            key.sign(base)
        times.append((time.perf_counter() - began) / per_batch)
    return statistics.median(times)


def _server_cpu(pid: int) -> float:
    """CPU seconds (user + system) the process's threads have used so far.

    From each thread's ``schedstat`` (nanoseconds) where the kernel has it; ``stat`` counts
    clock ticks (10 ms here), too coarse for a short round: 30 FastAPI requests take ~3 ms.
    """
    try:
        threads = list(Path(f"/proc/{pid}/task").iterdir())
        return sum(int((t / "schedstat").read_text().split()[0]) for t in threads) / 1e9
    except (OSError, ValueError, IndexError):
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


# -- the load generator ---------------------------------------------------------------------


@dataclass(frozen=True)
class _Reply:
    status: int
    headers: dict[str, str]
    body: bytes


class _Connection:
    """One keep-alive HTTP/1.1 connection over asyncio streams.

    Hand-written on purpose: httpx spends ~0.3 ms of CPU per request, more than the servers
    under test, so with it the load generator, not the server, sets the pace. This client
    writes a request built beforehand and reads one ``Content-Length`` response; nothing
    more is needed here.
    """

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer

    @classmethod
    async def open(cls, url: str) -> _Connection:
        parts = urlsplit(url)
        reader, writer = await asyncio.open_connection(parts.hostname, parts.port)
        return cls(reader, writer)

    async def exchange(self, raw_request: bytes) -> _Reply:
        self.writer.write(raw_request)
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
        return _Reply(int(status_line.split()[1]), received, content)

    async def close(self) -> None:
        self.writer.close()
        with contextlib.suppress(OSError):
            await self.writer.wait_closed()


def _raw_post(url: str, headers: dict[str, str], body: bytes) -> bytes:
    parts = urlsplit(url)
    lines = [f"POST {parts.path or '/'} HTTP/1.1", f"host: {parts.netloc}"]
    lines += [f"{k}: {v}" for k, v in headers.items()]
    lines.append(f"content-length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


@dataclass
class _Path:
    """How to build one request of a path and check its answer (both outside the timing)."""

    url: str
    pid: int
    build: Callable[[], tuple[bytes, Any]]
    """Return the raw request and what :attr:`check` needs to know about it."""
    check: Callable[[Any, _Reply], None]
    build_seconds: list[float] = field(default_factory=list)
    check_seconds: list[float] = field(default_factory=list)


async def _round(path: _Path, requests: int, concurrency: int) -> tuple[LoadResult, float]:
    """One timed round on fresh connections; return the load and server CPU per request."""
    began = time.perf_counter()
    prepared = [path.build() for _ in range(requests)]
    path.build_seconds.append((time.perf_counter() - began) / requests)
    pool = [await _Connection.open(path.url) for _ in range(concurrency)]
    replies: list[_Reply | None] = [None] * requests
    order = itertools.count()

    async def send(worker: int) -> None:
        index = next(order)
        replies[index] = await pool[worker].exchange(prepared[index][0])

    try:
        cpu = _server_cpu(path.pid)
        load = await measure_load(send, requests, concurrency)
        cpu = _server_cpu(path.pid) - cpu
    finally:
        for conn in pool:
            await conn.close()
    began = time.perf_counter()
    for (_, context), reply in zip(prepared, replies, strict=True):
        assert reply is not None
        path.check(context, reply)
    path.check_seconds.append((time.perf_counter() - began) / requests)
    return load, cpu / requests


async def _paths(procs: dict[str, tuple[subprocess.Popen[bytes], str]]) -> dict[str, _Path]:
    """The three paths, with the signed one's caller key and the agent's verified card."""
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

    key = SigningKey.generate()
    async with AgentClient(key) as client:  # fetch and check the agent's signed card
        remote = await client.agent(procs["woa"][1])
    assert remote.did is not None
    output_schema = remote.skills["echo"].output_schema
    signer, verifier = MessageSigner(key), MessageVerifier()
    bare_url = procs["bare"][1] + "echo"
    a2a_url, woa_url = procs["a2a"][1], remote.url
    json_headers = {"content-type": "application/json"}
    a2a_headers = {"content-type": "application/json", "a2a-version": "1.0"}

    def build_bare() -> tuple[bytes, None]:
        return _raw_post(bare_url, json_headers, b'{"text":"hello"}'), None

    def check_bare(_: None, reply: _Reply) -> None:
        if reply.status != 200 or json.loads(reply.body) != {"text": "hello"}:
            raise RuntimeError(f"FastAPI answered {reply.status}: {reply.body[:200]!r}")

    def message(parts: list[dict[str, Any]], **extra: Any) -> dict[str, Any]:
        return {
            "jsonrpc": "2.0",
            "id": uuid.uuid4().hex,
            "method": "SendMessage",
            "params": {
                "message": {
                    "messageId": uuid.uuid4().hex,
                    "role": "ROLE_USER",
                    "parts": parts,
                    **extra,
                }
            },
        }

    def build_a2a() -> tuple[bytes, None]:
        body = json.dumps(message([{"text": "hello"}])).encode()
        return _raw_post(a2a_url, a2a_headers, body), None

    def check_a2a(_: None, reply: _Reply) -> None:
        if reply.status != 200 or "result" not in json.loads(reply.body):
            raise RuntimeError(f"a2a-sdk answered {reply.status}: {reply.body[:200]!r}")

    def build_woa() -> tuple[bytes, HttpRequest]:
        payload = message([{"data": {"text": "hello"}}], metadata={"woa.skill": "echo"})
        body = json.dumps(payload, separators=(",", ":")).encode()
        headers = {**a2a_headers, "traceparent": TraceContext.new().traceparent}
        request = HttpRequest("POST", woa_url, dict(headers), body)
        headers.update(signer.sign_request(request))
        return _raw_post(woa_url, headers, body), request

    def check_woa(request: HttpRequest, reply: _Reply) -> None:
        response = HttpResponse(reply.status, reply.headers, reply.body, request=request)
        if verifier.verify_response(response, "woa").did != remote.did:
            raise RuntimeError("answer signed by another DID")
        answer = json.loads(reply.body)
        if reply.status != 200 or "result" not in answer:
            raise RuntimeError(f"the agent answered {reply.status}: {reply.body[:200]!r}")
        data, _ = _output_of(answer["result"])
        if data != {"text": "hello"} or validate_instance(output_schema, data):
            raise RuntimeError(f"unexpected output {data}")

    def build_text() -> tuple[bytes, HttpRequest]:
        body = json.dumps(message([{"text": "hello"}]), separators=(",", ":")).encode()
        request = HttpRequest("POST", woa_url, dict(a2a_headers), body)
        return _raw_post(woa_url, a2a_headers, body), request

    def check_text(request: HttpRequest, reply: _Reply) -> None:
        response = HttpResponse(reply.status, reply.headers, reply.body, request=request)
        verifier.verify_response(response, expected_did=remote.did)  # unbound: unsigned call
        answer = json.loads(reply.body)
        if reply.status != 200 or "result" not in answer:
            raise RuntimeError(f"the agent answered {reply.status}: {reply.body[:200]!r}")
        parts = answer["result"]["task"]["artifacts"][0]["parts"]
        if parts != [{"text": "hello"}]:
            raise RuntimeError(f"unexpected text answer {parts}")

    return {
        "bare": _Path(bare_url, procs["bare"][0].pid, build_bare, check_bare),
        "a2a": _Path(a2a_url, procs["a2a"][0].pid, build_a2a, check_a2a),
        "woa": _Path(woa_url, procs["woa"][0].pid, build_woa, check_woa),
        "text": _Path(woa_url, procs["woa"][0].pid, build_text, check_text),
    }


async def _measure(
    requests: int, rounds: int, concurrency: int, http: str, loop: str
) -> AgentBenchResult:
    procs = {kind: _start(kind, http, loop) for kind in ("bare", "a2a", "woa")}
    try:
        await _wait_up(*procs["bare"], "docs")
        await _wait_up(*procs["a2a"], ".well-known/agent-card.json")
        await _wait_up(*procs["woa"], "healthz")
        paths = await _paths(procs)
        for path in paths.values():  # warm up
            await _round(path, min(300, requests), concurrency)
        results: dict[str, list[tuple[LoadResult, float]]] = {k: [] for k in paths}
        for _ in range(rounds):
            for kind, path in paths.items():
                results[kind].append(await _round(path, requests, concurrency))
        measured = {
            kind: PathResult(
                median_load([load for load, _ in rows]),
                statistics.median(cpu for _, cpu in rows),
            )
            for kind, rows in results.items()
        }
        woa = paths["woa"]
        return AgentBenchResult(
            bare=measured["bare"],
            a2a=measured["a2a"],
            woa=measured["woa"],
            text=measured["text"],
            concurrency=concurrency,
            http=http,
            loop=loop,
            client_sign=statistics.median(woa.build_seconds[1:]),
            client_check=statistics.median(woa.check_seconds[1:]),
            ed25519=_ed25519_seconds(),
        )
    finally:
        for proc, _ in procs.values():
            proc.terminate()
        for proc, _ in procs.values():
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()


def run(
    requests: int = 2000,
    rounds: int = 3,
    concurrency: int = 16,
    http: str = "httptools",
    loop: str = "uvloop",
) -> AgentBenchResult:
    """Start the three servers, load them in interleaved rounds, return medians."""
    if http not in HTTP_PARSERS:
        raise ValueError(f"http must be one of {HTTP_PARSERS}, not {http!r}")
    if loop not in EVENT_LOOPS:
        raise ValueError(f"loop must be one of {EVENT_LOOPS}, not {loop!r}")
    if requests < 1 or rounds < 1 or concurrency < 1:
        raise ValueError("requests, rounds and concurrency must be positive")
    return asyncio.run(_measure(requests, rounds, concurrency, http, loop))


if __name__ == "__main__":
    _serve(sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4])
