"""SQLite state backend: the state tables in the registry's database file (WAL).

Same durability and locking rules as the registry's SQLite store: ``journal_mode=WAL`` with
``synchronous=FULL`` (an acknowledged write survives SIGKILL and power loss), every write in
``BEGIN IMMEDIATE`` (writers of any process are serialised, so revisions follow commit
order and each key's read-check-write is linearizable), reads on a second connection.
"""

# ruff: noqa: S608  -- SQL text is assembled from constants and placeholders; values are bound.

from __future__ import annotations

import functools
import sqlite3
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

from ...db import sqlite as db_sqlite
from ...db.signals import ChangeSignal, wait_for_seq
from ...db.sqlite import transaction as _transaction
from ..models import Acl, Change, ChangeKind, Namespace, Provenance, StoredDocument
from ._group import Batch, GroupCommitter, Outcome, Pending, decide_group
from ._rows import decode_dids, decode_headers, decode_value, encode_dids
from .base import (
    MAX_PAGE,
    Decide,
    DecideNamespace,
    Mutation,
    StateStore,
    prefix_upper_bound,
)
from .migrations import SQLITE_STATE_MIGRATIONS, STATE_VERSION_TABLE

__all__ = ["SqliteStateStore"]

_T = TypeVar("_T")
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICRO = timedelta(microseconds=1)

_NS_COLUMNS = (
    "name, owner, writers, readers, public_read, context_id, created_at, updated_at,"
    " bytes_used, document_count"
)
_DOC_COLUMNS = "namespace, key, value, version, writer, updated_at, expires_at, rev"
_CHANGE_COLUMNS = (
    "c.rev, c.namespace, c.key, c.version, c.kind, c.value, c.writer, c.at, c.expires_at"
)
_REQUEST_COLUMNS = "r.method, r.target_uri, r.headers, r.body, r.signer, r.received_at"


def _micros(value: datetime) -> int:
    return (value - _EPOCH) // _MICRO


def _micros_or_none(value: datetime | None) -> int | None:
    return None if value is None else _micros(value)


def _time(value: int) -> datetime:
    return _EPOCH + value * _MICRO


def _time_or_none(value: int | None) -> datetime | None:
    return None if value is None else _time(value)


def _namespace(row: Sequence[Any]) -> Namespace:
    return Namespace(
        name=row[0],
        acl=Acl(
            owner=row[1],
            writers=decode_dids(row[2]),
            readers=decode_dids(row[3]),
            public_read=bool(row[4]),
        ),
        context_id=row[5],
        created_at=_time(row[6]),
        updated_at=_time(row[7]),
        bytes_used=row[8],
        document_count=row[9],
    )


def _document(row: Sequence[Any]) -> StoredDocument:
    return StoredDocument(
        namespace=row[0],
        key=row[1],
        value_json=row[2],
        version=row[3],
        writer=row[4],
        updated_at=_time(row[5]),
        expires_at=_time_or_none(row[6]),
        rev=row[7],
    )


def _change(row: Sequence[Any], with_request: bool = False) -> Change:
    provenance = None
    if with_request and row[9] is not None:
        provenance = Provenance(
            method=row[9],
            target_uri=row[10],
            headers=decode_headers(row[11]),
            body=bytes(row[12]),
            signer=row[13],
            received_at=_time(row[14]),
        )
    return Change(
        rev=row[0],
        namespace=row[1],
        key=row[2],
        version=row[3],
        kind=ChangeKind(row[4]),
        value=decode_value(row[5]),
        writer=row[6],
        at=_time(row[7]),
        expires_at=_time_or_none(row[8]),
        provenance=provenance,
    )


def _load_namespace(db: sqlite3.Connection, name: str) -> Namespace | None:
    row = db.execute(
        f"SELECT {_NS_COLUMNS} FROM state_namespaces WHERE name = ?", (name,)
    ).fetchone()
    return None if row is None else _namespace(row)


def _write_batch(db: sqlite3.Connection, batch: Batch) -> None:
    """Insert a staged batch and advance the counter (inside the caller's transaction)."""
    db.executemany(
        "INSERT INTO state_requests (id, method, target_uri, headers, body, signer, received_at)"
        " VALUES (?, ?, ?, ?, ?, ?, ?)",
        [(*r[:6], _micros(r[6])) for r in batch.requests],  # type: ignore[arg-type]
    )
    db.executemany(
        f"INSERT INTO state_documents ({_DOC_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
        " ON CONFLICT (namespace, key) DO UPDATE SET value = excluded.value,"
        " version = excluded.version, writer = excluded.writer,"
        " updated_at = excluded.updated_at, expires_at = excluded.expires_at,"
        " rev = excluded.rev",
        [
            (*d[:5], _micros(d[5]), _micros_or_none(d[6]), d[7])  # type: ignore[arg-type]
            for d in batch.documents.values()
        ],
    )
    db.executemany(
        "INSERT INTO state_changes (rev, namespace, key, version, kind, value, writer,"
        " at, expires_at, request_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            (*c[:7], _micros(c[7]), _micros_or_none(c[8]), c[9])  # type: ignore[arg-type]
            for c in batch.changes
        ],
    )
    db.executemany(
        "UPDATE state_namespaces SET bytes_used = ?, document_count = ? WHERE name = ?",
        [(u[1], u[2], u[0]) for u in batch.usage.values()],
    )
    db.execute("UPDATE state_rev_counter SET value = ? WHERE id = 1", (batch.last_rev,))


def _last_rev(db: sqlite3.Connection) -> int:
    return int(db.execute("SELECT value FROM state_rev_counter WHERE id = 1").fetchone()[0])


def _decide_and_write(db: sqlite3.Connection, group: list[Pending]) -> list[Outcome]:
    batch = Batch(_last_rev(db))
    for name in sorted({item.namespace for item in group}):
        ns = _load_namespace(db, name)
        if ns is not None:
            batch.namespaces[name] = ns
    pairs = sorted({(item.namespace, key) for item in group for key in item.keys})
    for start in range(0, len(pairs), 400):
        chunk = pairs[start : start + 400]
        marks = ", ".join("(?, ?)" for _ in chunk)
        for row in db.execute(
            f"SELECT {_DOC_COLUMNS} FROM state_documents"
            f" WHERE (namespace, key) IN (VALUES {marks})",
            [value for pair in chunk for value in pair],
        ):
            batch.view[(row[0], row[1])] = _document(row)
    outcomes = decide_group(batch, group)
    if batch.changes:
        _write_batch(db, batch)
    return outcomes


class SqliteStateStore(StateStore):
    """State store in one SQLite file (WAL, ``synchronous=FULL``), usually the registry's."""

    def __init__(
        self, path: str | Path, *, busy_timeout: float = 10.0, poll_interval: float = 0.1
    ) -> None:
        self._path, self._busy_ms = db_sqlite.check_options(
            path, busy_timeout, poll_interval, needed_by="shared state"
        )
        self._poll_interval = poll_interval
        self._writer: db_sqlite.ThreadConnection | None = None
        self._reader: db_sqlite.ThreadConnection | None = None
        self._signal = ChangeSignal()
        self._committer = GroupCommitter(self._commit_group)

    @property
    def path(self) -> Path:
        """The database file."""
        return self._path

    async def open(self) -> None:
        """Open the file (created if missing), switch it to WAL and apply migrations."""
        if self._writer is not None:
            return
        self._path.parent.mkdir(parents=True, exist_ok=True)
        writer = db_sqlite.ThreadConnection(self._path, self._busy_ms, what="state store")
        try:
            await writer.open()
            await writer.run(
                lambda db: db_sqlite.prepare(
                    db, self._path, self._busy_ms, STATE_VERSION_TABLE, SQLITE_STATE_MIGRATIONS
                )
            )
            reader = db_sqlite.ThreadConnection(
                self._path, self._busy_ms, query_only=True, what="state store"
            )
            await reader.open()
        except BaseException:
            await writer.close()
            raise
        self._writer, self._reader = writer, reader

    async def close(self) -> None:
        """Finish queued writes, close both connections; the store can be opened again."""
        await self._committer.drain()
        writer, reader = self._writer, self._reader
        self._writer = self._reader = None
        for conn in (reader, writer):
            if conn is not None:
                await conn.close()

    def _require(self, conn: db_sqlite.ThreadConnection | None) -> db_sqlite.ThreadConnection:
        if conn is None:
            raise RuntimeError("the state store is not open: call open() first")
        return conn

    async def _write(self, work: Callable[[sqlite3.Connection], _T]) -> _T:
        """Run ``work`` in one ``BEGIN IMMEDIATE`` transaction in the writer's thread."""
        result = await self._require(self._writer).run(
            lambda db: _transaction(db, "BEGIN IMMEDIATE", work)
        )
        self._signal.fire()
        return result

    async def _read(self, work: Callable[[sqlite3.Connection], _T]) -> _T:
        """Run ``work`` in one read transaction (a consistent snapshot)."""
        return await self._require(self._reader).run(lambda db: _transaction(db, "BEGIN", work))

    # -- namespaces ------------------------------------------------------------------

    async def put_namespace(
        self, name: str, decide: DecideNamespace, now: datetime
    ) -> tuple[Namespace, bool]:
        """Create or update a namespace atomically; return it and whether it was created."""

        def work(db: sqlite3.Connection) -> tuple[Namespace, bool]:
            current = _load_namespace(db, name)
            wanted = decide(current)
            acl = wanted.acl
            values = (
                acl.owner,
                encode_dids(acl.writers),
                encode_dids(acl.readers),
                int(acl.public_read),
                wanted.context_id,
            )
            if current is None:
                db.execute(
                    f"INSERT INTO state_namespaces ({_NS_COLUMNS})"
                    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, 0, 0)",
                    (name, *values, _micros(now), _micros(now)),
                )
            else:
                db.execute(
                    "UPDATE state_namespaces SET owner = ?, writers = ?, readers = ?,"
                    " public_read = ?, context_id = ?, updated_at = ? WHERE name = ?",
                    (*values, _micros(now), name),
                )
            stored = _load_namespace(db, name)
            assert stored is not None
            return stored, current is None

        return await self._write(work)

    async def get_namespace(self, name: str) -> Namespace | None:
        """Return the namespace, or None."""
        return await self._read(lambda db: _load_namespace(db, name))

    async def namespaces_for_context(self, context_id: str) -> list[Namespace]:
        """Return the namespaces tied to an A2A contextId, by name."""
        rows = await self._read(
            lambda db: db.execute(
                f"SELECT {_NS_COLUMNS} FROM state_namespaces WHERE context_id = ?"
                " ORDER BY name LIMIT ?",
                (context_id, MAX_PAGE),
            ).fetchall()
        )
        return [_namespace(row) for row in rows]

    async def public_namespaces(self, after: str = "", limit: int = MAX_PAGE) -> list[Namespace]:
        """Return up to ``limit`` namespaces with public read, by name, after ``after``."""
        rows = await self._read(
            lambda db: db.execute(
                f"SELECT {_NS_COLUMNS} FROM state_namespaces WHERE public_read AND name > ?"
                " ORDER BY name LIMIT ?",
                (after, min(limit, MAX_PAGE)),
            ).fetchall()
        )
        return [_namespace(row) for row in rows]

    # -- documents -------------------------------------------------------------------

    async def read(self, namespace: str, key: str) -> StoredDocument | None:
        """Return the stored row of a key (live, expired or tombstone), or None."""
        row = await self._read(
            lambda db: db.execute(
                f"SELECT {_DOC_COLUMNS} FROM state_documents WHERE namespace = ? AND key = ?",
                (namespace, key),
            ).fetchone()
        )
        return None if row is None else _document(row)

    async def list_live(
        self, namespace: str, prefix: str, after: str | None, limit: int, now: datetime
    ) -> list[StoredDocument]:
        """Return up to ``limit`` live documents under ``prefix`` with keys above ``after``."""
        low = prefix if after is None or after < prefix else after
        op = ">=" if after is None or after < prefix else ">"
        rows = await self._read(
            lambda db: db.execute(
                f"SELECT {_DOC_COLUMNS} FROM state_documents WHERE namespace = ?"
                f" AND key {op} ? AND key < ? AND value IS NOT NULL"
                " AND (expires_at IS NULL OR expires_at > ?) ORDER BY key LIMIT ?",
                (namespace, low, prefix_upper_bound(prefix), _micros(now), min(limit, MAX_PAGE)),
            ).fetchall()
        )
        return [_document(row) for row in rows]

    async def write(
        self,
        namespace: str,
        keys: Sequence[str],
        decide: Decide,
        *,
        writer: str | None,
        at: datetime,
        provenance: Provenance | None,
    ) -> list[Change]:
        """Apply ``decide``'s mutations to ``keys`` atomically, in a group commit.

        One ``BEGIN IMMEDIATE`` transaction (so one WAL flush) per group (see ``_group``).
        """
        return await self._committer.submit(namespace, keys, decide, writer, at, provenance)

    async def _commit_group(self, group: list[Pending]) -> list[Outcome]:
        return await self._write(functools.partial(_decide_and_write, group=group))

    async def expire(self, now: datetime, limit: int = 500) -> list[Change]:
        """Turn up to ``limit`` documents whose TTL ended by ``now`` into tombstones."""
        cutoff = _micros(now)
        due = await self._read(
            lambda db: db.execute(
                "SELECT 1 FROM state_documents WHERE expires_at <= ? AND value IS NOT NULL LIMIT 1",
                (cutoff,),
            ).fetchone()
        )
        if due is None:
            return []

        def work(db: sqlite3.Connection) -> list[Change]:
            rows = db.execute(
                f"SELECT {_DOC_COLUMNS} FROM state_documents WHERE expires_at <= ?"
                " AND value IS NOT NULL ORDER BY namespace, key LIMIT ?",
                (cutoff, limit),
            ).fetchall()
            by_namespace: dict[str, dict[str, StoredDocument | None]] = {}
            for row in rows:
                doc = _document(row)
                by_namespace.setdefault(doc.namespace, {})[doc.key] = doc
            batch = Batch(_last_rev(db))
            changes: list[Change] = []
            for name, current in sorted(by_namespace.items()):
                ns = _load_namespace(db, name)
                assert ns is not None
                mutations = [Mutation(key, ChangeKind.EXPIRE, None) for key in sorted(current)]
                changes += batch.stage(ns, current, mutations, None, now, None)
            if changes:
                _write_batch(db, batch)
            return changes

        return await self._write(work)

    # -- the change log --------------------------------------------------------------

    async def history(self, namespace: str, key: str, after_rev: int, limit: int) -> list[Change]:
        """Return a key's changes above ``after_rev`` in order, with their provenance."""
        rows = await self._read(
            lambda db: db.execute(
                f"SELECT {_CHANGE_COLUMNS}, {_REQUEST_COLUMNS} FROM state_changes c"
                " LEFT JOIN state_requests r ON r.id = c.request_id"
                " WHERE c.namespace = ? AND c.key = ? AND c.rev > ? ORDER BY c.rev LIMIT ?",
                (namespace, key, after_rev, min(limit, MAX_PAGE)),
            ).fetchall()
        )
        return [_change(row, with_request=True) for row in rows]

    async def changes_since(
        self, namespace: str, prefix: str, after_rev: int, limit: int
    ) -> list[Change]:
        """Return the namespace's changes under ``prefix`` above ``after_rev`` in order."""
        rows = await self._read(
            lambda db: db.execute(
                f"SELECT {_CHANGE_COLUMNS} FROM state_changes c WHERE c.namespace = ?"
                " AND c.rev > ? AND c.key >= ? AND c.key < ? ORDER BY c.rev LIMIT ?",
                (namespace, after_rev, prefix, prefix_upper_bound(prefix), min(limit, MAX_PAGE)),
            ).fetchall()
        )
        return [_change(row) for row in rows]

    async def last_rev(self) -> int:
        """Return the highest committed revision."""
        row = await self._read(
            lambda db: db.execute("SELECT value FROM state_rev_counter WHERE id = 1").fetchone()
        )
        return int(row[0])

    async def wait_for_change(self, after_rev: int, timeout: float) -> bool:
        """Wait for a revision above ``after_rev``: woken by local writes, polling for others."""
        return await wait_for_seq(
            self.last_rev, self._signal, after_rev, timeout, self._poll_interval
        )
