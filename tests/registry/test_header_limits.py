"""Oversized header sections over real sockets, to the registry and to an agent (MSG-013)."""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import Callable

import pytest
from pydantic import BaseModel

from woa_agents import Agent
from woa_protocol import MessageVerifier
from woa_protocol.httpsig import HttpResponse

from ._support import REGISTRY_KEY, LiveServer


def exchange(port: int, header_bytes: int, fields: int = 1) -> tuple[int, bytes, dict[str, str]]:
    """Send a GET with ``fields`` extra fields totalling ``header_bytes``; parse the answer."""
    pad = [f"x-pad-{i}: {'a' * (header_bytes // fields)}\r\n" for i in range(fields)]
    head = f"GET /healthz HTTP/1.1\r\nhost: 127.0.0.1:{port}\r\n{''.join(pad)}\r\n".encode()
    with socket.create_connection(("127.0.0.1", port), timeout=20) as sock:
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):  # refused early
            sock.sendall(head)
        data = b""
        while b"\r\n\r\n" not in data or len(data.split(b"\r\n\r\n", 1)[1]) < _length(data):
            chunk = sock.recv(65536)
            if not chunk:
                break
            data += chunk
    status_line, _, rest = data.partition(b"\r\n")
    header_text, _, body = rest.partition(b"\r\n\r\n")
    headers: dict[str, str] = {}
    for line in header_text.decode("latin-1").split("\r\n"):
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    return int(status_line.split()[1]), body, headers


def _length(data: bytes) -> int:
    for line in data.split(b"\r\n\r\n", 1)[0].split(b"\r\n"):
        if line.lower().startswith(b"content-length:"):
            return int(line.split(b":", 1)[1])
    return 0


def check_refused(answer: tuple[int, bytes, dict[str, str]], did: str) -> None:
    status, body, headers = answer
    assert status == 431, body
    assert b"urn:woa:problem:header-fields-too-large" in body
    signed = HttpResponse(status, headers, body)
    assert MessageVerifier().verify_response(signed, expected_did=did).did == did


@pytest.mark.req("MSG-013")
async def test_registry_answers_431_to_100kb_and_1mb_headers(
    live_server: Callable[..., LiveServer],
) -> None:
    server = live_server()
    for size in (100_000, 1_000_000):
        check_refused(await asyncio.to_thread(exchange, server.port, size), REGISTRY_KEY.did)
    check_refused(await asyncio.to_thread(exchange, server.port, 2_000, 100), REGISTRY_KEY.did)
    status, _, _ = await asyncio.to_thread(exchange, server.port, 8_000)
    assert status == 200


class Text(BaseModel):
    """A skill's input and output."""

    text: str


@pytest.mark.req("MSG-013")
async def test_agent_answers_431_to_100kb_and_1mb_headers() -> None:
    agent = Agent("header-limits", "refuses oversized headers", max_header_fields=16)

    @agent.skill()
    async def echo(request: Text) -> Text:
        """Echo."""
        return request

    async with agent.running() as running:
        port = int(running.url.split(":")[2].split("/")[0])
        for size in (100_000, 1_000_000):
            check_refused(await asyncio.to_thread(exchange, port, size), agent.did)
        check_refused(await asyncio.to_thread(exchange, port, 1_000, 20), agent.did)
        status, _, _ = await asyncio.to_thread(exchange, port, 8_000)
        assert status == 200
