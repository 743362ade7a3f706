"""Consistency under load over real HTTP with real signatures: no lost update, no lost write.

* 8 concurrent writers do read-modify-CAS increments on one key through a live server, on
  both backends: the final value equals the number of acknowledged increments.
* The server process is SIGKILLed during a write load and restarted on the same database:
  every acknowledged write is there, and each key's signed history verifies and ends at its
  current value.
"""

from __future__ import annotations

import asyncio
import random
import signal
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

from woa_agents import StateClient, StateClientError, TransportError
from woa_protocol import SigningKey
from woa_registry.state import verify_history

from .._support import REGISTRY_KEY, LiveServer, RegistryProcess
from ._support import NS

WRITERS = 8
INCREMENTS = 8


@pytest.fixture
async def database_url(backend: tuple[str, str], tmp_path: Path) -> AsyncIterator[str]:
    kind, target = backend
    if kind == "sqlite":
        yield f"sqlite:///{target}"
        return
    schema = f"woa_state_h{uuid.uuid4().hex[:12]}"
    yield f"{target}?schema={schema}"
    import asyncpg

    conn = await asyncpg.connect(target)
    try:
        await conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
    finally:
        await conn.close()


async def increment(client: StateClient, key: str) -> int:
    """One read-modify-CAS increment, retried until it wins; return the new version."""
    while True:
        doc = await client.get(NS, key)
        try:
            result = await client.put(NS, key, doc["value"] + 1, if_match=doc["version"])
        except StateClientError as exc:
            if exc.status != 412:
                raise
            await asyncio.sleep(random.random() / 200)
            continue
        return int(result["version"])


@pytest.mark.req("STATE-022")
async def test_concurrent_cas_writers_lose_no_update(
    live_server: Callable[..., LiveServer], database_url: str, owner: SigningKey
) -> None:
    server = live_server(rate_per_address=0, rate_per_did=0, database_url=database_url)
    keys = [owner] + [SigningKey.generate() for _ in range(WRITERS - 1)]
    clients = [StateClient(server.url, k, registry_did=REGISTRY_KEY.did) for k in keys]
    try:
        await clients[0].put_namespace(NS, writers=[k.did for k in keys[1:]])
        await clients[0].put(NS, "counter", 0, create=True)
        acknowledged: list[int] = []

        async def worker(client: StateClient) -> None:
            for _ in range(INCREMENTS):
                acknowledged.append(await increment(client, "counter"))

        await asyncio.gather(*(worker(c) for c in clients))
        final = await clients[0].get(NS, "counter")
        assert len(acknowledged) == WRITERS * INCREMENTS
        assert final["value"] == len(acknowledged)
        assert sorted(acknowledged) == list(range(2, len(acknowledged) + 2))
        history = await clients[0].history(NS, "counter")
        assert [e["value"] for e in history] == list(range(len(acknowledged) + 1))
        assert {e["writer"] for e in history[1:]} <= {k.did for k in keys}
    finally:
        for c in clients:
            await c.aclose()


# -- SIGKILL -----------------------------------------------------------------------------


@pytest.mark.req("STATE-024")
@pytest.mark.req("STATE-032")
async def test_sigkill_during_writes_keeps_every_acknowledged_write(
    tmp_path: Path, registry_process: Callable[..., Awaitable[RegistryProcess]], owner: SigningKey
) -> None:
    url = f"sqlite:///{tmp_path}/registry.db"
    server = await registry_process(database_url=url)
    keys = [f"k{i}" for i in range(4)]
    acked: dict[str, int] = {k: 0 for k in keys}
    async with StateClient(server.url, owner) as admin:
        await admin.put_namespace(NS)
        await admin.batch(
            NS, [{"op": "put", "key": k, "value": 0, "ifNoneMatch": "*"} for k in keys]
        )
        for k in keys:
            acked[k] = 1
    enough = asyncio.Event()

    async def load(key: str) -> None:
        async with StateClient(server.url, owner, timeout=5) as client:
            version = 1
            while True:
                try:
                    result = await client.put(NS, key, version, if_match=version)
                except (TransportError, OSError):
                    return  # the server died mid-request: not acknowledged
                version = int(result["version"])
                acked[key] = version
                if sum(acked.values()) >= 60:
                    enough.set()

    tasks = [asyncio.create_task(load(k)) for k in keys]
    await asyncio.wait_for(enough.wait(), 60)
    server.stop(signal.SIGKILL)  # writes are in flight
    assert server.proc.returncode == -signal.SIGKILL
    await asyncio.wait_for(asyncio.gather(*tasks), 30)

    restarted = await registry_process(database_url=url)
    async with StateClient(restarted.url, owner) as admin:
        for key in keys:
            doc = await admin.get(NS, key)
            assert doc["version"] >= acked[key]  # every acknowledged write survived
            assert doc["value"] == doc["version"] - 1  # and no half-applied one exists
            history = await admin.history(NS, key)
            assert [e["version"] for e in history] == list(range(1, doc["version"] + 1))
            assert history[-1]["value"] == doc["value"]
            verified = verify_history(history)
            assert all(v is not None and v.did == owner.did for v in verified)
        # The restarted server takes writes again.
        last: dict[str, Any] = await admin.get(NS, keys[0])
        await admin.put(NS, keys[0], last["value"] + 1, if_match=last["version"])
