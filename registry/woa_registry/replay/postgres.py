"""The replay store in PostgreSQL, shared by every replica on the schema.

A claim is one ``INSERT ... ON CONFLICT ... DO UPDATE ... WHERE`` statement: the primary
key makes two replicas' concurrent claims of one nonce serialise, and exactly one of them
inserts (or replaces an expired claim). It runs on the replica's shared pool.
"""

from __future__ import annotations

from woa_protocol import ReplayStore

from ..db import postgres as db_postgres
from .migrations import POSTGRES_REPLAY_MIGRATIONS, REPLAY_VERSION_TABLE

__all__ = ["PostgresReplayStore"]

_CLAIM = (
    "INSERT INTO replay_nonces (key, until) VALUES ($1, $2)"
    " ON CONFLICT (key) DO UPDATE SET until = excluded.until WHERE replay_nonces.until < $3"
    " RETURNING 1"
)
_PRUNE = (
    "WITH old AS (SELECT key FROM replay_nonces WHERE until < $1 LIMIT $2)"
    " DELETE FROM replay_nonces r USING old WHERE r.key = old.key"
)


class PostgresReplayStore(ReplayStore):
    """Claimed nonces in a PostgreSQL schema (default ``woa_registry``)."""

    def __init__(
        self,
        dsn: str,
        *,
        schema: str = "woa_registry",
        database: db_postgres.PostgresDatabase | None = None,
    ) -> None:
        self._schema = db_postgres.check_options(schema, 1, 10, 1.0)
        self._db = db_postgres.SchemaConnections(
            dsn,
            schema=schema,
            channel=None,
            pool_sizes=(1, 10),
            wake=None,
            what="replay store",
            lock_prefix="woa_replay",
            version_table=REPLAY_VERSION_TABLE,
            migrations=POSTGRES_REPLAY_MIGRATIONS,
            database=database,
        )

    @property
    def schema(self) -> str:
        """The PostgreSQL schema holding ``replay_nonces``."""
        return self._schema

    async def open(self) -> None:
        """Create the schema if needed and apply migrations (on the shared pool)."""
        await self._db.open()

    async def close(self) -> None:
        """Detach from the pool; the store can be opened again."""
        await self._db.close()

    async def claim(self, key: bytes, until: float, now: float) -> bool:
        """Record ``key`` until ``until`` unless a live claim holds it (one statement)."""
        return await self._db.pool.fetchval(_CLAIM, key, until, now) is not None

    async def prune(self, now: float, *, limit: int = 10_000) -> int:
        """Delete up to ``limit`` claims whose window ended before ``now``."""
        status = await self._db.pool.execute(_PRUNE, now, limit)
        return int(status.rsplit(" ", 1)[-1])
