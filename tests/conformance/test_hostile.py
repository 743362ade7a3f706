"""Servers that are not conformant at all: garbage, silence, closed connections.

Each is a tiny real socket server; the suite must finish in bounded time with a report that
names the checks it failed, never crash or hang.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest

from woa_conformance import Options, run_checks

pytestmark = pytest.mark.timeout(120)

Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


async def _garbage(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    await reader.read(65536)
    writer.write(b"\x00\xffthis is not HTTP\r\n\r\n")
    await writer.drain()
    writer.close()


async def _not_json(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    await reader.read(65536)
    body = b"<html>hello</html>"
    writer.write(
        b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: %d\r\n\r\n" % len(body)
        + body
    )
    await writer.drain()
    writer.close()


async def _silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    with contextlib.suppress(Exception):
        await asyncio.sleep(60)
    writer.close()


async def _closing(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    writer.close()


@contextlib.asynccontextmanager
async def tiny_server(handler: Handler) -> AsyncIterator[str]:
    server = await asyncio.start_server(handler, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.close()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(server.wait_closed(), 2)


@pytest.mark.parametrize(
    "handler", [_garbage, _not_json, _silent, _closing], ids=lambda h: h.__name__.strip("_")
)
@pytest.mark.parametrize("kind", ["registry", "agent"])
async def test_a_broken_server_gets_a_report(kind: str, handler: Handler) -> None:
    started = time.monotonic()
    async with tiny_server(handler) as url:
        report = await run_checks(kind, url, options=Options(timeout=0.5, lease_wait=1.0))  # type: ignore[arg-type]
    assert time.monotonic() - started < 60
    assert report.results, "no check ran"
    assert report.must_failed
    first = "REG-001" if kind == "registry" else "AGT-002"
    verdicts = report.verdicts()
    assert verdicts[first].status == "failed", verdicts[first]
    failing = [r for r in report.results if r.status in ("failed", "error")]
    assert len(failing) >= len(report.results) // 2
    assert all(r.message for r in failing)
