"""Cursors are tamper-evident on every paged endpoint (REG-044, STATE-019)."""

from __future__ import annotations

import base64
from collections.abc import Callable

import httpx
import pytest
from fastapi import FastAPI

from woa_protocol import SigningKey
from woa_registry.cursors import CursorSealer
from woa_registry.problems import InvalidCursorError

from ._support import BASE, REGISTRY_KEY, put_agent
from .state._support import signed_request


def _b64(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


async def _first_page(http: httpx.AsyncClient) -> str:
    for _ in range(3):
        assert (await put_agent(http, SigningKey.generate())).status_code == 201
    page = (await http.get("/v1/agents", params={"limit": 1})).json()
    cursor: str = page["nextCursor"]
    return cursor


@pytest.mark.req("REG-044")
async def test_forged_search_cursors_are_refused(http: httpx.AsyncClient) -> None:
    cursor = await _first_page(http)
    assert (await http.get("/v1/agents", params={"cursor": cursor})).status_code == 200
    inner, _, tag = cursor.rpartition(".")
    dids = sorted(a["did"] for a in (await http.get("/v1/agents")).json()["agents"])
    forged = [
        _b64(dids[0]),  # what main issued: base64 of the last DID, accepted for any DID
        f"{_b64(dids[-1])}.{tag}",  # another position under a copied tag
        f"{inner}.{'A' * len(tag)}",
        f"{inner}.",
        inner,
        ".",
    ]
    for bad in forged:
        response = await http.get("/v1/agents", params={"cursor": bad})
        assert response.status_code == 400, bad
        assert response.json()["type"] == "urn:woa:problem:invalid-cursor"


@pytest.mark.req("REG-044")
async def test_replicas_with_one_key_accept_each_others_cursors(
    http: httpx.AsyncClient, make_app: Callable[..., FastAPI]
) -> None:
    cursor = await _first_page(http)
    replica = make_app()
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=replica), base_url=BASE) as c:
        assert (await c.get("/v1/agents", params={"cursor": cursor})).status_code == 200


@pytest.mark.req("REG-044")
def test_sealer_binds_purpose_and_key() -> None:
    sealer = CursorSealer(REGISTRY_KEY)
    sealed = sealer.seal("agents", "abc")
    assert sealed is not None
    assert sealer.open("agents", sealed) == "abc"
    assert CursorSealer(REGISTRY_KEY).open("agents", sealed) == "abc"
    with pytest.raises(InvalidCursorError):
        sealer.open("state-docs\x00ns\x00", sealed)
    with pytest.raises(InvalidCursorError):
        CursorSealer(SigningKey.generate()).open("agents", sealed)
    assert sealer.seal("agents", None) is None
    assert sealer.open("agents", None) is None


@pytest.mark.req("STATE-019")
async def test_state_cursors_are_bound_to_their_listing(http: httpx.AsyncClient) -> None:
    owner = SigningKey.generate()

    async def call(method: str, path: str, body: object = None, **headers: str) -> httpx.Response:
        content, hdrs = signed_request(owner, method, path, body, headers=headers or None)
        return await http.request(method, path, content=content, headers=hdrs)

    for ns in ("one", "two"):
        assert (await call("PUT", f"/v1/state/{ns}", {})).status_code == 201
        for i in range(3):
            path = f"/v1/state/{ns}/docs/t/{i}"
            assert (await call("PUT", path, i, **{"if-none-match": "*"})).status_code == 201
    page = (await call("GET", "/v1/state/one/docs?limit=1")).json()
    cursor = page["nextCursor"]
    assert (await call("GET", f"/v1/state/one/docs?limit=1&cursor={cursor}")).status_code == 200
    for path in (
        f"/v1/state/two/docs?limit=1&cursor={cursor}",  # another namespace
        f"/v1/state/one/docs?prefix=t/&limit=1&cursor={cursor}",  # another prefix
        f"/v1/state/one/docs?limit=1&cursor={_b64('t/1')}",  # main's form: base64 of a key
    ):
        response = await call("GET", path)
        assert response.status_code == 400, path
        assert response.json()["type"] == "urn:woa:problem:invalid-cursor"
