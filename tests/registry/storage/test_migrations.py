"""Versioned migrations: applied once, idempotent, concurrent-safe, newer schemas refused."""

from __future__ import annotations

import asyncio
import sqlite3
from typing import Any

import pytest
from storage_support import POSTGRES_DSN, StoreFactory, new_store, record

from woa_registry.storage import SchemaTooNewError
from woa_registry.storage.migrations import (
    POSTGRES_MIGRATIONS,
    SQLITE_MIGRATIONS,
    Migration,
    check_sequence,
    pending,
)


async def _raw(backend: str, target: str, sql: str) -> list[tuple[Any, ...]]:
    """Run one statement outside the store (as an operator or another version would)."""
    if backend == "sqlite":
        with sqlite3.connect(target) as conn:
            return [tuple(row) for row in conn.execute(sql)]
    import asyncpg

    conn = await asyncpg.connect(POSTGRES_DSN, server_settings={"search_path": target})
    try:
        return [tuple(row) for row in await conn.fetch(sql)]
    finally:
        await conn.close()


def _known(backend: str) -> tuple[Migration, ...]:
    return SQLITE_MIGRATIONS if backend == "sqlite" else POSTGRES_MIGRATIONS


async def test_open_applies_every_step_once_and_reopening_is_a_no_op(
    backend: str, db_target: str, make_store: StoreFactory
) -> None:
    store = await make_store()
    applied = await _raw(backend, db_target, "SELECT version, applied_at FROM schema_version")
    assert [v for v, _ in applied] == [m.version for m in _known(backend)]
    assert await store.schema_version() == len(_known(backend))  # type: ignore[attr-defined]
    await store.put(record())

    await store.open()  # already open: nothing happens
    await make_store()  # a second store on the same database
    await store.close()
    await store.open()  # the same store again
    again = await _raw(backend, db_target, "SELECT version, applied_at FROM schema_version")
    assert again == applied
    assert await store.count() == 1


async def test_stores_opening_together_migrate_once(backend: str, db_target: str) -> None:
    stores = [new_store(backend, db_target) for _ in range(3)]
    try:
        await asyncio.gather(*(s.open() for s in stores))
        rows = await _raw(backend, db_target, "SELECT version FROM schema_version")
        assert [v for (v,) in rows] == [m.version for m in _known(backend)]
        await stores[0].put(record())
        assert await stores[2].count() == 1
    finally:
        for s in stores:
            await s.close()
        if backend == "postgres":
            await _raw(backend, db_target, f'DROP SCHEMA "{db_target}" CASCADE')


async def test_a_newer_schema_is_refused_and_left_alone(
    backend: str, db_target: str, make_store: StoreFactory
) -> None:
    store = await make_store()
    await store.put(record())
    await store.close()
    now = "'2030-01-01T00:00:00+00:00'"
    await _raw(
        backend,
        db_target,
        f"INSERT INTO schema_version (version, description, applied_at)"
        f" VALUES (99, 'from the future', {now}) RETURNING version",
    )
    with pytest.raises(SchemaTooNewError, match="version 99"):
        await make_store()
    rows = await _raw(backend, db_target, "SELECT count(*) FROM agents")
    assert rows == [(1,)]


def test_migration_lists_are_numbered_one_to_n() -> None:
    check_sequence(SQLITE_MIGRATIONS)
    check_sequence(POSTGRES_MIGRATIONS)
    assert len(SQLITE_MIGRATIONS) == len(POSTGRES_MIGRATIONS)


def test_check_sequence_rejects_gaps_and_disorder() -> None:
    one, two, three = (Migration(i, f"step {i}", ()) for i in (1, 2, 3))
    with pytest.raises(ValueError, match=r"1\.\.n"):
        check_sequence([one, three])
    with pytest.raises(ValueError, match=r"1\.\.n"):
        check_sequence([two, one])
    assert pending([one, two, three], 1) == [two, three]
    assert pending([one, two, three], 3) == []
    with pytest.raises(SchemaTooNewError):
        pending([one], 2)
