"""The SDK's registry client against the real registry app (in memory)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from woa_agents import RegistryClient, RegistryError
from woa_agents.http import PeerError
from woa_protocol import InvalidSignatureError, SigningKey

from .conftest import make_agent

REGISTRY_KEY = SigningKey.generate()


def registry_settings(tmp_path: Path, name: str = "r") -> Any:
    from woa_registry import RegistrySettings

    return RegistrySettings(
        database_url=f"sqlite:///{tmp_path}/{name}.db",
        key_file=tmp_path / f"{name}.pem",
        mdns_enabled=False,
        sweep_interval_seconds=3600,
    )


@pytest.fixture
async def registry_app(tmp_path: Path) -> AsyncIterator[Any]:
    from woa_registry import create_app

    app = create_app(registry_settings(tmp_path), key=REGISTRY_KEY)
    async with app.router.lifespan_context(app):
        yield app


def client(app: Any, key: SigningKey | None, **kw: Any) -> RegistryClient:
    return RegistryClient("http://registry.test", key, httpx.ASGITransport(app=app), **kw)


@pytest.mark.req("AGT-070")
@pytest.mark.req("REG-017")
@pytest.mark.req("REG-021")
@pytest.mark.req("REG-022")
async def test_register_heartbeat_search_deregister(registry_app: Any) -> None:
    agent = make_agent()
    async with client(registry_app, agent.key) as mine, client(registry_app, None) as reader:
        stored = await mine.register(agent.card("http://127.0.0.1:9/"), lease_seconds=30)
        assert stored["did"] == agent.did
        assert mine.registry_did == REGISTRY_KEY.did  # learned from /.well-known, then verified
        lease = await mine.heartbeat(120)
        assert lease["did"] == agent.did
        assert lease["leaseExpiresAt"] > stored["leaseExpiresAt"]
        got = await reader.get(agent.did)
        assert got is not None
        assert got["card"]["name"] == "tester"
        page = await reader.search(skill="echo", family="classical")
        assert [a["did"] for a in page["agents"]] == [agent.did]
        payload = await reader.search_payload({"n": 3})
        assert {m["skillId"] for m in payload["matches"]} == {"count"}
        await mine.deregister()
        assert await reader.get(agent.did) is None
        with pytest.raises(RegistryError) as info:
            await mine.heartbeat()
        assert isinstance(info.value, PeerError)
        assert info.value.status == 404
        assert info.value.type == "urn:woa:problem:agent-not-found"


async def test_search_all_follows_cursors(registry_app: Any) -> None:
    agents = [make_agent() for _ in range(3)]
    async with client(registry_app, None) as reader:
        for agent in agents:
            async with client(registry_app, agent.key) as mine:
                await mine.register(agent.card("http://127.0.0.1:9/"))
        first = await reader.search(limit=1)
        assert len(first["agents"]) == 1
        assert first["nextCursor"]
        found = [a["did"] async for a in reader.search_all(limit=1)]
        assert sorted(found) == sorted(a.did for a in agents)


async def test_get_raises_on_a_problem_other_than_unknown_agent(registry_app: Any) -> None:
    async with client(registry_app, None) as reader:
        with pytest.raises(RegistryError) as info:
            await reader.get("not-a-did")
        assert info.value.status in (400, 404, 422)
        assert info.value.type != "urn:woa:problem:agent-not-found"


@pytest.mark.req("REG-002")
async def test_registry_with_another_key_is_refused(registry_app: Any) -> None:
    async with client(registry_app, None, registry_did=SigningKey.generate().did) as pinned:
        with pytest.raises(InvalidSignatureError):
            await pinned.search(skill="echo")


@pytest.mark.req("REG-002")
async def test_client_refuses_an_impostor(tmp_path: Path) -> None:
    from woa_registry import create_app

    impostor = create_app(registry_settings(tmp_path, "impostor"), key=SigningKey.generate())
    agent = make_agent()
    pinned = client(impostor, agent.key, registry_did=REGISTRY_KEY.did)
    async with impostor.router.lifespan_context(impostor), pinned:
        with pytest.raises(InvalidSignatureError):
            await pinned.search()
        with pytest.raises(InvalidSignatureError):
            await pinned.register(agent.card("http://127.0.0.1:9/"))
        assert pinned.registry_did == REGISTRY_KEY.did


async def test_writes_need_a_key(registry_app: Any) -> None:
    async with client(registry_app, None) as anonymous:
        with pytest.raises(RuntimeError, match="no key"):
            await anonymous.deregister()
        with pytest.raises(RuntimeError, match="no key"):
            await anonymous.heartbeat()


def test_feed_url() -> None:
    c = RegistryClient("https://reg.example/base/", None)
    assert c.feed_url(7) == "wss://reg.example/base/v1/feed?since=7"
    assert c.feed_url(None) == "wss://reg.example/base/v1/feed"
    assert (
        RegistryClient("http://reg.example", None).feed_url(0) == "ws://reg.example/v1/feed?since=0"
    )
