"""Fixtures running the replay-store contract on both backends (SQLite, PostgreSQL)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest

from woa_protocol import ReplayStore
from woa_registry.replay import open_replay_store

ReplayStoreFactory = Callable[[], Awaitable[ReplayStore]]


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def replay_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The registry database URL of the backend under test (a fresh file or schema)."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path}/registry.db"
    dsn: str = request.getfixturevalue("postgres_dsn")  # skips or fails (CI) when unreachable
    return f"{dsn}?schema=woa_replay_t{uuid.uuid4().hex[:12]}"


@pytest.fixture
async def make_replay_store(replay_url: str) -> AsyncIterator[ReplayStoreFactory]:
    """Open replay stores on one database (each one another replica, or a restarted one)."""
    opened: list[ReplayStore] = []

    async def make() -> ReplayStore:
        store = open_replay_store(replay_url)
        await store.open()
        opened.append(store)
        return store

    yield make
    for store in opened:
        await store.close()
    if not replay_url.startswith("sqlite"):
        import asyncpg

        from woa_registry.db.urls import split_schema

        dsn, schema = split_schema(replay_url)
        conn = await asyncpg.connect(dsn)
        try:
            await conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
        finally:
            await conn.close()


@pytest.fixture
async def replay_store(make_replay_store: ReplayStoreFactory) -> ReplayStore:
    """An open, empty replay store."""
    return await make_replay_store()
