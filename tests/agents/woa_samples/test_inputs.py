"""File inputs: inline bytes, URLs only when allowed (fetched for real), size limits."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator

import pytest
import uvicorn
from starlette.applications import Starlette
from starlette.responses import Response
from starlette.routing import Route

from woa_agents import File, Rejected
from woa_samples.inputs import InputPolicy, file_bytes


@pytest.fixture
async def files_server() -> AsyncIterator[str]:
    """A real HTTP server on 127.0.0.1 with a small and a large file."""

    async def small(request: object) -> Response:
        return Response(b"PNG-ish bytes", media_type="image/png")

    async def large(request: object) -> Response:
        return Response(b"x" * 50_000, media_type="image/png")

    app = Starlette(routes=[Route("/small.png", small), Route("/large.png", large)])
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.bind(("127.0.0.1", 0))
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning"))
    serving = asyncio.create_task(server.serve(sockets=[sock]))
    while not server.started:
        await asyncio.sleep(0.01)
    yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    server.should_exit = True
    await serving
    sock.close()


async def test_inline_bytes_within_the_limit() -> None:
    policy = InputPolicy(max_file_bytes=10)
    assert await file_bytes(File(raw=b"0123456789"), policy) == b"0123456789"
    with pytest.raises(Rejected, match="image is 11 bytes; the limit is 10"):
        await file_bytes(File(raw=b"0123456789A"), policy, "image")
    with pytest.raises(Rejected, match="empty"):
        await file_bytes(File(raw=b""), policy)


@pytest.mark.req("SMP-002")
async def test_urls_are_refused_by_default(files_server: str) -> None:
    with pytest.raises(Rejected, match="URL inputs are disabled"):
        await file_bytes(File(url=f"{files_server}/small.png"), InputPolicy(), "image")


@pytest.mark.req("SMP-002")
async def test_urls_are_fetched_when_allowed_within_the_limit(files_server: str) -> None:
    allowed = InputPolicy(allow_urls=True, max_file_bytes=10_000)
    assert await file_bytes(File(url=f"{files_server}/small.png"), allowed) == b"PNG-ish bytes"
    with pytest.raises(Rejected, match="over 10000 bytes"):
        await file_bytes(File(url=f"{files_server}/large.png"), allowed)
    with pytest.raises(Rejected, match="answered 404"):
        await file_bytes(File(url=f"{files_server}/missing.png"), allowed)
    with pytest.raises(Rejected, match="only http"):
        await file_bytes(File(url="file:///etc/passwd"), allowed)


def test_policy_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("WOA_SAMPLES_ALLOW_URLS", raising=False)
    monkeypatch.delenv("WOA_SAMPLES_MAX_BODY_BYTES", raising=False)
    default = InputPolicy.from_env()
    assert not default.allow_urls
    assert default.max_body_bytes == 16 * 1024 * 1024
    monkeypatch.setenv("WOA_SAMPLES_ALLOW_URLS", "1")
    monkeypatch.setenv("WOA_SAMPLES_MAX_BODY_BYTES", "4000")
    custom = InputPolicy.from_env()
    assert custom.allow_urls
    assert (custom.max_body_bytes, custom.max_file_bytes) == (4000, 3000)
