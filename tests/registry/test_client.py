"""The registry client: signs requests, checks every answer against the registry's DID."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest

from woa_protocol import InvalidSignatureError, SigningKey
from woa_registry import RegistryClient, RegistryError, create_app
from woa_registry.settings import RegistrySettings
from woa_registry.storage import AgentStore

from ._support import BASE, REGISTRY_KEY, make_card

ClientFor = Callable[[SigningKey | None], RegistryClient]


@pytest.mark.req("REG-017")
@pytest.mark.req("REG-021")
@pytest.mark.req("REG-022")
async def test_agent_lifecycle_through_the_client(client_for: ClientFor) -> None:
    key = SigningKey.generate()
    client = client_for(key)
    result = await client.register(make_card(key), lease_seconds=30)
    assert result["did"] == key.did
    assert client.registry_did == REGISTRY_KEY.did  # learned from /.well-known, then verified
    lease = await client.heartbeat(120)
    assert lease["leaseExpiresAt"] > result["leaseExpiresAt"]
    reader = client_for(None)
    got = await reader.get(key.did)
    assert got is not None
    assert got["card"]["name"] == "Text agent"
    page = await reader.search(skill="summarize")
    assert [a["did"] for a in page["agents"]] == [key.did]
    assert [a["did"] async for a in reader.search_all(limit=1)] == [key.did]
    found = await reader.search_payload({"text": "hello"})
    assert found["matches"][0]["skillId"] == "summarize"
    await client.deregister()
    assert await reader.get(key.did) is None
    with pytest.raises(RegistryError) as info:
        await client.heartbeat()
    assert info.value.status == 404
    assert info.value.type == "urn:woa:problem:agent-not-found"


@pytest.mark.req("REG-002")
async def test_client_refuses_an_impostor(
    registry_settings: RegistrySettings, store: AgentStore
) -> None:
    impostor = create_app(registry_settings, store=store, key=SigningKey.generate())
    async with impostor.router.lifespan_context(impostor):
        transport = httpx.ASGITransport(app=impostor)
        async with RegistryClient(
            BASE, SigningKey.generate(), transport, registry_did=REGISTRY_KEY.did
        ) as client:
            with pytest.raises(InvalidSignatureError):
                await client.search()
            key = client.key
            assert key is not None
            with pytest.raises(InvalidSignatureError):
                await client.register(make_card(key))


async def test_client_without_key_cannot_write(client_for: ClientFor) -> None:
    with pytest.raises(RuntimeError, match="no key"):
        await client_for(None).heartbeat()


def test_feed_url() -> None:
    client = RegistryClient("https://reg.example/base/", None)
    assert client.feed_url(7) == "wss://reg.example/base/v1/feed?since=7"
    assert client.feed_url(None) == "wss://reg.example/base/v1/feed"
