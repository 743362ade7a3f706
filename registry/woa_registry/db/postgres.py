"""PostgreSQL plumbing shared by the stores: option checks, migrations, pool and LISTEN.

Each store lives in one schema (created on first open) and wakes its watchers from a
dedicated LISTEN connection on its own channel; :class:`SchemaConnections` owns that
pool and that connection. Driver: asyncpg (the ``postgres`` extra).
"""

# ruff: noqa: S608  -- identifiers are checked names; values are bound.

from __future__ import annotations

import asyncio
import contextlib
import re
from collections.abc import Awaitable, Callable, Sequence

import asyncpg

from ..storage.base import StoreInputError
from .migrations import Migration, pending, postgres_version_table

__all__ = ["SchemaConnections", "check_options", "migrate"]

_SCHEMA_NAME = re.compile(r"[a-z_][a-z0-9_]{0,49}")


def check_options(
    schema: object, min_pool_size: int, max_pool_size: int, poll_interval: float
) -> str:
    """Return ``schema`` if it and the pool options are acceptable, else raise StoreInputError.

    A schema name is 1-50 lower-case letters, digits or underscores, not starting with a
    digit, so it can be quoted into SQL and channel names safely.
    """
    if not isinstance(schema, str) or not _SCHEMA_NAME.fullmatch(schema):
        raise StoreInputError(
            f"schema {schema!r} must be 1-50 lower-case letters, digits or underscores "
            "and not start with a digit"
        )
    if not 1 <= min_pool_size <= max_pool_size:
        raise StoreInputError("pool sizes must satisfy 1 <= min_pool_size <= max_pool_size")
    if poll_interval <= 0:
        raise StoreInputError("poll_interval must be positive")
    return schema


async def migrate(
    conn: asyncpg.Connection,
    *,
    schema: str,
    lock_name: str,
    table: str,
    migrations: Sequence[Migration],
) -> None:
    """Create ``schema`` if needed and apply the steps above the version in ``table``.

    One transaction holds the advisory lock ``lock_name``, so replicas starting together
    migrate one after the other and each step is applied exactly once.
    """
    async with conn.transaction():
        await conn.execute("SELECT pg_advisory_xact_lock(hashtext($1))", lock_name)
        await conn.execute(f'CREATE SCHEMA IF NOT EXISTS "{schema}"')
        await conn.execute(f'SET LOCAL search_path TO "{schema}"')
        await conn.execute(postgres_version_table(table))
        current = await conn.fetchval(f"SELECT coalesce(max(version), 0) FROM {table}")
        for step in pending(migrations, current):
            for statement in step.statements:
                await conn.execute(statement)
            await conn.execute(
                f"INSERT INTO {table} (version, description) VALUES ($1, $2)",
                step.version,
                step.description,
            )


class SchemaConnections:
    """A connection pool whose ``search_path`` is one schema, plus a LISTEN connection.

    ``wake`` is called on every notification on ``channel`` and whenever the listener
    (re)connects, since anything committed while nobody listened is only caught by the
    caller's re-check. ``what`` names the store in the "not open" error.
    """

    def __init__(
        self,
        dsn: str,
        *,
        schema: str,
        channel: str,
        pool_sizes: tuple[int, int],
        wake: Callable[[], None],
        what: str,
    ) -> None:
        self._dsn = dsn
        self._schema = schema
        self._channel = channel
        self._pool_sizes = pool_sizes
        self._wake = wake
        self._what = what
        self._pool: asyncpg.Pool | None = None
        self._listener: asyncpg.Connection | None = None
        self._listener_lock = asyncio.Lock()

    @property
    def is_open(self) -> bool:
        """Whether :meth:`open` has run and :meth:`close` has not."""
        return self._pool is not None

    @property
    def pool(self) -> asyncpg.Pool:
        """The pool; RuntimeError if the store is not open."""
        if self._pool is None:
            raise RuntimeError(f"the {self._what} is not open: call open() first")
        return self._pool

    async def open(self, prepare: Callable[[asyncpg.Connection], Awaitable[None]]) -> None:
        """Run ``prepare`` (migrations) on a connection of its own, then start pool and listener."""
        if self._pool is not None:
            return
        conn = await asyncpg.connect(self._dsn)
        try:
            await prepare(conn)
        finally:
            await conn.close()
        self._pool = await asyncpg.create_pool(
            self._dsn,
            min_size=self._pool_sizes[0],
            max_size=self._pool_sizes[1],
            server_settings={"search_path": f'"{self._schema}"'},
        )
        try:
            await self._start_listener()
        except BaseException:
            await self._pool.close()
            self._pool = None
            raise

    async def _start_listener(self) -> None:
        listener = await asyncpg.connect(self._dsn)
        try:
            await listener.add_listener(self._channel, self._on_notify)
        except BaseException:
            await listener.close()
            raise
        self._listener = listener
        self._wake()

    def _on_notify(self, connection: object, pid: int, channel: str, payload: object) -> None:
        self._wake()

    async def ensure_listener(self) -> None:
        """Reconnect the LISTEN connection if it was lost; on failure polling goes on."""
        if self._pool is None or (self._listener is not None and not self._listener.is_closed()):
            return
        async with self._listener_lock:
            if self._listener is not None and not self._listener.is_closed():
                return
            self._listener = None
            with contextlib.suppress(OSError, asyncpg.PostgresError, TimeoutError):
                await self._start_listener()

    async def close(self) -> None:
        """Stop listening and close the pool; :meth:`open` may be called again."""
        listener, self._listener = self._listener, None
        if listener is not None and not listener.is_closed():
            with contextlib.suppress(OSError, asyncpg.PostgresError):
                await listener.remove_listener(self._channel, self._on_notify)
            await listener.close()
        pool, self._pool = self._pool, None
        if pool is not None:
            await pool.close()
