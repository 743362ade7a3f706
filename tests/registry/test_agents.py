"""Registering, reading, heartbeating and deregistering agents (in-process, real SQLite)."""

from __future__ import annotations

from datetime import datetime

import httpx
import pytest

from woa_protocol import SigningKey, verify_card
from woa_registry.storage import AgentStore, EventKind

from ._support import SkillSpec, make_card, put_agent, signed


@pytest.mark.req("REG-010")
@pytest.mark.req("REG-017")
async def test_register_creates_then_updates(http: httpx.AsyncClient, store: AgentStore) -> None:
    key = SigningKey.generate()
    first = await put_agent(http, key, leaseSeconds=30)
    assert first.status_code == 201, first.text
    body = first.json()
    assert body["did"] == key.did
    assert body["verified"] is True
    assert body["name"] == "Text agent"
    assert body["url"] == "http://127.0.0.1:9/a2a"
    assert body["skills"][0]["id"] == "summarize"
    assert body["skills"][0]["family"] == "slm"
    expires = datetime.fromisoformat(body["leaseExpiresAt"])
    registered = datetime.fromisoformat(body["registeredAt"])
    assert 29 <= (expires - registered).total_seconds() <= 31
    events = await store.events_since(0)
    assert [(e.kind, e.seq) for e in events] == [(EventKind.REGISTERED, body["eventSeq"])]

    card = make_card(key, name="Renamed agent")
    second = await put_agent(http, key, card)
    assert second.status_code == 200, second.text
    updated = second.json()
    assert updated["name"] == "Renamed agent"
    assert updated["registeredAt"] == body["registeredAt"]
    assert updated["eventSeq"] > body["eventSeq"]
    assert (await store.events_since(body["eventSeq"]))[0].kind is EventKind.UPDATED


@pytest.mark.req("REG-018")
@pytest.mark.req("REG-020")
async def test_get_returns_the_card_as_received(http: httpx.AsyncClient) -> None:
    key = SigningKey.generate()
    card = make_card(key)
    card["x-unknown-member"] = {"kept": [1, 2.5, "three"]}  # unknown members stay signed
    from woa_protocol import sign_card

    card = sign_card({k: v for k, v in card.items() if k != "signatures"}, key)
    assert (await put_agent(http, key, card)).status_code == 201
    got = await http.get(f"/v1/agents/{key.did}")
    assert got.status_code == 200
    stored = got.json()["card"]
    assert stored == card
    assert verify_card(stored, expected_did=key.did)
    assert "eventSeq" not in got.json()


@pytest.mark.req("REG-020")
async def test_get_unknown_agent_is_404(http: httpx.AsyncClient) -> None:
    response = await http.get(f"/v1/agents/{SigningKey.generate().did}")
    assert response.status_code == 404
    assert response.json()["type"] == "urn:woa:problem:agent-not-found"
    assert response.headers["content-type"] == "application/problem+json"


@pytest.mark.req("REG-021")
async def test_deregister(http: httpx.AsyncClient, store: AgentStore) -> None:
    key = SigningKey.generate()
    assert (await put_agent(http, key)).status_code == 201
    _content, headers = signed(key, "DELETE", f"/v1/agents/{key.did}")
    response = await http.delete(f"/v1/agents/{key.did}", headers=headers)
    assert response.status_code == 204, response.text
    assert await store.get(key.did) is None
    assert (await store.events_since(0))[-1].kind is EventKind.DEREGISTERED
    again = signed(key, "DELETE", f"/v1/agents/{key.did}")[1]
    missing = await http.delete(f"/v1/agents/{key.did}", headers=again)
    assert missing.status_code == 404
    assert missing.json()["type"] == "urn:woa:problem:agent-not-found"


@pytest.mark.req("REG-022")
@pytest.mark.req("REG-030")
async def test_heartbeat_renews_without_an_event(
    http: httpx.AsyncClient, store: AgentStore
) -> None:
    key = SigningKey.generate()
    assert (await put_agent(http, key, leaseSeconds=10)).status_code == 201
    seq = await store.last_seq()
    before = (await store.get(key.did)).lease_expires_at  # type: ignore[union-attr]
    content, headers = signed(key, "POST", f"/v1/agents/{key.did}/heartbeat", {"leaseSeconds": 600})
    response = await http.post(f"/v1/agents/{key.did}/heartbeat", content=content, headers=headers)
    assert response.status_code == 200, response.text
    lease = datetime.fromisoformat(response.json()["leaseExpiresAt"])
    assert (lease - before).total_seconds() > 500
    stored = (await store.get(key.did)).lease_expires_at  # type: ignore[union-attr]
    assert abs((stored - lease).total_seconds()) < 0.001  # the wire has millisecond precision
    assert await store.last_seq() == seq

    # no body: the default lease (60 s)
    content, headers = signed(key, "POST", f"/v1/agents/{key.did}/heartbeat")
    response = await http.post(f"/v1/agents/{key.did}/heartbeat", content=content, headers=headers)
    assert response.status_code == 200, response.text
    default = datetime.fromisoformat(response.json()["leaseExpiresAt"])
    assert default < lease


@pytest.mark.req("REG-022")
async def test_heartbeat_for_unknown_agent_is_404(http: httpx.AsyncClient) -> None:
    key = SigningKey.generate()
    content, headers = signed(key, "POST", f"/v1/agents/{key.did}/heartbeat")
    response = await http.post(f"/v1/agents/{key.did}/heartbeat", content=content, headers=headers)
    assert response.status_code == 404
    assert response.json()["type"] == "urn:woa:problem:agent-not-found"


@pytest.mark.req("REG-017")
async def test_skills_take_the_card_default_modes(http: httpx.AsyncClient) -> None:
    key = SigningKey.generate()
    card = make_card(key, skills=[SkillSpec(input_modes=(), output_modes=())])
    response = await put_agent(http, key, card)
    assert response.status_code == 201, response.text
    skill = response.json()["skills"][0]
    assert skill["inputModes"] == ["application/json"]
    assert skill["outputModes"] == ["application/json"]
    assert skill["inputSchema"]["required"] == ["text"]
