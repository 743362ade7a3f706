"""Refusals before any route runs: two Host lines (MSG-011), in-process and on a real socket."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable

import httpx
import pytest

from woa_protocol import HttpResponse, MessageVerifier, SigningKey
from woa_protocol.httpsig import normalize_headers

from ._support import REGISTRY_KEY, LiveServer, make_card, signed

TWO_HOSTS = [("host", "registry.test"), ("host", "evil.test")]


def _checked_problem(response: httpx.Response) -> dict[str, object]:
    assert response.status_code == 400
    assert response.headers["content-type"] == "application/problem+json"
    message = HttpResponse(400, normalize_headers(response.headers.multi_items()), response.content)
    MessageVerifier().verify_response(message, expected_did=REGISTRY_KEY.did)  # signed unbound
    problem: dict[str, object] = response.json()
    assert problem["type"] == "urn:woa:problem:ambiguous-host"
    return problem


@pytest.mark.req("MSG-011")
async def test_two_host_lines_are_refused_and_nothing_is_stored(http: httpx.AsyncClient) -> None:
    key = SigningKey.generate()
    path = f"/v1/agents/{key.did}"
    content, headers = signed(key, "PUT", path, {"card": make_card(key)})
    refused = await http.put(path, content=content, headers=[*headers.items(), *TWO_HOSTS])
    assert _checked_problem(refused)["status"] == 400
    assert (await http.get(path)).status_code == 404  # the registration did not happen
    _checked_problem(await http.get("/healthz", headers=TWO_HOSTS))
    assert (await http.get("/healthz")).status_code == 200  # and the registry keeps serving


@pytest.mark.req("MSG-011")
async def test_on_a_real_socket_with_httptools(live_server: Callable[..., LiveServer]) -> None:
    server = live_server()  # uvicorn's default parser (httptools) passes both lines on
    reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
    try:
        writer.write(
            b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nHost: evil.test\r\n"
            b"Connection: close\r\n\r\n"
        )
        raw = await asyncio.wait_for(reader.read(), 10)
    finally:
        writer.close()
    head, _, body = raw.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 400 ")
    assert json.loads(body)["type"] == "urn:woa:problem:ambiguous-host"


@pytest.mark.req("MSG-011")
async def test_a_websocket_upgrade_with_two_host_lines_is_refused(
    live_server: Callable[..., LiveServer],
) -> None:
    server = live_server()
    reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
    try:
        writer.write(
            b"GET /v1/feed HTTP/1.1\r\nHost: 127.0.0.1\r\nHost: evil.test\r\n"
            b"Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n"
            b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n"
        )
        status = await asyncio.wait_for(reader.readline(), 10)
    finally:
        writer.close()
    assert status.startswith(b"HTTP/1.1 403 ")  # closed before accept: no feed for it
