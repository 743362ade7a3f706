"""SQLite set-up shared by the stores: path checks, connection pragmas, WAL, migrations.

Durability rules of every store file: ``journal_mode=WAL`` (persistent, set once per file)
with ``synchronous=FULL`` on every connection, so an acknowledged commit survives SIGKILL
and power loss; ``busy_timeout`` bounds how long a writer waits for another process's lock;
foreign keys are enforced. Writes run in ``BEGIN IMMEDIATE`` (the file's write lock first).

The functions here use the standard :mod:`sqlite3` module and block: call them in a
worker thread (a store's connection thread, or :func:`asyncio.to_thread`).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import sqlite3
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import TypeVar

from ..storage.base import StoreInputError
from .migrations import Migration, pending, sqlite_version_table

__all__ = [
    "ThreadConnection",
    "check_options",
    "connect",
    "connection_pragmas",
    "migrate",
    "prepare",
    "prepare_file",
    "switch_to_wal",
    "transaction",
]

_T = TypeVar("_T")


def check_options(
    path: str | Path, busy_timeout: float, poll_interval: float, *, needed_by: str
) -> tuple[Path, int]:
    """Return the database file and the busy timeout in milliseconds, or raise StoreInputError.

    In-memory and ``file:`` URI databases are refused: ``needed_by`` (for example "the
    registry") needs a durable file, and a store's reader and writer must share it.
    """
    text = os.fspath(path)
    if not text or text == ":memory:" or text.startswith("file:"):
        raise StoreInputError(
            f"SQLite path {text!r} is not a plain file path: {needed_by} needs a "
            "durable database file (in-memory databases are not allowed)"
        )
    if busy_timeout <= 0 or poll_interval <= 0:
        raise StoreInputError("busy_timeout and poll_interval must be positive")
    return Path(text), int(busy_timeout * 1000)


def connection_pragmas(
    busy_ms: int, *, query_only: bool = False, synchronous: str = "FULL"
) -> tuple[str, ...]:
    """Return the ``PRAGMA`` statements every store connection runs once after connecting.

    ``synchronous`` is ``FULL`` for every store but the replay store, whose claims need to
    survive a process restart, not a power loss (``NORMAL`` in WAL mode: no fsync per commit).
    """
    if synchronous not in ("FULL", "NORMAL"):
        raise ValueError(f"synchronous must be FULL or NORMAL, not {synchronous!r}")
    pragmas = (
        f"PRAGMA busy_timeout = {int(busy_ms)}",
        "PRAGMA foreign_keys = ON",
        f"PRAGMA synchronous = {synchronous}",
    )
    return (*pragmas, "PRAGMA query_only = ON") if query_only else pragmas


def connect(
    path: Path,
    busy_ms: int,
    *,
    query_only: bool = False,
    any_thread: bool = False,
    synchronous: str = "FULL",
) -> sqlite3.Connection:
    """Open ``path`` in autocommit mode (transactions are explicit) with the store pragmas.

    ``any_thread`` lets worker threads take turns with the connection (a pool hands it to
    one at a time); otherwise only the opening thread may use it.
    """
    db = sqlite3.connect(path, isolation_level=None, check_same_thread=not any_thread)
    try:
        for pragma in connection_pragmas(busy_ms, query_only=query_only, synchronous=synchronous):
            db.execute(pragma)
    except BaseException:
        db.close()
        raise
    return db


def transaction(db: sqlite3.Connection, begin: str, work: Callable[[sqlite3.Connection], _T]) -> _T:
    """Run ``work`` between ``begin`` (``BEGIN`` or ``BEGIN IMMEDIATE``) and ``COMMIT``.

    Any exception rolls the transaction back and propagates.
    """
    db.execute(begin)
    try:
        result = work(db)
        db.execute("COMMIT")
    except BaseException:
        with contextlib.suppress(sqlite3.Error):
            db.execute("ROLLBACK")
        raise
    return result


def switch_to_wal(db: sqlite3.Connection, path: Path, busy_ms: int) -> None:
    """Switch the file to WAL (persistent), retrying while another opener holds it.

    SQLite answers "database is locked" to a journal-mode change that races another
    connection without consulting the busy handler, so the wait (up to ``busy_ms``) is
    done here.
    """
    deadline = time.monotonic() + busy_ms / 1000
    while True:
        try:
            (mode,) = db.execute("PRAGMA journal_mode = WAL").fetchone()
            break
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(0.01)
    if str(mode).lower() != "wal":
        raise RuntimeError(f"SQLite refused WAL mode for {path} (got {mode!r})")


def migrate(db: sqlite3.Connection, table: str, migrations: Sequence[Migration]) -> None:
    """Apply the steps above the version recorded in ``table``, in one write transaction."""

    def work(db: sqlite3.Connection) -> None:
        db.execute(sqlite_version_table(table))
        (current,) = db.execute(f"SELECT coalesce(max(version), 0) FROM {table}").fetchone()  # noqa: S608
        for step in pending(migrations, current):
            for statement in step.statements:
                db.execute(statement)
            db.execute(
                f"INSERT INTO {table} (version, description, applied_at) VALUES (?, ?, ?)",  # noqa: S608
                (step.version, step.description, datetime.now(UTC).isoformat()),
            )

    transaction(db, "BEGIN IMMEDIATE", work)


def prepare(
    db: sqlite3.Connection,
    path: Path,
    busy_ms: int,
    table: str,
    migrations: Sequence[Migration],
) -> None:
    """Switch the file behind ``db`` to WAL, then apply its pending migrations."""
    switch_to_wal(db, path, busy_ms)
    migrate(db, table, migrations)


def prepare_file(path: Path, busy_ms: int, table: str, migrations: Sequence[Migration]) -> None:
    """Open ``path`` (created if missing) on a connection of its own and :func:`prepare` it."""
    with contextlib.closing(connect(path, busy_ms)) as db:
        prepare(db, path, busy_ms, table, migrations)


class ThreadConnection:
    """One sqlite3 connection living in its own thread; work runs there in one call.

    This is how the stores reach SQLite from the event loop. Why not aiosqlite: every
    statement through aiosqlite is a separate hop to its thread and back to the event loop,
    and a write transaction has about ten statements. Under load each hop waits behind
    other requests' CPU work while the database's write lock is held, which stretches the
    serialised section several times over. Running a whole transaction as one function in
    the connection's thread keeps that section as short as SQLite itself makes it.
    """

    def __init__(
        self,
        path: Path,
        busy_ms: int,
        *,
        query_only: bool = False,
        synchronous: str = "FULL",
        what: str = "store",
    ) -> None:
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="woa-sqlite")
        self._path = path
        self._busy_ms = busy_ms
        self._query_only = query_only
        self._synchronous = synchronous
        self._what = what
        self._db: sqlite3.Connection | None = None

    def _open(self) -> None:
        self._db = connect(
            self._path, self._busy_ms, query_only=self._query_only, synchronous=self._synchronous
        )

    def _call(self, work: Callable[[sqlite3.Connection], _T]) -> _T:
        if self._db is None:
            raise RuntimeError(f"the {self._what} is not open: call open() first")
        return work(self._db)

    async def open(self) -> None:
        """Connect in the connection's thread."""
        await asyncio.get_running_loop().run_in_executor(self._executor, self._open)

    async def run(self, work: Callable[[sqlite3.Connection], _T]) -> _T:
        """Run ``work`` in the connection's thread, to the end even if the caller is cancelled."""
        future = asyncio.get_running_loop().run_in_executor(self._executor, self._call, work)
        return await asyncio.shield(future)

    async def close(self) -> None:
        """Close the connection and stop its thread."""

        def close() -> None:
            if self._db is not None:
                self._db.close()
                self._db = None

        await asyncio.get_running_loop().run_in_executor(self._executor, close)
        self._executor.shutdown(wait=True)
