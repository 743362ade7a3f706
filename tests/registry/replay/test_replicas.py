"""A captured signed request is refused by every replica and after a restart (real sockets).

The replicas sit behind one public URL, as behind a load balancer: a request signed for
that URL verifies on any of them, which is what makes a replay across replicas possible.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import httpx
import pytest

from woa_protocol import SigningKey

from .._support import RegistryProcess, make_card, signed

PUBLIC = "http://registry.example"
Start = Callable[..., Awaitable[RegistryProcess]]


async def _send(
    process: RegistryProcess, request: tuple[str, str, bytes, dict[str, str]]
) -> httpx.Response:
    method, path, content, headers = request
    async with httpx.AsyncClient(base_url=process.url, timeout=20) as http:
        return await http.request(method, path, content=content, headers=headers)


def _request(
    key: SigningKey, method: str, body: Any = None
) -> tuple[str, str, bytes, dict[str, str]]:
    path = f"/v1/agents/{key.did}"
    content, headers = signed(key, method, path, body, base=PUBLIC)
    return method, path, content, headers


async def _replay_is_refused(
    first: RegistryProcess, then: Callable[[], Awaitable[RegistryProcess]]
) -> None:
    key = SigningKey.generate()
    assert (await _send(first, _request(key, "PUT", {"card": make_card(key)}))).status_code == 201
    captured = _request(key, "DELETE")
    assert (await _send(first, captured)).status_code == 204
    # the agent comes back with a fresh request; the attacker then replays the DELETE
    assert (await _send(first, _request(key, "PUT", {"card": make_card(key)}))).status_code == 201
    second = await then()
    replayed = await _send(second, captured)
    assert replayed.status_code == 401, replayed.text
    assert replayed.json()["type"] == "urn:woa:problem:signature-replayed"
    async with httpx.AsyncClient(base_url=second.url) as http:
        assert (await http.get(f"/v1/agents/{key.did}")).status_code == 200  # still registered


@pytest.mark.req("REG-084")
@pytest.mark.req("RPL-006")
async def test_a_restart_does_not_reopen_the_window(registry_process: Start) -> None:
    env = {"WOA_REGISTRY_PUBLIC_URL": PUBLIC}
    process = await registry_process(env=env)

    async def restart() -> RegistryProcess:
        process.stop()
        return await registry_process(env=env)

    await _replay_is_refused(process, restart)


@pytest.fixture
async def shared_postgres(postgres_dsn: str) -> AsyncIterator[str]:
    import asyncpg

    schema = f"woa_replay_r{uuid.uuid4().hex[:12]}"
    yield f"{postgres_dsn}?schema={schema}"
    conn = await asyncpg.connect(postgres_dsn)
    try:
        await conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
    finally:
        await conn.close()


@pytest.mark.req("REG-084")
@pytest.mark.req("RPL-006")
async def test_a_delete_replayed_on_another_replica_is_refused(
    registry_process: Start, shared_postgres: str
) -> None:
    env = {"WOA_REGISTRY_PUBLIC_URL": PUBLIC}
    first = await registry_process(database_url=shared_postgres, env=env)
    second = await registry_process(database_url=shared_postgres, env=env)

    async def other() -> RegistryProcess:
        return second

    await _replay_is_refused(first, other)
