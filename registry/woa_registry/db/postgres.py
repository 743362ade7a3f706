"""PostgreSQL plumbing shared by the stores: option checks, migrations, pool and LISTEN.

The stores live in one schema (created on first open). A replica holds one
:class:`PostgresDatabase` (one pool, one LISTEN connection) and every store attaches to
it through a :class:`SchemaConnections`, listening on a channel of its own. Driver:
asyncpg (the ``postgres`` extra).
"""

# ruff: noqa: S608  -- identifiers are checked names; values are bound.

from __future__ import annotations

import asyncio
import contextlib
import re
from collections.abc import Awaitable, Callable, Sequence
from typing import cast

import asyncpg

from ..storage.base import StoreInputError
from .migrations import Migration, pending, postgres_version_table

__all__ = ["PostgresDatabase", "SchemaConnections", "check_options", "migrate"]

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


class PostgresDatabase:
    """One replica's connections to one schema: a pool and a LISTEN connection, shared.

    Every store of a replica (agents, state, replay) attaches to the same instance, so a
    replica holds one pool and one listener whatever the number of stores. The pool's
    ``search_path`` is ``schema``; each store's ``prepare`` (its migrations) runs on a pool
    connection when it attaches. The pool and the listener open with the first store and
    close with the last. Options the DSN carries that asyncpg does not know (for example
    ``application_name``) are sent to the server as settings.
    """

    def __init__(
        self, dsn: str, *, schema: str = "woa_registry", pool_sizes: tuple[int, int] = (1, 20)
    ) -> None:
        self.dsn = dsn
        self.schema = check_options(schema, pool_sizes[0], pool_sizes[1], 1.0)
        self._pool_sizes = pool_sizes
        self._pool: asyncpg.Pool | None = None
        self._listener: asyncpg.Connection | None = None
        self._subscribers: list[tuple[str, Callable[[], None]]] = []
        self._users = 0
        self._lock = asyncio.Lock()
        self._listener_lock = asyncio.Lock()

    @property
    def is_open(self) -> bool:
        """Whether at least one store is attached."""
        return self._pool is not None

    @property
    def pool(self) -> asyncpg.Pool:
        """The shared pool; RuntimeError when no store is attached."""
        if self._pool is None:
            raise RuntimeError("the database is not open: open a store on it first")
        return self._pool

    async def attach(
        self,
        prepare: Callable[[asyncpg.Connection], Awaitable[None]],
        channel: str | None = None,
        wake: Callable[[], None] | None = None,
    ) -> None:
        """Open the pool if needed, run ``prepare`` and subscribe ``wake`` to ``channel``.

        ``wake`` is called on every notification on ``channel`` and whenever the listener
        (re)connects, since anything committed while nobody listened is only caught by
        the subscriber's re-check.
        """
        async with self._lock:
            if self._pool is None:
                self._pool = await asyncpg.create_pool(
                    self.dsn,
                    min_size=self._pool_sizes[0],
                    max_size=self._pool_sizes[1],
                    server_settings={"search_path": f'"{self.schema}"'},
                )
            try:
                async with self._pool.acquire() as conn:
                    await prepare(cast("asyncpg.Connection", conn))
                if channel is not None and wake is not None:
                    self._subscribers.append((channel, wake))
                    if self._listener is None or self._listener.is_closed():
                        self._listener = None
                        await self._start_listener()
                    else:
                        await self._listener.add_listener(channel, self._on_notify)
                        wake()
            except BaseException:
                if channel is not None and wake is not None:
                    with contextlib.suppress(ValueError):
                        self._subscribers.remove((channel, wake))
                if self._users == 0:
                    await self._shut()
                raise
            self._users += 1

    async def detach(
        self, channel: str | None = None, wake: Callable[[], None] | None = None
    ) -> None:
        """Undo one :meth:`attach`; the last one closes the listener and the pool."""
        async with self._lock:
            if channel is not None and wake is not None:
                with contextlib.suppress(ValueError):
                    self._subscribers.remove((channel, wake))
                listener = self._listener
                still = any(c == channel for c, _ in self._subscribers)
                if listener is not None and not listener.is_closed() and not still:
                    with contextlib.suppress(OSError, asyncpg.PostgresError):
                        await listener.remove_listener(channel, self._on_notify)
            self._users = max(0, self._users - 1)
            if self._users == 0:
                await self._shut()

    async def _shut(self) -> None:
        listener, self._listener = self._listener, None
        if listener is not None and not listener.is_closed():
            for channel in {c for c, _ in self._subscribers}:
                with contextlib.suppress(OSError, asyncpg.PostgresError):
                    await listener.remove_listener(channel, self._on_notify)
            await listener.close()
        self._subscribers.clear()
        pool, self._pool = self._pool, None
        if pool is not None:
            await pool.close()

    async def _start_listener(self) -> None:
        listener = await asyncpg.connect(self.dsn)
        try:
            for channel in {c for c, _ in self._subscribers}:
                await listener.add_listener(channel, self._on_notify)
        except BaseException:
            await listener.close()
            raise
        self._listener = listener
        for _, wake in list(self._subscribers):
            wake()

    def _on_notify(self, connection: object, pid: int, channel: str, payload: object) -> None:
        for subscribed, wake in list(self._subscribers):
            if subscribed == channel:
                wake()

    async def ensure_listener(self) -> None:
        """Reconnect the LISTEN connection if it was lost; on failure polling goes on."""
        if self._pool is None or not self._subscribers:
            return
        if self._listener is not None and not self._listener.is_closed():
            return
        async with self._listener_lock:
            if self._listener is not None and not self._listener.is_closed():
                return
            self._listener = None
            with contextlib.suppress(OSError, asyncpg.PostgresError, TimeoutError):
                await self._start_listener()


class SchemaConnections:
    """One store's use of a :class:`PostgresDatabase`: its pool, its channel, its wake-up.

    A store that streams nothing (the replay store) passes no ``channel`` and no ``wake``.
    Opening applies the store's ``migrations`` (version kept in ``version_table``, under an
    advisory lock named ``{lock_prefix}.migrate.{schema}``).

    Without ``database`` the store gets a database of its own (a store used alone, as in
    tests); a replica passes one shared database to all its stores. ``what`` names the
    store in the "not open" error.
    """

    def __init__(
        self,
        dsn: str,
        *,
        schema: str,
        channel: str | None,
        pool_sizes: tuple[int, int],
        wake: Callable[[], None] | None,
        what: str,
        lock_prefix: str,
        version_table: str,
        migrations: Sequence[Migration],
        database: PostgresDatabase | None = None,
    ) -> None:
        if database is not None and database.schema != schema:
            raise StoreInputError(
                f"the shared database is on schema {database.schema!r}, not {schema!r}"
            )
        self.database = database or PostgresDatabase(dsn, schema=schema, pool_sizes=pool_sizes)
        self._channel = channel
        self._wake = wake
        self._what = what
        self._migration = (f"{lock_prefix}.migrate.{schema}", version_table, migrations)
        self._attached = False

    @property
    def is_open(self) -> bool:
        """Whether :meth:`open` has run and :meth:`close` has not."""
        return self._attached

    @property
    def pool(self) -> asyncpg.Pool:
        """The pool; RuntimeError if the store is not open."""
        if not self._attached:
            raise RuntimeError(f"the {self._what} is not open: call open() first")
        return self.database.pool

    async def open(self) -> None:
        """Attach to the database: apply the store's migrations, subscribe to the channel."""
        if self._attached:
            return
        await self.database.attach(self._migrate, self._channel, self._wake)
        self._attached = True

    async def _migrate(self, conn: asyncpg.Connection) -> None:
        lock_name, table, migrations = self._migration
        await migrate(
            conn,
            schema=self.database.schema,
            lock_name=lock_name,
            table=table,
            migrations=migrations,
        )

    async def ensure_listener(self) -> None:
        """Reconnect the shared LISTEN connection if it was lost."""
        await self.database.ensure_listener()

    async def close(self) -> None:
        """Detach from the database; :meth:`open` may be called again."""
        if not self._attached:
            return
        self._attached = False
        await self.database.detach(self._channel, self._wake)
