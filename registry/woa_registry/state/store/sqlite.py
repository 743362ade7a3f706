"""SQLite state backend: the state tables in the registry's database file (WAL).

Same durability and locking rules as the registry's SQLite store: ``journal_mode=WAL`` with
``synchronous=FULL`` (an acknowledged write survives SIGKILL and power loss), every write in
``BEGIN IMMEDIATE`` (writers of any process are serialised, so revisions follow commit
order and each key's read-check-write is linearizable), reads on a second connection.
"""

# ruff: noqa: S608  -- SQL text is assembled from constants and placeholders; values are bound.

from __future__ import annotations

import asyncio
import contextlib
import os
import sqlite3
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

import aiosqlite

from ...storage._shared import ChangeSignal, wait_for_seq
from ...storage.base import StoreInputError
from ...storage.migrations import pending
from ..models import Acl, Change, ChangeKind, Namespace, Provenance, StoredDocument
from ..problems import NamespaceNotFoundError
from ._rows import decode_dids, decode_headers, decode_value, encode_dids, encode_headers
from .base import (
    MAX_PAGE,
    Decide,
    DecideNamespace,
    Mutation,
    StateStore,
    check_mutations,
    prefix_upper_bound,
    usage_after,
)
from .migrations import SQLITE_STATE_MIGRATIONS, SQLITE_STATE_VERSION_TABLE

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


class SqliteStateStore(StateStore):
    """State store in one SQLite file (WAL, ``synchronous=FULL``), usually the registry's."""

    def __init__(
        self, path: str | Path, *, busy_timeout: float = 10.0, poll_interval: float = 0.1
    ) -> None:
        text = os.fspath(path)
        if not text or text == ":memory:" or text.startswith("file:"):
            raise StoreInputError(
                f"SQLite path {text!r} is not a plain file path: shared state needs a "
                "durable database file (in-memory databases are not allowed)"
            )
        if busy_timeout <= 0 or poll_interval <= 0:
            raise StoreInputError("busy_timeout and poll_interval must be positive")
        self._path = Path(text)
        self._busy_ms = int(busy_timeout * 1000)
        self._poll_interval = poll_interval
        self._writer: aiosqlite.Connection | None = None
        self._reader: aiosqlite.Connection | None = None
        self._write_lock = asyncio.Lock()
        self._read_lock = asyncio.Lock()
        self._signal = ChangeSignal()

    @property
    def path(self) -> Path:
        """The database file."""
        return self._path

    async def _connect(self) -> aiosqlite.Connection:
        db = await aiosqlite.connect(self._path, isolation_level=None)
        try:
            await db.execute(f"PRAGMA busy_timeout = {self._busy_ms}")
            await db.execute("PRAGMA foreign_keys = ON")
            await db.execute("PRAGMA synchronous = FULL")
        except BaseException:
            await db.close()
            raise
        return db

    async def open(self) -> None:
        """Open the file (created if missing), switch it to WAL and apply migrations."""
        if self._writer is not None:
            return
        self._path.parent.mkdir(parents=True, exist_ok=True)
        writer = await self._connect()
        try:
            rows = await writer.execute_fetchall("PRAGMA journal_mode = WAL")
            mode = next(iter(rows))[0]
            if str(mode).lower() != "wal":
                raise RuntimeError(f"SQLite refused WAL mode for {self._path} (got {mode!r})")
            await self._migrate(writer)
            reader = await self._connect()
            await reader.execute("PRAGMA query_only = ON")
        except BaseException:
            await writer.close()
            raise
        self._writer, self._reader = writer, reader

    async def _migrate(self, db: aiosqlite.Connection) -> None:
        await db.execute("BEGIN IMMEDIATE")
        try:
            await db.execute(SQLITE_STATE_VERSION_TABLE)
            rows = await db.execute_fetchall(
                "SELECT coalesce(max(version), 0) FROM state_schema_version"
            )
            current = next(iter(rows))[0]
            for step in pending(SQLITE_STATE_MIGRATIONS, current):
                for statement in step.statements:
                    await db.execute(statement)
                await db.execute(
                    "INSERT INTO state_schema_version (version, description, applied_at)"
                    " VALUES (?, ?, ?)",
                    (step.version, step.description, datetime.now(UTC).isoformat()),
                )
            await db.execute("COMMIT")
        except BaseException:
            with contextlib.suppress(sqlite3.Error):
                await db.execute("ROLLBACK")
            raise

    async def close(self) -> None:
        """Close both connections; the store can be opened again."""
        async with self._write_lock, self._read_lock:
            for db in (self._reader, self._writer):
                if db is not None:
                    await db.close()
            self._writer = self._reader = None

    def _require(self, db: aiosqlite.Connection | None) -> aiosqlite.Connection:
        if db is None:
            raise RuntimeError("the state store is not open: call open() first")
        return db

    async def _write(self, work: Callable[[aiosqlite.Connection], Awaitable[_T]]) -> _T:
        """Run ``work`` in one ``BEGIN IMMEDIATE`` transaction, to the end even if cancelled."""

        async def run() -> _T:
            async with self._write_lock:
                db = self._require(self._writer)
                await db.execute("BEGIN IMMEDIATE")
                try:
                    result = await work(db)
                    await db.execute("COMMIT")
                except BaseException:
                    with contextlib.suppress(sqlite3.Error):
                        await db.execute("ROLLBACK")
                    raise
            self._signal.fire()
            return result

        return await asyncio.shield(run())

    async def _read(self, work: Callable[[aiosqlite.Connection], Awaitable[_T]]) -> _T:
        """Run ``work`` in one read transaction (a consistent snapshot)."""

        async def run() -> _T:
            async with self._read_lock:
                db = self._require(self._reader)
                await db.execute("BEGIN")
                try:
                    return await work(db)
                finally:
                    await db.execute("COMMIT")

        return await asyncio.shield(run())

    # -- namespaces ------------------------------------------------------------------

    @staticmethod
    async def _load_namespace(db: aiosqlite.Connection, name: str) -> Namespace | None:
        rows = list(
            await db.execute_fetchall(
                f"SELECT {_NS_COLUMNS} FROM state_namespaces WHERE name = ?", (name,)
            )
        )
        return _namespace(rows[0]) if rows else None

    async def put_namespace(
        self, name: str, decide: DecideNamespace, now: datetime
    ) -> tuple[Namespace, bool]:
        """Create or update a namespace atomically; return it and whether it was created."""

        async def work(db: aiosqlite.Connection) -> tuple[Namespace, bool]:
            current = await self._load_namespace(db, name)
            wanted = decide(current)
            acl = wanted.acl
            values = (
                acl.owner,
                encode_dids(acl.writers),
                encode_dids(acl.readers),
                int(acl.public_read),
                wanted.context_id,
                _micros(now),
            )
            if current is None:
                await db.execute(
                    f"INSERT INTO state_namespaces ({_NS_COLUMNS})"
                    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, 0, 0)",
                    (name, *values[:5], _micros(now), _micros(now)),
                )
            else:
                await db.execute(
                    "UPDATE state_namespaces SET owner = ?, writers = ?, readers = ?,"
                    " public_read = ?, context_id = ?, updated_at = ? WHERE name = ?",
                    (*values, name),
                )
            stored = await self._load_namespace(db, name)
            assert stored is not None
            return stored, current is None

        return await self._write(work)

    async def get_namespace(self, name: str) -> Namespace | None:
        """Return the namespace, or None."""
        return await self._read(lambda db: self._load_namespace(db, name))

    async def namespaces_for_context(self, context_id: str) -> list[Namespace]:
        """Return the namespaces tied to an A2A contextId, by name."""
        rows = await self._read(
            lambda db: db.execute_fetchall(
                f"SELECT {_NS_COLUMNS} FROM state_namespaces WHERE context_id = ?"
                " ORDER BY name LIMIT ?",
                (context_id, MAX_PAGE),
            )
        )
        return [_namespace(row) for row in rows]

    # -- documents -------------------------------------------------------------------

    async def read(self, namespace: str, key: str) -> StoredDocument | None:
        """Return the stored row of a key (live, expired or tombstone), or None."""
        rows = list(
            await self._read(
                lambda db: db.execute_fetchall(
                    f"SELECT {_DOC_COLUMNS} FROM state_documents WHERE namespace = ? AND key = ?",
                    (namespace, key),
                )
            )
        )
        return _document(rows[0]) if rows else None

    async def list_live(
        self, namespace: str, prefix: str, after: str | None, limit: int, now: datetime
    ) -> list[StoredDocument]:
        """Return up to ``limit`` live documents under ``prefix`` with keys above ``after``."""
        low = prefix if after is None or after < prefix else after
        op = ">=" if after is None or after < prefix else ">"
        rows = await self._read(
            lambda db: db.execute_fetchall(
                f"SELECT {_DOC_COLUMNS} FROM state_documents WHERE namespace = ?"
                f" AND key {op} ? AND key < ? AND value IS NOT NULL"
                " AND (expires_at IS NULL OR expires_at > ?) ORDER BY key LIMIT ?",
                (namespace, low, prefix_upper_bound(prefix), _micros(now), min(limit, MAX_PAGE)),
            )
        )
        return [_document(row) for row in rows]

    @staticmethod
    async def _apply(
        db: aiosqlite.Connection,
        namespace: Namespace,
        current: dict[str, StoredDocument | None],
        mutations: Sequence[Mutation],
        writer: str | None,
        at: datetime,
        request_id: int | None,
    ) -> list[Change]:
        rows = await db.execute_fetchall(
            "UPDATE state_rev_counter SET value = value + ? WHERE id = 1 RETURNING value",
            (len(mutations),),
        )
        first = next(iter(rows))[0] - len(mutations) + 1
        changes: list[Change] = []
        for i, mutation in enumerate(mutations):
            old = current.get(mutation.key)
            version = (old.version if old is not None else 0) + 1
            rev = first + i
            await db.execute(
                f"INSERT INTO state_documents ({_DOC_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
                " ON CONFLICT (namespace, key) DO UPDATE SET value = excluded.value,"
                " version = excluded.version, writer = excluded.writer,"
                " updated_at = excluded.updated_at, expires_at = excluded.expires_at,"
                " rev = excluded.rev",
                (
                    namespace.name,
                    mutation.key,
                    mutation.value_json,
                    version,
                    writer,
                    _micros(at),
                    _micros_or_none(mutation.expires_at),
                    rev,
                ),
            )
            await db.execute(
                "INSERT INTO state_changes (rev, namespace, key, version, kind, value, writer,"
                " at, expires_at, request_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    rev,
                    namespace.name,
                    mutation.key,
                    version,
                    mutation.kind.value,
                    mutation.value_json,
                    writer,
                    _micros(at),
                    _micros_or_none(mutation.expires_at),
                    request_id,
                ),
            )
            changes.append(
                Change(
                    rev=rev,
                    namespace=namespace.name,
                    key=mutation.key,
                    version=version,
                    kind=mutation.kind,
                    value=decode_value(mutation.value_json),
                    writer=writer,
                    at=at,
                    expires_at=mutation.expires_at,
                )
            )
        usage = usage_after(namespace, current, mutations)
        await db.execute(
            "UPDATE state_namespaces SET bytes_used = ?, document_count = ? WHERE name = ?",
            (usage.bytes_used, usage.document_count, namespace.name),
        )
        return changes

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
        """Apply ``decide``'s mutations to ``keys`` in one ``BEGIN IMMEDIATE`` transaction."""
        wanted = list(dict.fromkeys(keys))

        async def work(db: aiosqlite.Connection) -> list[Change]:
            ns = await self._load_namespace(db, namespace)
            if ns is None:
                raise NamespaceNotFoundError(f"no namespace {namespace!r}")
            current: dict[str, StoredDocument | None] = dict.fromkeys(wanted)
            for start in range(0, len(wanted), 500):
                chunk = wanted[start : start + 500]
                marks = ", ".join("?" * len(chunk))
                for row in await db.execute_fetchall(
                    f"SELECT {_DOC_COLUMNS} FROM state_documents"
                    f" WHERE namespace = ? AND key IN ({marks})",
                    (namespace, *chunk),
                ):
                    current[row[1]] = _document(row)
            mutations = list(decide(ns, current))
            if not mutations:
                return []
            check_mutations(mutations, current)
            request_id = None
            if provenance is not None:
                cursor = await db.execute(
                    "INSERT INTO state_requests (method, target_uri, headers, body, signer,"
                    " received_at) VALUES (?, ?, ?, ?, ?, ?)",
                    (
                        provenance.method,
                        provenance.target_uri,
                        encode_headers(provenance.headers),
                        provenance.body,
                        provenance.signer,
                        _micros(provenance.received_at),
                    ),
                )
                request_id = cursor.lastrowid
            return await self._apply(db, ns, current, mutations, writer, at, request_id)

        return await self._write(work)

    async def expire(self, now: datetime, limit: int = 500) -> list[Change]:
        """Turn up to ``limit`` documents whose TTL ended by ``now`` into tombstones."""
        cutoff = _micros(now)
        due = await self._read(
            lambda db: db.execute_fetchall(
                "SELECT 1 FROM state_documents WHERE expires_at <= ? AND value IS NOT NULL LIMIT 1",
                (cutoff,),
            )
        )
        if not list(due):
            return []

        async def work(db: aiosqlite.Connection) -> list[Change]:
            rows = await db.execute_fetchall(
                f"SELECT {_DOC_COLUMNS} FROM state_documents WHERE expires_at <= ?"
                " AND value IS NOT NULL ORDER BY namespace, key LIMIT ?",
                (cutoff, limit),
            )
            by_namespace: dict[str, dict[str, StoredDocument | None]] = {}
            for row in rows:
                doc = _document(row)
                by_namespace.setdefault(doc.namespace, {})[doc.key] = doc
            changes: list[Change] = []
            for name, current in sorted(by_namespace.items()):
                ns = await self._load_namespace(db, name)
                assert ns is not None
                mutations = [Mutation(key, ChangeKind.EXPIRE, None) for key in sorted(current)]
                changes += await self._apply(db, ns, current, mutations, None, now, None)
            return changes

        return await self._write(work)

    # -- the change log --------------------------------------------------------------

    async def history(self, namespace: str, key: str, after_rev: int, limit: int) -> list[Change]:
        """Return a key's changes above ``after_rev`` in order, with their provenance."""
        rows = await self._read(
            lambda db: db.execute_fetchall(
                f"SELECT {_CHANGE_COLUMNS}, {_REQUEST_COLUMNS} FROM state_changes c"
                " LEFT JOIN state_requests r ON r.id = c.request_id"
                " WHERE c.namespace = ? AND c.key = ? AND c.rev > ? ORDER BY c.rev LIMIT ?",
                (namespace, key, after_rev, min(limit, MAX_PAGE)),
            )
        )
        return [_change(row, with_request=True) for row in rows]

    async def changes_since(
        self, namespace: str, prefix: str, after_rev: int, limit: int
    ) -> list[Change]:
        """Return the namespace's changes under ``prefix`` above ``after_rev`` in order."""
        rows = await self._read(
            lambda db: db.execute_fetchall(
                f"SELECT {_CHANGE_COLUMNS} FROM state_changes c WHERE c.namespace = ?"
                " AND c.rev > ? AND c.key >= ? AND c.key < ? ORDER BY c.rev LIMIT ?",
                (namespace, after_rev, prefix, prefix_upper_bound(prefix), min(limit, MAX_PAGE)),
            )
        )
        return [_change(row) for row in rows]

    async def last_rev(self) -> int:
        """Return the highest committed revision."""
        rows = await self._read(
            lambda db: db.execute_fetchall("SELECT value FROM state_rev_counter WHERE id = 1")
        )
        return int(next(iter(rows))[0])

    async def wait_for_change(self, after_rev: int, timeout: float) -> bool:
        """Wait for a revision above ``after_rev``: woken by local writes, polling for others."""
        return await wait_for_seq(
            self.last_rev, self._signal, after_rev, timeout, self._poll_interval
        )
