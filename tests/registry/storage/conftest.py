"""Fixtures running the storage contract on both backends.

PostgreSQL: the server of the project-wide ``postgres_dsn`` fixture (``tests/conftest.py``:
skipped when unreachable, a failure in CI); each test gets its own schema under a prefix
unique to this session, and every schema with that prefix is dropped when the session ends.
"""

from __future__ import annotations

import asyncio
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


_schemas_handed_out = False


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
    if _schemas_handed_out:
        asyncio.run(_drop_schemas(prefix + "\\_%"))


@pytest.fixture
def pg_schema(pg_schema_prefix: str, postgres_dsn: str) -> str:
    """A fresh schema name for one test (``postgres_dsn`` skips or, in CI, fails)."""
    global _schemas_handed_out
    _schemas_handed_out = True
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
