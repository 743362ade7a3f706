"""Fixtures running the storage contract on both backends.

PostgreSQL: the server named by ``WOA_TEST_POSTGRES_DSN``; each test gets its own schema
under a prefix unique to this session, and every schema with that prefix is dropped when
the session ends. The tests skip only when the server is clearly unreachable and ``CI`` is
not set; in CI they fail instead.
"""

from __future__ import annotations

import asyncio
import functools
import itertools
import os
import secrets
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
from storage_support import POSTGRES_DSN, StoreFactory, new_store

from woa_registry.storage import AgentStore

_schema_numbers = itertools.count(1)


@functools.cache
def _postgres_unreachable() -> str | None:
    """Return why the server cannot be reached, or None when it answers."""
    import asyncpg

    async def probe() -> None:
        conn = await asyncpg.connect(POSTGRES_DSN, timeout=5)
        await conn.close()

    try:
        asyncio.run(probe())
    except (OSError, TimeoutError) as exc:
        return f"PostgreSQL at {POSTGRES_DSN.split('@')[-1]} is unreachable: {exc!r}"
    return None


def require_postgres() -> None:
    """Skip (or, with CI set, fail) when the PostgreSQL server is unreachable."""
    reason = _postgres_unreachable()
    if reason is None:
        return
    if os.environ.get("CI"):
        pytest.fail(f"{reason} (CI is set, so PostgreSQL tests must run)")
    pytest.skip(reason)


async def _drop_schemas(pattern: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(POSTGRES_DSN)
    try:
        names = await conn.fetch("SELECT nspname FROM pg_namespace WHERE nspname LIKE $1", pattern)
        for row in names:
            await conn.execute(f'DROP SCHEMA IF EXISTS "{row["nspname"]}" CASCADE')
    finally:
        await conn.close()


@pytest.fixture(scope="session")
def pg_schema_prefix() -> Iterator[str]:
    """A schema-name prefix unique to this test session; its schemas are dropped at the end."""
    prefix = f"woa_t{os.getpid()}_{secrets.token_hex(3)}"
    yield prefix
    if _postgres_unreachable() is None:
        asyncio.run(_drop_schemas(prefix + "\\_%"))


@pytest.fixture
def pg_schema(pg_schema_prefix: str) -> str:
    """A fresh schema name for one test."""
    require_postgres()
    return f"{pg_schema_prefix}_{next(_schema_numbers)}"


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def backend(request: pytest.FixtureRequest) -> str:
    """The backend under test."""
    name: str = request.param
    return name


@pytest.fixture
def db_target(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> str:
    """Where this test's database lives: a file path (SQLite) or a schema (PostgreSQL)."""
    if backend == "sqlite":
        return str(tmp_path / "registry.db")
    schema: str = request.getfixturevalue("pg_schema")
    return schema


@pytest.fixture
async def make_store(backend: str, db_target: str) -> AsyncIterator[StoreFactory]:
    """Open more stores on the same database (another replica / another process's view)."""
    stores: list[AgentStore] = []

    async def make(**options: Any) -> AgentStore:
        store = new_store(backend, db_target, **options)
        await store.open()
        stores.append(store)
        return store

    yield make
    for store in stores:
        await store.close()
    if backend == "postgres":
        await _drop_schemas(db_target)


@pytest.fixture
async def store(make_store: StoreFactory) -> AgentStore:
    """An open, empty store."""
    return await make_store()
