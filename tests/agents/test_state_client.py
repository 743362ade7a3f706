"""The state client: signs its requests, checks every answer, and helps with CAS loops."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI

from woa_protocol import InvalidSignatureError, SigningKey
from woa_registry import RegistrySettings, create_app
from woa_registry.state import StateClient, StateClientError

from .._support import BASE, REGISTRY_KEY
from ._support import NS

Clients = Callable[[SigningKey | None], StateClient]


@pytest.mark.req("STATE-004")
async def test_answers_from_another_registry_key_are_rejected(
    state_app: FastAPI, tmp_path: Path, owner: SigningKey
) -> None:
    impostor_key = SigningKey.generate()
    impostor = create_app(
        RegistrySettings(
            database_url=f"sqlite:///{tmp_path}/impostor.db",
            key_file=tmp_path / "impostor.pem",
            rate_per_address=0,
        ),
        key=impostor_key,
    )
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
