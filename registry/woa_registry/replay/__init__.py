"""The replay store: nonces claimed by any replica, kept in the registry's database.

``open_replay_store`` reads the registry's own ``database_url``: ``sqlite:///...`` gives a
:class:`SqliteReplayStore` (the embedded default, where it makes a restart keep its
claims), ``postgresql://...`` a ``PostgresReplayStore`` (the ``postgres`` extra), shared by
every replica on the schema. The interface is :class:`woa_protocol.ReplayStore`; the
registry's :class:`~woa_registry.signing.RequestAuthenticator` keeps its in-process cache
in front of it. :class:`ReplayPruner` deletes expired claims.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import typing
from collections.abc import Callable

from woa_protocol import ReplayStore

from ..db.urls import split_schema, sqlite_path
from ..storage.base import StoreInputError
from .sqlite import SqliteReplayStore

if typing.TYPE_CHECKING:
    from ..db.postgres import PostgresDatabase

__all__ = ["ReplayPruner", "SqliteReplayStore", "open_replay_store"]

log = logging.getLogger(__name__)

PRUNE_BATCH = 10_000
"""Claims deleted per statement; a sweep repeats until a batch comes back short."""


def open_replay_store(url: str, *, database: PostgresDatabase | None = None) -> ReplayStore:
    """Return the (not yet opened) replay store for the registry's ``database_url``."""
    scheme = url.split(":", 1)[0].lower() if ":" in url else ""
    if scheme == "sqlite":
        return SqliteReplayStore(sqlite_path(url))
    if scheme in ("postgresql", "postgres"):
        try:
            from .postgres import PostgresReplayStore
        except ImportError as exc:
            raise ImportError(
                "the replay store on PostgreSQL needs asyncpg: "
                "pip install 'web-of-agents[postgres]'"
            ) from exc
        dsn, schema = split_schema(url)
        return PostgresReplayStore(dsn, schema=schema or "woa_registry", database=database)
    raise StoreInputError(
        f"unsupported storage URL scheme {scheme or url!r}: use sqlite:///path.db or "
        "postgresql://user@host/db"
    )


class ReplayPruner:
    """Deletes expired claims every ``interval`` seconds in a background task."""

    def __init__(
        self, store: ReplayStore, interval: float, *, clock: Callable[[], float] = time.time
    ) -> None:
        self.store = store
        self.interval = interval
        self._clock = clock
        self._task: asyncio.Task[None] | None = None

    async def sweep(self) -> int:
        """Delete every claim that ended before now; return how many."""
        total = 0
        while True:
            deleted = await self.store.prune(self._clock(), limit=PRUNE_BATCH)
            total += deleted
            if deleted < PRUNE_BATCH:
                return total

    def start(self) -> None:
        """Start sweeping in the background."""
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="woa-replay-pruner")

    async def stop(self) -> None:
        """Stop the background sweep."""
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self.interval)
            try:
                await self.sweep()
            except Exception:  # keep sweeping; the error is logged
                log.exception("replay store prune failed")
