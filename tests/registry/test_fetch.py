"""Registration of plain A2A agents by URL: opt-in, SSRF filter, unverified records."""

from __future__ import annotations

import hashlib
import ipaddress
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from woa_protocol import SigningKey
from woa_registry.fetcher import card_url, check_address
from woa_registry.problems import UnsafeUrlError
from woa_registry.storage import AgentStore

from ._support import BASE, CardServer, make_card, put_agent, snapshot

CARD_PATH = "/.well-known/agent-card.json"


@pytest.fixture
def cards() -> Iterator[CardServer]:
    server = CardServer().start()
    yield server
    server.stop()


@pytest.fixture
async def open_http(make_app: Callable[..., FastAPI]) -> AsyncIterator[httpx.AsyncClient]:
    app = make_app(allow_url_registration=True, url_fetch_allowlist=["127.0.0.1/32"])
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=BASE) as http,
    ):
        yield http


@pytest.mark.req("REG-060")
async def test_disabled_by_default(http: httpx.AsyncClient, store: AgentStore) -> None:
    before = await snapshot(store)
    response = await http.post("/v1/agents:fetch", json={"url": "http://127.0.0.1:1"})
    assert response.status_code == 403
    assert response.json()["type"] == "urn:woa:problem:url-registration-disabled"
    assert await snapshot(store) == before


@pytest.mark.req("REG-061")
@pytest.mark.parametrize("target", ["{url}", "http://localhost:{port}"])
async def test_loopback_is_refused_without_allowlist(
    make_app: Callable[..., FastAPI], cards: CardServer, store: AgentStore, target: str
) -> None:
    cards.serve(CARD_PATH, make_card(SigningKey.generate(), with_extension=False))
    app = make_app(allow_url_registration=True)
    before = await snapshot(store)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=BASE) as http,
    ):
        url = target.format(url=cards.url, port=cards.port)
        response = await http.post("/v1/agents:fetch", json={"url": url})
    assert response.status_code == 422, response.text
    assert response.json()["type"] == "urn:woa:problem:unsafe-url"
    assert cards.hits == []
    assert await snapshot(store) == before


@pytest.mark.req("REG-061")
@pytest.mark.parametrize(
    "address",
    [
        "10.1.2.3",
        "172.16.0.1",
        "192.168.1.1",
        "127.0.0.1",
        "169.254.169.254",
        "224.0.0.251",
        "0.0.0.0",
        "::1",
        "fe80::1",
        "fd00::2",
        "::ffff:127.0.0.1",
        "240.0.0.1",
        "100.64.0.1",
    ],
)
def test_non_public_addresses_are_refused(address: str) -> None:
    with pytest.raises(UnsafeUrlError):
        check_address(ipaddress.ip_address(address), [])


@pytest.mark.req("REG-061")
def test_public_and_allowlisted_addresses_pass() -> None:
    check_address(ipaddress.ip_address("8.8.8.8"), [])
    check_address(ipaddress.ip_address("2606:4700:4700::1111"), [])
    check_address(ipaddress.ip_address("10.1.2.3"), [ipaddress.ip_network("10.0.0.0/8")])
    check_address(ipaddress.ip_address("::ffff:127.0.0.1"), [ipaddress.ip_network("127.0.0.1/32")])


@pytest.mark.req("REG-061")
@pytest.mark.parametrize(
    "url", ["ftp://example.com/", "file:///etc/passwd", "http://u:p@example.com/", "example.com"]
)
def test_only_plain_http_urls(url: str) -> None:
    with pytest.raises(UnsafeUrlError):
        card_url(url)


def test_card_url() -> None:
    assert card_url("http://h:1/agent/") == "http://h:1/agent/.well-known/agent-card.json"
    assert (
        card_url("https://h/.well-known/agent-card.json?x=1")
        == "https://h/.well-known/agent-card.json"
    )


@pytest.mark.req("REG-062")
async def test_plain_card_is_stored_unverified(
    open_http: httpx.AsyncClient, cards: CardServer, store: AgentStore
) -> None:
    plain = make_card(SigningKey.generate(), with_extension=False, name="Plain agent")
    plain.pop("signatures")
    cards.serve(CARD_PATH, plain)
    response = await open_http.post("/v1/agents:fetch", json={"url": cards.url, "leaseSeconds": 30})
    assert response.status_code == 201, response.text
    body = response.json()
    source = cards.url + CARD_PATH
    assert body["did"] == "urn:woa:url:" + hashlib.sha256(source.encode()).hexdigest()[:32]
    assert body["verified"] is False
    assert body["sourceUrl"] == source
    assert body["card"] == plain
    assert (await open_http.get(f"/v1/agents/{body['did']}")).json()["name"] == "Plain agent"
    again = await open_http.post("/v1/agents:fetch", json={"url": cards.url})
    assert again.status_code == 200


@pytest.mark.req("REG-062")
async def test_signed_card_is_stored_under_its_did(
    open_http: httpx.AsyncClient, cards: CardServer
) -> None:
    key = SigningKey.generate()
    cards.serve(CARD_PATH, make_card(key))
    response = await open_http.post("/v1/agents:fetch", json={"url": cards.url + CARD_PATH})
    assert response.status_code == 201, response.text
    assert response.json()["did"] == key.did
    assert response.json()["verified"] is False


@pytest.mark.req("REG-062")
async def test_url_registration_never_replaces_a_verified_agent(
    open_http: httpx.AsyncClient, cards: CardServer, store: AgentStore
) -> None:
    key = SigningKey.generate()
    assert (await put_agent(open_http, key)).status_code == 201
    cards.serve(CARD_PATH, make_card(key, name="Hijack"))
    before = await snapshot(store)
    response = await open_http.post("/v1/agents:fetch", json={"url": cards.url})
    assert response.status_code == 409
    assert response.json()["type"] == "urn:woa:problem:agent-conflict"
    assert await snapshot(store) == before


def _forged() -> dict[str, Any]:
    return make_card(SigningKey.generate(), signer=SigningKey.generate())


def _no_name() -> dict[str, Any]:
    card = make_card(SigningKey.generate(), with_extension=False)
    del card["name"]
    return card


@pytest.mark.parametrize(
    ("serve", "status", "slug"),
    [
        pytest.param((404, b"{}", {}), 502, "card-fetch-failed", marks=pytest.mark.req("REG-063")),
        pytest.param(
            (200, b"<html>", {}), 502, "card-fetch-failed", marks=pytest.mark.req("REG-063")
        ),
        pytest.param((200, b"[1]", {}), 502, "card-fetch-failed", marks=pytest.mark.req("REG-063")),
        pytest.param(
            (302, b"", {"location": "http://127.0.0.1:1/"}),
            502,
            "card-fetch-failed",
            marks=pytest.mark.req("REG-061"),
        ),
        pytest.param(
            (200, b"x" * 300_000, {}), 502, "card-fetch-failed", marks=pytest.mark.req("REG-063")
        ),
        pytest.param((200, _no_name, {}), 422, "invalid-card", marks=pytest.mark.req("REG-063")),
        pytest.param(
            (200, _forged, {}), 401, "invalid-card-signature", marks=pytest.mark.req("REG-062")
        ),
    ],
)
async def test_bad_cards_are_refused(
    open_http: httpx.AsyncClient,
    cards: CardServer,
    store: AgentStore,
    serve: tuple[int, Any, dict[str, str]],
    status: int,
    slug: str,
) -> None:
    code, body, headers = serve
    cards.serve(CARD_PATH, body() if callable(body) else body, code, **headers)
    before = await snapshot(store)
    response = await open_http.post("/v1/agents:fetch", json={"url": cards.url})
    assert response.status_code == status, response.text
    assert response.json()["type"] == f"urn:woa:problem:{slug}"
    assert await snapshot(store) == before
    assert cards.hits == [CARD_PATH]


@pytest.mark.req("REG-063")
async def test_unreachable_agent(open_http: httpx.AsyncClient) -> None:
    from ._support import free_socket

    sock = free_socket()  # bound, never listening: connection refused
    try:
        port = sock.getsockname()[1]
        response = await open_http.post(
            "/v1/agents:fetch", json={"url": f"http://127.0.0.1:{port}"}
        )
    finally:
        sock.close()
    assert response.status_code == 502
    assert response.json()["type"] == "urn:woa:problem:card-fetch-failed"
