"""The state client: signs its requests, checks every answer, and helps with CAS loops."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from woa_agents import StateClient, StateClientError
from woa_agents.http import PeerError
from woa_protocol import InvalidSignatureError, SigningKey

BASE = "http://registry.test"
NS = "board"
REGISTRY_KEY = SigningKey.generate()

Clients = Callable[[SigningKey | None], StateClient]


def registry_settings(tmp_path: Path, name: str) -> Any:
    from woa_registry import RegistrySettings

    return RegistrySettings(
        database_url=f"sqlite:///{tmp_path}/{name}.db",
        key_file=tmp_path / f"{name}.pem",
        mdns_enabled=False,
        sweep_interval_seconds=3600,
        rate_per_address=0,
        rate_per_did=0,
    )


@pytest.fixture
async def state_app(tmp_path: Path) -> AsyncIterator[Any]:
    from woa_registry import create_app

    app = create_app(registry_settings(tmp_path, "registry"), key=REGISTRY_KEY)
    async with app.router.lifespan_context(app):
        yield app


@pytest.fixture
async def client_for(state_app: Any) -> AsyncIterator[Clients]:
    made: list[StateClient] = []

    def build(key: SigningKey | None) -> StateClient:
        c = StateClient(
            BASE, key, transport=httpx.ASGITransport(app=state_app), registry_did=REGISTRY_KEY.did
        )
        made.append(c)
        return c

    yield build
    for c in made:
        await c.aclose()


@pytest.fixture
def owner() -> SigningKey:
    return SigningKey.generate()


@pytest.mark.req("STATE-004")
async def test_answers_from_another_registry_key_are_rejected(
    state_app: Any, tmp_path: Path, owner: SigningKey
) -> None:
    from woa_registry import create_app

    impostor = create_app(registry_settings(tmp_path, "impostor"), key=SigningKey.generate())
    async with impostor.router.lifespan_context(impostor):
        client = StateClient(
            BASE, owner, transport=httpx.ASGITransport(app=impostor), registry_did=REGISTRY_KEY.did
        )
        async with client:
            with pytest.raises(InvalidSignatureError):
                await client.put_namespace(NS)
        # Trust on first use pins whoever answers first; the genuine registry then verifies.
        async with StateClient(BASE, owner, transport=httpx.ASGITransport(app=state_app)) as c:
            await c.put_namespace(NS)
            assert c.registry_did == REGISTRY_KEY.did


async def test_update_retries_lost_races(client_for: Clients, owner: SigningKey) -> None:
    admin = client_for(owner)
    await admin.put_namespace(NS)
    await admin.put(NS, "list", [], create=True)
    others = [client_for(owner) for _ in range(4)]

    def appender(item: int) -> Callable[[list[int]], list[int]]:
        return lambda value: [*value, item]

    await asyncio.gather(*(c.update(NS, "list", appender(i)) for i, c in enumerate(others)))
    doc = await admin.get(NS, "list")
    assert sorted(doc["value"]) == [0, 1, 2, 3]
    assert doc["version"] == 5


async def test_problem_answers_raise_with_type(client_for: Clients, owner: SigningKey) -> None:
    admin = client_for(owner)
    await admin.put_namespace(NS)
    with pytest.raises(StateClientError) as info:
        await admin.get(NS, "nothing")
    assert info.value.status == 404
    assert info.value.type == "urn:woa:problem:state-document-not-found"
    assert info.value.current_version is None
    assert isinstance(info.value, PeerError)


async def test_version_mismatch_names_the_current_version(
    client_for: Clients, owner: SigningKey
) -> None:
    admin = client_for(owner)
    await admin.put_namespace(NS)
    await admin.put(NS, "doc", {"n": 1}, create=True)
    await admin.put(NS, "doc", {"n": 2}, if_match=1)
    with pytest.raises(StateClientError) as info:
        await admin.put(NS, "doc", {"n": 3}, if_match=1)
    assert info.value.status == 412
    assert info.value.current_version == 2
    assert (await admin.get(NS, "doc"))["value"] == {"n": 2}


async def test_anonymous_reads_are_unsigned_and_private_namespaces_refuse_them(
    client_for: Clients, owner: SigningKey
) -> None:
    admin = client_for(owner)
    await admin.put_namespace(NS)
    await admin.put(NS, "doc", 1, create=True)
    anonymous = client_for(None)
    with pytest.raises(StateClientError) as info:
        await anonymous.get(NS, "doc")
    assert info.value.status in (401, 403)
    assert await admin.whoami() == owner.did


def test_watch_url() -> None:
    c = StateClient("https://reg.example/base/", None)
    assert c.watch_url(NS, "plan/", 4, ws=True) == (
        "wss://reg.example/base/v1/state/board/watch?prefix=plan%2F&since=4"
    )
    assert c.watch_url(NS, "", None, ws=False) == "https://reg.example/base/v1/state/board/watch"
