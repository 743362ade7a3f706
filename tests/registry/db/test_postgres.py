"""One replica, one pool and one LISTEN connection on PostgreSQL, whatever its stores."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from woa_registry import RegistrySettings, create_app

from .._support import BASE, REGISTRY_KEY

pytestmark = pytest.mark.postgres


@pytest.fixture
async def schema(postgres_dsn: str) -> AsyncIterator[str]:
    import asyncpg

    name = f"woa_db_t{uuid.uuid4().hex[:12]}"
    yield name
    conn = await asyncpg.connect(postgres_dsn)
    try:
        await conn.execute(f'DROP SCHEMA IF EXISTS "{name}" CASCADE')
    finally:
        await conn.close()


async def _connections(dsn: str, application: str) -> list[str]:
    import asyncpg

    conn = await asyncpg.connect(dsn)
    try:
        rows = await conn.fetch(
            "SELECT query FROM pg_stat_activity WHERE application_name = $1", application
        )
    finally:
        await conn.close()
    return [str(row["query"]) for row in rows]


@pytest.mark.req("REG-085")
async def test_a_replica_holds_one_pool_and_one_listener(
    postgres_dsn: str, schema: str, tmp_path: Path
) -> None:
    application = f"woa-test-{uuid.uuid4().hex[:8]}"
    settings = RegistrySettings(
        database_url=f"{postgres_dsn}?schema={schema}&application_name={application}",
        key_file=tmp_path / "key.pem",
        mdns_enabled=False,
        sweep_interval_seconds=3600,
    )
    app = create_app(settings, key=REGISTRY_KEY)
    async with app.router.lifespan_context(app):
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=BASE) as http:
            assert (await http.get("/readyz")).status_code == 200
            assert (await http.get("/v1/state/none")).status_code in (404, 200)
        queries = await _connections(postgres_dsn, application)
        # the agent, state and replay stores share them (main opened two of each)
        listeners = [q for q in queries if q.startswith("LISTEN")]
        assert len(listeners) == 1, queries
        assert len(queries) == 2, queries  # the pool (min size 1, idle) and the listener
    assert await _connections(postgres_dsn, application) == []  # all closed at shutdown
