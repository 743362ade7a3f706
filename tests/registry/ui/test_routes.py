"""The dashboard's routes in-process: public reads only, the page policy, try-it's guards."""

from __future__ import annotations

import copy
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from pydantic import BaseModel

from woa_agents import Agent, StateClient
from woa_protocol import SigningKey
from woa_protocol.keyfile import save_key
from woa_registry.records import build_record, parse_card
from woa_registry.storage import AgentStore
from woa_registry.ui import POLICY
from woa_registry.ui.views import card_view, history_rows, trail_view

from .._support import BASE


class Text(BaseModel):
    text: str


def upper_agent(name: str) -> Agent:
    agent = Agent(name, f"{name}: upper-cases text")

    @agent.skill(family="classical", tags=["text"], idempotent=True)
    async def upper(request: Text) -> Text:
        """Upper-case the text."""
        return Text(text=request.text.upper())

    return agent


@pytest.fixture
async def ui(make_app: Callable[..., FastAPI]) -> AsyncIterator[httpx.AsyncClient]:
    app = make_app()
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=BASE) as client,
    ):
        client.app = app  # type: ignore[attr-defined]
        yield client


def state_client(ui: httpx.AsyncClient, key: SigningKey) -> StateClient:
    app = ui.app  # type: ignore[attr-defined]
    return StateClient(BASE, key, transport=httpx.ASGITransport(app=app))


@pytest.mark.req("REG-101")
@pytest.mark.parametrize("path", ["/ui/agents", "/ui/state", "/docs", "/redoc"])
async def test_pages_carry_a_same_origin_policy(ui: httpx.AsyncClient, path: str) -> None:
    response = await ui.get(path)
    assert response.status_code == 200
    assert response.headers["content-security-policy"] == POLICY
    assert "default-src 'self'" in POLICY
    assert "img-src 'self' data:" in POLICY
    assert "cdn" not in response.text.lower()
    assert (await ui.get("/v1/agents")).headers.get("content-security-policy") is None


async def test_docs_assets_ship_in_a_package(ui: httpx.AsyncClient) -> None:
    page = (await ui.get("/docs")).text
    assert "/static-offline-docs/swagger-ui-bundle.js" in page
    script = await ui.get("/static-offline-docs/swagger-ui-bundle.js")
    assert script.status_code == 200
    assert len(script.content) > 100_000
    assert (await ui.get("/static-offline-docs/redoc.standalone.js")).status_code == 200


@pytest.mark.req("REG-100")
async def test_only_public_namespaces_are_shown(ui: httpx.AsyncClient) -> None:
    owner = SigningKey.generate()
    async with state_client(ui, owner) as state:
        await state.put_namespace("open", public_read=True)
        await state.put_namespace("closed", readers=[owner.did])
        await state.put("closed", "secret", {"pin": 1234}, create=True)
    listing = (await ui.get("/ui/state")).text
    assert "/ui/state/open" in listing
    assert "closed" not in listing
    refused = await ui.get("/ui/state/closed")
    assert refused.status_code == 403
    assert "1234" not in refused.text
    refused = await ui.get("/ui/state/closed/docs/secret")
    assert refused.status_code == 403
    assert "1234" not in refused.text
    assert (await ui.get("/ui/state/nowhere")).status_code == 404


async def test_unknown_agent_and_bad_search(ui: httpx.AsyncClient) -> None:
    missing = await ui.get("/ui/agents/did:key:z6MkNothere")
    assert missing.status_code == 404
    assert "no agent" in missing.text
    bad = await ui.get("/ui/agents/rows", params={"payload": "{"})
    assert bad.status_code == 400
    assert "payload is not JSON" in bad.text


@pytest.mark.req("REG-102")
async def test_try_it_is_off_unless_a_key_is_configured(
    ui: httpx.AsyncClient, store: AgentStore
) -> None:
    agent = upper_agent("upper")
    card = agent.card("http://127.0.0.1:9/")
    model, ext = parse_card(card, require_extension=True)
    assert ext is not None
    now = datetime.now(UTC)
    await store.put(
        build_record(
            agent.did,
            card,
            model,
            ext,
            now=now,
            lease_expires_at=now + timedelta(60),
            verified=True,
        )
    )
    page = (await ui.get(f"/ui/agents/{agent.did}")).text
    assert "Try-it is disabled" in page
    assert "<fieldset disabled>" in page
    posted = await ui.post(f"/ui/agents/{agent.did}/call", data={"skill": "upper"})
    assert posted.status_code == 403
    assert "WOA_REGISTRY_UI_CALL_KEY_FILE" in posted.text


async def test_try_it_refuses_a_foreign_origin(
    make_app: Callable[..., FastAPI], tmp_path: Any, store: AgentStore
) -> None:

    save_key(SigningKey.generate(), tmp_path / "caller.pem")
    app = make_app(ui_call_key_file=tmp_path / "caller.pem")
    agent = upper_agent("upper")
    card = agent.card("http://127.0.0.1:9/")
    model, ext = parse_card(card, require_extension=True)
    assert ext is not None
    now = datetime.now(UTC)
    await store.put(
        build_record(
            agent.did,
            card,
            model,
            ext,
            now=now,
            lease_expires_at=now + timedelta(60),
            verified=True,
        )
    )
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=BASE) as client,
    ):
        posted = await client.post(
            f"/ui/agents/{agent.did}/call",
            data={"skill": "upper"},
            headers={"origin": "https://evil.example"},
        )
        assert posted.status_code == 403
        assert "another site" in posted.text
        missing = await client.post(f"/ui/agents/{agent.did}/call", data={"skill": "nope"})
        assert missing.status_code == 400


def test_card_view_reports_a_tampered_signature() -> None:
    agent = upper_agent("upper")
    card = agent.card("http://127.0.0.1:9/")
    model, ext = parse_card(card, require_extension=True)
    assert ext is not None
    now = datetime.now(UTC)
    record = build_record(agent.did, card, model, ext, now=now, lease_expires_at=now, verified=True)
    good = card_view(record)
    assert good.signature_ok
    assert agent.did in good.signature_note
    assert [s.id for s in good.skills] == ["upper"]
    tampered = copy.deepcopy(card)
    tampered["description"] = "something else"
    bad = card_view(
        build_record(agent.did, tampered, model, ext, now=now, lease_expires_at=now, verified=True)
    )
    assert not bad.signature_ok
    assert bad.signature_note.startswith("invalid")


@pytest.mark.req("STATE-032")
async def test_history_rows_verify_and_catch_tampering(ui: httpx.AsyncClient) -> None:
    owner = SigningKey.generate()
    async with state_client(ui, owner) as state:
        await state.put_namespace("pub", public_read=True)
        await state.put("pub", "doc", {"n": 1}, create=True)
        await state.patch("pub", "doc", [{"op": "replace", "path": "/n", "value": 2}], if_match=1)
        entries = await state.history("pub", "doc")
    rows = history_rows(entries)
    assert [(r.op, r.verified) for r in rows] == [("put", True), ("patch", True)]
    forged = copy.deepcopy(entries)
    forged[1]["value"] = {"n": 3}
    assert [r.verified for r in history_rows(forged)] == [True, False]
    page = (await ui.get("/ui/state/pub/docs/doc")).text
    assert page.count("signature valid") == 2


@pytest.mark.req("STATE-051")
def test_trail_view_draws_trees_and_names_bad_ones() -> None:
    assert trail_view({"some": "document"}) is None
    at = "2026-12-06T00:00:00Z"
    hop = {"skill": "s", "agent": "did:a", "signer": "did:b", "at": at}
    good = trail_view(
        {
            "kind": "woa.trail/1",
            "task": "t",
            "hops": [{"id": "1", **hop}, {"id": "2", "parent": "1", **hop}],
        }
    )
    assert good is not None
    assert good.error is None
    assert len(good.roots[0].children) == 1
    bad = trail_view(
        {"kind": "woa.trail/1", "task": "t", "hops": [{"id": "2", "parent": "1", **hop}]}
    )
    assert bad is not None
    assert bad.roots == []
    assert "unknown parent" in (bad.error or "")
    malformed = trail_view({"kind": "woa.trail/1", "task": "t", "hops": [{"id": "1"}]})
    assert malformed is not None
    assert "malformed trail" in (malformed.error or "")


async def test_dashboard_can_be_turned_off(make_app: Callable[..., FastAPI]) -> None:
    app = make_app(ui_enabled=False)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=BASE) as c:
        assert (await c.get("/ui/agents")).status_code == 404
