"""The replay store in the registry's SQLite file (the embedded default).

Claims go through a connection of their own with ``synchronous=NORMAL``: in WAL mode a
commit then survives the process (a restart, SIGKILL) without an fsync per request; only
a power loss can drop the last claims, which reopens at most their windows (300 s).
"""

from __future__ import annotations

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


class SqliteReplayStore(ReplayStore):
    """Claimed nonces in one SQLite file, shared by every process that opens it."""

    def __init__(self, path: str | Path, *, busy_timeout: float = 10.0) -> None:
        self._path, self._busy_ms = db_sqlite.check_options(
            path, busy_timeout, 1.0, needed_by="the replay store"
        )
        self._conn: db_sqlite.ThreadConnection | None = None

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
        """Close the connection; the store can be opened again."""
        conn, self._conn = self._conn, None
        if conn is not None:
            await conn.close()

    def _require(self) -> db_sqlite.ThreadConnection:
        if self._conn is None:
            raise RuntimeError("the replay store is not open: call open() first")
        return self._conn

    async def claim(self, key: bytes, until: float, now: float) -> bool:
        """Record ``key`` until ``until`` unless a live claim holds it (one statement)."""

        def work(db: sqlite3.Connection) -> bool:
            return db.execute(_CLAIM, (key, until, now)).rowcount == 1

        return await self._require().run(work)

    async def prune(self, now: float, *, limit: int = 10_000) -> int:
        """Delete up to ``limit`` claims whose window ended before ``now``."""

        def work(db: sqlite3.Connection) -> int:
            return db.execute(_PRUNE, (now, limit)).rowcount

        return await self._require().run(work)
