"""The SDK's own registry client against the real registry app (in memory)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from woa_agents import RegistryClient, RegistryError
from woa_protocol import InvalidSignatureError, SigningKey

from .conftest import make_agent

REGISTRY_KEY = SigningKey.generate()


@pytest.fixture
async def registry_app(tmp_path: Path) -> AsyncIterator[Any]:
    from woa_registry import RegistrySettings, create_app

    settings = RegistrySettings(
        database_url=f"sqlite:///{tmp_path}/r.db",
        key_file=tmp_path / "k.pem",
        mdns_enabled=False,
        sweep_interval_seconds=3600,
    )
    app = create_app(settings, key=REGISTRY_KEY)
    async with app.router.lifespan_context(app):
        yield app


def client(app: Any, key: SigningKey | None, **kw: Any) -> RegistryClient:
    return RegistryClient("http://registry.test", key, httpx.ASGITransport(app=app), **kw)


@pytest.mark.req("AGT-070")
async def test_register_heartbeat_search_deregister(registry_app: Any) -> None:
    agent = make_agent()
    async with client(registry_app, agent.key) as mine, client(registry_app, None) as reader:
        stored = await mine.register(agent.card("http://127.0.0.1:9/"), lease_seconds=30)
        assert stored["did"] == agent.did
        assert mine.registry_did == REGISTRY_KEY.did
        assert (await mine.heartbeat(60))["did"] == agent.did
        page = await reader.search(skill="echo", family="classical")
        assert [a["did"] for a in page["agents"]] == [agent.did]
        payload = await reader.search_payload({"n": 3})
        assert {m["skillId"] for m in payload["matches"]} == {"count"}
        await mine.deregister()
        assert await reader.get(agent.did) is None
        with pytest.raises(RegistryError) as info:
            await mine.heartbeat()
        assert info.value.status == 404
        assert info.value.type == "urn:woa:problem:agent-not-found"


async def test_registry_with_another_key_is_refused(registry_app: Any) -> None:
    async with client(registry_app, None, registry_did=SigningKey.generate().did) as pinned:
        with pytest.raises(InvalidSignatureError):
            await pinned.search(skill="echo")


async def test_writes_need_a_key(registry_app: Any) -> None:
    async with client(registry_app, None) as anonymous:
        with pytest.raises(RuntimeError, match="no key"):
            await anonymous.deregister()
