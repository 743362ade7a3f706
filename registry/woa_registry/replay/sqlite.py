"""The replay store in the registry's SQLite file (the embedded default).

Claims go through a connection of their own with ``synchronous=NORMAL``: in WAL mode a
commit then survives the process (a restart, SIGKILL) without an fsync per request; only
a power loss can drop the last claims, which reopens at most their windows (300 s).
Claims that arrive while a transaction is committing are committed together in the next
one (group commit), so under load the file's write lock is taken once per batch, not
once per request.
"""

from __future__ import annotations

import asyncio
import functools
import sqlite3
from pathlib import Path

from woa_protocol import ReplayStore

from ..db import sqlite as db_sqlite
from .migrations import REPLAY_VERSION_TABLE, SQLITE_REPLAY_MIGRATIONS

__all__ = ["SqliteReplayStore"]

_CLAIM = (
    "INSERT INTO replay_nonces (key, until) VALUES (?, ?)"
    " ON CONFLICT (key) DO UPDATE SET until = excluded.until WHERE replay_nonces.until < ?"
)
_PRUNE = (
    "DELETE FROM replay_nonces WHERE key IN (SELECT key FROM replay_nonces WHERE until < ? LIMIT ?)"
)


def _claim_all(claims: list[tuple[bytes, float, float]], db: sqlite3.Connection) -> list[bool]:
    """Make ``claims`` in one write transaction; return which were granted."""

    def work(db: sqlite3.Connection) -> list[bool]:
        return [db.execute(_CLAIM, claim).rowcount == 1 for claim in claims]

    return db_sqlite.transaction(db, "BEGIN IMMEDIATE", work)


class SqliteReplayStore(ReplayStore):
    """Claimed nonces in one SQLite file, shared by every process that opens it."""

    def __init__(self, path: str | Path, *, busy_timeout: float = 10.0) -> None:
        self._path, self._busy_ms = db_sqlite.check_options(
            path, busy_timeout, 1.0, needed_by="the replay store"
        )
        self._conn: db_sqlite.ThreadConnection | None = None
        self._pending: list[tuple[bytes, float, float, asyncio.Future[bool]]] = []
        self._flusher: asyncio.Task[None] | None = None

    @property
    def path(self) -> Path:
        """The database file."""
        return self._path

    async def open(self) -> None:
        """Open the file (created if missing), switch it to WAL and apply migrations."""
        if self._conn is not None:
            return
        self._path.parent.mkdir(parents=True, exist_ok=True)
        conn = db_sqlite.ThreadConnection(
            self._path, self._busy_ms, synchronous="NORMAL", what="replay store"
        )
        try:
            await conn.open()
            await conn.run(
                lambda db: db_sqlite.prepare(
                    db, self._path, self._busy_ms, REPLAY_VERSION_TABLE, SQLITE_REPLAY_MIGRATIONS
                )
            )
        except BaseException:
            await conn.close()
            raise
        self._conn = conn

    async def close(self) -> None:
        """Finish the claims under way, close the connection; the store can be opened again."""
        if self._flusher is not None:
            await asyncio.shield(self._flusher)
        conn, self._conn = self._conn, None
        if conn is not None:
            await conn.close()

    def _require(self) -> db_sqlite.ThreadConnection:
        if self._conn is None:
            raise RuntimeError("the replay store is not open: call open() first")
        return self._conn

    async def claim(self, key: bytes, until: float, now: float) -> bool:
        """Record ``key`` until ``until`` unless a live claim holds it (group-committed)."""
        self._require()
        future: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        self._pending.append((key, until, now, future))
        if self._flusher is None:
            self._flusher = asyncio.create_task(self._flush())
        return await asyncio.shield(future)

    async def _flush(self) -> None:
        try:
            while self._pending:
                batch, self._pending = self._pending, []

                claims = [(key, until, now) for key, until, now, _ in batch]
                try:
                    results = await self._require().run(functools.partial(_claim_all, claims))
                except Exception as exc:  # every claim of the batch fails with it
                    for *_, future in batch:
                        if not future.done():
                            future.set_exception(exc)
                    continue
                for (*_, future), granted in zip(batch, results, strict=True):
                    if not future.done():
                        future.set_result(granted)
        finally:
            self._flusher = None

    async def prune(self, now: float, *, limit: int = 10_000) -> int:
        """Delete up to ``limit`` claims whose window ended before ``now``."""

        def work(db: sqlite3.Connection) -> int:
            return db.execute(_PRUNE, (now, limit)).rowcount

        return await self._require().run(work)
