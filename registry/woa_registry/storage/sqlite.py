"""SQLite backend: the embedded default, one database file in WAL mode.

Driver: ``aiosqlite``, used directly rather than through SQLAlchemy because every query
here is hand-written SQL that SQLAlchemy would pass through unchanged (FTS5 ``MATCH``,
``RETURNING``, ``PRAGMA``, forced join order); a second layer would only add overhead.

Durability: ``journal_mode=WAL`` with ``synchronous=FULL`` fsyncs the log at every commit,
so an acknowledged write survives SIGKILL and power loss. Every write runs in
``BEGIN IMMEDIATE``, which takes the file's write lock first: writers from any process are
serialised, so sequence numbers follow commit order and an expired agent is removed once.
Reads use a second connection and see the last committed state without blocking writers.
"""

# ruff: noqa: S608  -- SQL text is assembled from constants and placeholders; values are bound.

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

import aiosqlite

from ..db import sqlite as db_sqlite
from ._search_sql import Dialect, page_sql
from ._shared import (
    ChangeSignal,
    CheckedQuery,
    EncodedRecord,
    check_aware,
    check_did,
    check_events_args,
    check_query,
    decode_json_object,
    decode_skills,
    encode_record,
    page_of,
    schema_skills,
    wait_for_seq,
)
from .base import (
    AgentRecord,
    AgentStore,
    ChangeEvent,
    EventKind,
    SearchPage,
    SearchQuery,
    SkillEntry,
)
from .migrations import SCHEMA_VERSION_TABLE, SQLITE_MIGRATIONS

__all__ = ["SqliteAgentStore"]

_T = TypeVar("_T")
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_COMMON_TEXT_MATCHES = 1000
"""Above this many full-text matches, a search with skill filters walks the skill index."""
_MICRO = timedelta(microseconds=1)

_AGENT_COLUMNS = (
    "did, name, description, url, source_url, verified, registered_at, updated_at,"
    " lease_expires_at, card, skills"
)

_DIALECT = Dialect(
    placeholder=lambda i: f"?{i}",
    join="CROSS JOIN",
    has_input_schema="s.has_input_schema = 1",
    text_query=lambda words: " ".join(f'"{w}"*' for w in words),
    text_filter=lambda key, param, common: (
        # Many matches: walk the driving index, testing each agent's row id against the
        # list of matching row ids. Few matches: let SQLite walk that short list instead.
        f"(SELECT a.id FROM agents a WHERE a.did = {key})"
        f" IN (SELECT rowid FROM agents_fts WHERE agents_fts MATCH {param})"
        if common
        else f"{key} IN (SELECT a.did FROM agents_fts CROSS JOIN agents a"
        f" ON a.id = agents_fts.rowid WHERE agents_fts MATCH {param})"
    ),
    text_driver=lambda text, limit, after: (
        "SELECT a.did FROM agents_fts CROSS JOIN agents a ON a.id = agents_fts.rowid"
        f" WHERE agents_fts MATCH {text}"
        + ("" if after is None else f" AND a.did > {after}")
        + f" ORDER BY a.did LIMIT {limit}"
    ),
    use_index=lambda name: f" INDEXED BY {name}",
)


def _to_micros(value: datetime) -> int:
    return (value - _EPOCH) // _MICRO


def _from_micros(value: int) -> datetime:
    return _EPOCH + value * _MICRO


def _record(row: Sequence[Any]) -> AgentRecord:
    return AgentRecord(
        did=row[0],
        name=row[1],
        description=row[2],
        url=row[3],
        source_url=row[4],
        verified=bool(row[5]),
        registered_at=_from_micros(row[6]),
        updated_at=_from_micros(row[7]),
        lease_expires_at=_from_micros(row[8]),
        card=decode_json_object(row[9]),
        skills=decode_skills(row[10]),
    )


def _event(row: Sequence[Any]) -> ChangeEvent:
    seq, kind, did, at, card = row
    return ChangeEvent(
        seq=seq,
        kind=EventKind(kind),
        did=did,
        at=_from_micros(at),
        card=None if card is None else decode_json_object(card),
    )


class SqliteAgentStore(AgentStore):
    """Agent store in one SQLite file (WAL, ``synchronous=FULL``, FTS5 full-text search).

    ``path`` must name a file: an in-memory database is refused because the registry must
    be durable (and the reader and writer connections must share one database).
    ``busy_timeout`` bounds how long a write waits for another process's write lock;
    ``poll_interval`` is how often :meth:`wait_for_event` re-reads the sequence number to
    notice writes made by other processes (writes by this store wake it at once).
    """

    def __init__(
        self, path: str | Path, *, busy_timeout: float = 10.0, poll_interval: float = 0.1
    ) -> None:
        self._path, self._busy_ms = db_sqlite.check_options(
            path, busy_timeout, poll_interval, needed_by="the registry"
        )
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

    # -- connections -----------------------------------------------------------------

    async def _connect(self, *, query_only: bool = False) -> aiosqlite.Connection:
        db = await aiosqlite.connect(self._path, isolation_level=None)
        try:
            for pragma in db_sqlite.connection_pragmas(self._busy_ms, query_only=query_only):
                await db.execute(pragma)
        except BaseException:
            await db.close()
            raise
        return db

    async def open(self) -> None:
        """Open the file (created if missing), switch it to WAL and apply migrations."""
        if self._writer is not None:
            return
        await asyncio.to_thread(
            db_sqlite.prepare_file,
            self._path,
            self._busy_ms,
            SCHEMA_VERSION_TABLE,
            SQLITE_MIGRATIONS,
        )
        writer = await self._connect()
        try:
            reader = await self._connect(query_only=True)
        except BaseException:
            await writer.close()
            raise
        self._writer, self._reader = writer, reader

    async def close(self) -> None:
        """Close both connections; the store can be opened again."""
        async with self._write_lock, self._read_lock:
            for db in (self._reader, self._writer):
                if db is not None:
                    await db.close()
            self._writer = self._reader = None

    async def schema_version(self) -> int:
        """Return the highest applied migration (for operators and tests)."""
        rows = await self._read(
            lambda db: db.execute_fetchall("SELECT max(version) FROM schema_version")
        )
        return int(next(iter(rows))[0])

    def _require(self, db: aiosqlite.Connection | None) -> aiosqlite.Connection:
        if db is None:
            raise RuntimeError("the store is not open: call open() first")
        return db

    async def _write(
        self, work: Callable[[aiosqlite.Connection], Awaitable[_T]], *, wakes: bool = True
    ) -> _T:
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
            if wakes:
                self._signal.fire()
            return result

        return await asyncio.shield(run())

    async def _read(
        self, work: Callable[[aiosqlite.Connection], Awaitable[_T]], *, snapshot: bool = False
    ) -> _T:
        """Run ``work`` on the reader; ``snapshot`` wraps several statements in one transaction."""

        async def run() -> _T:
            async with self._read_lock:
                db = self._require(self._reader)
                if not snapshot:
                    return await work(db)
                await db.execute("BEGIN")
                try:
                    return await work(db)
                finally:
                    await db.execute("COMMIT")

        return await asyncio.shield(run())

    # -- writes ----------------------------------------------------------------------

    @staticmethod
    async def _append_events(
        db: aiosqlite.Connection, items: Sequence[tuple[EventKind, str, datetime, str | None]]
    ) -> list[ChangeEvent]:
        rows = await db.execute_fetchall(
            "UPDATE seq_counter SET value = value + ? WHERE id = 1 RETURNING value", (len(items),)
        )
        first = next(iter(rows))[0] - len(items) + 1
        await db.executemany(
            "INSERT INTO events (seq, kind, did, at, card) VALUES (?, ?, ?, ?, ?)",
            [
                (first + i, kind.value, did, _to_micros(at), card)
                for i, (kind, did, at, card) in enumerate(items)
            ],
        )
        return [
            ChangeEvent(
                seq=first + i,
                kind=kind,
                did=did,
                at=at,
                card=None if card is None else decode_json_object(card),
            )
            for i, (kind, did, at, card) in enumerate(items)
        ]

    @staticmethod
    async def _insert_index_rows(
        db: aiosqlite.Connection, agent_id: int, enc: EncodedRecord
    ) -> None:
        await db.execute(
            "INSERT INTO agents_fts (rowid, name, description, skills) VALUES (?, ?, ?, ?)",
            (agent_id, enc.name, enc.description, enc.search_text),
        )
        await db.executemany(
            "INSERT INTO skills (did, pos, skill_id, family, has_input_schema)"
            " VALUES (?, ?, ?, ?, ?)",
            [(enc.did, pos, sid, fam, int(has)) for pos, sid, fam, has in enc.skill_rows],
        )
        await db.executemany(
            "INSERT INTO skill_tags (did, pos, tag) VALUES (?, ?, ?)",
            [(enc.did, pos, tag) for pos, tag in enc.tag_rows],
        )
        await db.executemany(
            "INSERT INTO skill_modes (did, pos, direction, mode) VALUES (?, ?, ?, ?)",
            [(enc.did, pos, direction, mode) for pos, direction, mode in enc.mode_rows],
        )

    async def put(self, record: AgentRecord) -> ChangeEvent:
        """Insert or replace the agent; the event's ``at`` is the record's ``updated_at``."""
        enc = encode_record(record)

        async def work(db: aiosqlite.Connection) -> ChangeEvent:
            rows = list(
                await db.execute_fetchall("SELECT id FROM agents WHERE did = ?", (enc.did,))
            )
            values = (
                enc.name,
                enc.description,
                enc.url,
                enc.source_url,
                int(enc.verified),
                _to_micros(enc.updated_at),
                _to_micros(enc.lease_expires_at),
                enc.card_json,
                enc.skills_json,
            )
            if rows:
                agent_id: int = rows[0][0]
                kind = EventKind.UPDATED
                await db.execute(
                    "UPDATE agents SET name = ?, description = ?, url = ?, source_url = ?,"
                    " verified = ?, updated_at = ?, lease_expires_at = ?, card = ?, skills = ?"
                    " WHERE id = ?",
                    (*values, agent_id),
                )
                await db.execute("DELETE FROM skills WHERE did = ?", (enc.did,))
                await db.execute("DELETE FROM agents_fts WHERE rowid = ?", (agent_id,))
            else:
                kind = EventKind.REGISTERED
                cursor = await db.execute(
                    "INSERT INTO agents (name, description, url, source_url, verified,"
                    " updated_at, lease_expires_at, card, skills, did, registered_at)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (*values, enc.did, _to_micros(enc.registered_at)),
                )
                if cursor.lastrowid is None:  # pragma: no cover - an INSERT always sets it
                    raise RuntimeError("SQLite did not report the new row id")
                agent_id = cursor.lastrowid
            await self._insert_index_rows(db, agent_id, enc)
            events = await self._append_events(db, [(kind, enc.did, enc.updated_at, enc.card_json)])
            return events[0]

        return await self._write(work)

    async def get(self, did: str) -> AgentRecord | None:
        """Return the agent, or None."""
        did = check_did(did)
        rows = await self._read(
            lambda db: db.execute_fetchall(
                f"SELECT {_AGENT_COLUMNS} FROM agents WHERE did = ?", (did,)
            )
        )
        found = list(rows)
        return _record(found[0]) if found else None

    async def renew(self, did: str, lease_expires_at: datetime) -> AgentRecord | None:
        """Set the agent's lease end; None when the agent is unknown."""
        did = check_did(did)
        until = _to_micros(check_aware(lease_expires_at, "lease_expires_at"))
        rows = await self._write(
            lambda db: db.execute_fetchall(
                f"UPDATE agents SET lease_expires_at = ? WHERE did = ? RETURNING {_AGENT_COLUMNS}",
                (until, did),
            ),
            wakes=False,
        )
        found = list(rows)
        return _record(found[0]) if found else None

    async def delete(self, did: str) -> ChangeEvent | None:
        """Remove the agent; the event's ``at`` is the store's clock (UTC)."""
        did = check_did(did)

        async def work(db: aiosqlite.Connection) -> ChangeEvent | None:
            rows = list(
                await db.execute_fetchall("DELETE FROM agents WHERE did = ? RETURNING id", (did,))
            )
            if not rows:
                return None
            await db.execute("DELETE FROM agents_fts WHERE rowid = ?", (rows[0][0],))
            now = datetime.now(UTC)
            return (await self._append_events(db, [(EventKind.DEREGISTERED, did, now, None)]))[0]

        return await self._write(work)

    async def expire(self, now: datetime) -> list[ChangeEvent]:
        """Remove agents whose lease ended before ``now``; events carry ``at=now``."""
        cutoff = check_aware(now, "now")
        micros = _to_micros(cutoff)
        lapsed = await self._read(
            lambda db: db.execute_fetchall(
                "SELECT 1 FROM agents WHERE lease_expires_at < ? LIMIT 1", (micros,)
            )
        )
        if not list(lapsed):
            return []

        async def work(db: aiosqlite.Connection) -> list[ChangeEvent]:
            rows = sorted(
                await db.execute_fetchall(
                    "DELETE FROM agents WHERE lease_expires_at < ? RETURNING did, id", (micros,)
                )
            )
            if not rows:
                return []
            await db.executemany(
                "DELETE FROM agents_fts WHERE rowid = ?", [(agent_id,) for _, agent_id in rows]
            )
            items = [(EventKind.EXPIRED, did, cutoff, None) for did, _ in rows]
            return await self._append_events(db, items)

        return await self._write(work)

    # -- reads -----------------------------------------------------------------------

    @staticmethod
    async def _load(db: aiosqlite.Connection, dids: list[str]) -> list[AgentRecord]:
        if not dids:
            return []
        marks = ", ".join("?" * len(dids))
        rows = await db.execute_fetchall(
            f"SELECT {_AGENT_COLUMNS} FROM agents WHERE did IN ({marks}) ORDER BY did", dids
        )
        return [_record(row) for row in rows]

    async def _page(
        self, checked: CheckedQuery, limit: int, *, input_schema_only: bool
    ) -> list[AgentRecord]:
        skill_level = checked.has_skill_filter or input_schema_only

        async def work(db: aiosqlite.Connection) -> list[AgentRecord]:
            common = False
            if checked.words and skill_level:
                rows = await db.execute_fetchall(
                    "SELECT count(*) FROM (SELECT 1 FROM agents_fts WHERE agents_fts MATCH ?"
                    " LIMIT ?)",
                    (_DIALECT.text_query(checked.words), _COMMON_TEXT_MATCHES + 1),
                )
                common = next(iter(rows))[0] > _COMMON_TEXT_MATCHES
            built = page_sql(
                checked,
                _DIALECT,
                limit,
                input_schema_only=input_schema_only,
                common_text=common,
            )
            if built is None:
                return []
            sql, params = built
            dids = [row[0] for row in await db.execute_fetchall(sql, params)]
            return await self._load(db, dids)

        return await self._read(work, snapshot=True)

    async def search(self, query: SearchQuery) -> SearchPage:
        """Return one page of matching agents ordered by DID."""
        checked = check_query(query)
        limit = checked.query.limit
        records = await self._page(checked, limit + 1, input_schema_only=False)
        return page_of(checked, records, limit)

    async def skills_with_input_schema(
        self, query: SearchQuery
    ) -> Sequence[tuple[str, SkillEntry]]:
        """Return ``(did, skill)`` for matching skills that declare an input schema."""
        checked = check_query(query)
        records = await self._page(checked, checked.query.limit, input_schema_only=True)
        return schema_skills(checked, records)

    async def events_since(self, seq: int, limit: int = 1000) -> list[ChangeEvent]:
        """Return up to ``limit`` events above ``seq`` in order."""
        check_events_args(seq, limit)
        rows = await self._read(
            lambda db: db.execute_fetchall(
                "SELECT seq, kind, did, at, card FROM events WHERE seq > ? ORDER BY seq LIMIT ?",
                (seq, limit),
            )
        )
        return [_event(row) for row in rows]

    async def last_seq(self) -> int:
        """Return the highest committed sequence number."""
        rows = await self._read(
            lambda db: db.execute_fetchall("SELECT value FROM seq_counter WHERE id = 1")
        )
        return int(next(iter(rows))[0])

    async def wait_for_event(self, after_seq: int, timeout: float) -> bool:
        """Wait for an event above ``after_seq``: woken by local writes, polling for others."""
        return await wait_for_seq(
            self.last_seq, self._signal, after_seq, timeout, self._poll_interval
        )

    async def count(self) -> int:
        """Return the number of registered agents."""
        rows = await self._read(lambda db: db.execute_fetchall("SELECT count(*) FROM agents"))
        return int(next(iter(rows))[0])
