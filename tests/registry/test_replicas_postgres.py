"""Two registry processes on one PostgreSQL database behave as one registry.

Uses the server named by ``WOA_TEST_POSTGRES_DSN`` (default: this machine's), in a schema of
its own that is dropped afterwards. Skips only when the server is clearly unreachable and
``CI`` is not set; in CI it fails instead.
"""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest

from woa_agents import FeedEvent, RegistryClient
from woa_protocol import SigningKey

from ._support import LiveServer, make_card

pytestmark = pytest.mark.postgres


@pytest.fixture
async def pg_database_url(postgres_dsn: str) -> AsyncIterator[str]:
    import asyncpg

    conn = await asyncpg.connect(postgres_dsn, timeout=5)
    schema = f"woa_replicas_{secrets.token_hex(6)}"
    try:
        yield f"{postgres_dsn}?schema={schema}"
    finally:
        await conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
        await conn.close()


@pytest.fixture
def replicas(
    pg_database_url: str, tmp_path: Path, live_server: Callable[..., LiveServer]
) -> tuple[LiveServer, LiveServer]:
    common = {
        "database_url": pg_database_url,
        "key_file": tmp_path / "shared-key.pem",
        "lease_min_seconds": 1,
        "sweep_interval_seconds": 0.2,
    }
    first = live_server(**common)
    second = live_server(**common)
    return first, second


async def _next(feed: AsyncIterator[FeedEvent]) -> FeedEvent:
    return await asyncio.wait_for(anext(feed), 20)


@pytest.mark.req("REG-083")
async def test_agents_and_events_cross_replicas(replicas: tuple[LiveServer, LiveServer]) -> None:
    a, b = replicas
    key = SigningKey.generate()
    async with RegistryClient(a.url, key) as on_a, RegistryClient(b.url, None) as on_b:
        feed = on_b.watch(since=0)
        await on_a.register(make_card(key), lease_seconds=600)
        found = await on_b.get(key.did)
        assert found is not None
        assert found["did"] == key.did
        assert [x["did"] async for x in on_b.search_all(skill="summarize")] == [key.did]
        registered = await _next(feed)
        await on_a.register(make_card(key, name="Renamed"), lease_seconds=600)
        updated = await _next(feed)
        await on_a.deregister()
        gone = await _next(feed)
        await feed.aclose()
    assert [(e.kind, e.did) for e in (registered, updated, gone)] == [
        ("registered", key.did),
        ("updated", key.did),
        ("deregistered", key.did),
    ]


@pytest.mark.req("REG-083")
@pytest.mark.req("REG-031")
async def test_a_lease_expires_exactly_once_with_two_sweepers(
    replicas: tuple[LiveServer, LiveServer],
) -> None:
    a, b = replicas
    keys = [SigningKey.generate() for _ in range(4)]
    async with RegistryClient(a.url, None) as watcher_a, RegistryClient(b.url, None) as watcher_b:
        feed_a, feed_b = watcher_a.watch(since=0), watcher_b.watch(since=0)
        for index, key in enumerate(keys):
            async with RegistryClient((a, b)[index % 2].url, key) as client:
                await client.register(make_card(key), lease_seconds=1)
        seen_a = [await _next(feed_a) for _ in range(8)]
        seen_b = [await _next(feed_b) for _ in range(8)]
        await feed_a.aclose()
        await feed_b.aclose()
        # nothing after: a second expired event would be a ninth event
        late = watcher_a.watch(since=seen_a[-1].seq)
        with pytest.raises(TimeoutError):
            await asyncio.wait_for(anext(late), 1.5)
        await late.aclose()
    assert [e.seq for e in seen_a] == [e.seq for e in seen_b]
    expired = sorted(e.did for e in seen_a if e.kind == "expired")
    assert expired == sorted(k.did for k in keys)
