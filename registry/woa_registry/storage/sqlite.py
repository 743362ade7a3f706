"""SQLite backend: the embedded default, one database file in WAL mode.

Driver: ``aiosqlite``, used directly rather than through SQLAlchemy because every query
here is hand-written SQL that SQLAlchemy would pass through unchanged (FTS5 ``MATCH``,
``RETURNING``, ``PRAGMA``, forced join order); a second layer would only add overhead.

Durability: ``journal_mode=WAL`` with ``synchronous=FULL`` fsyncs the log at every commit,
so an acknowledged write survives SIGKILL and power loss. Every write runs in
``BEGIN IMMEDIATE``, which takes the file's write lock first: writers from any process are
serialised, so sequence numbers follow commit order and an expired agent is removed once.
Reads use a small pool of other connections (plain :mod:`sqlite3`, each read run whole in
a worker thread) and see the last committed state without blocking writers. Plain
:mod:`sqlite3` rather than ``aiosqlite`` for reads: aiosqlite hops to its thread and back
once per statement, and a search is four statements (snapshot begin, page of DIDs,
records, commit), so one hop per read makes a small search about 25% faster end to end.
The pool is small (``_READERS``) so that one slow read does not hold up every other; more
readers measured slower on a two-core machine, where their threads contend with the event
loop for the GIL.

Full text is answered from the DID-ordered term index kept beside FTS5 (schema step 2,
:mod:`._sqlite_terms`): the postings of the query's rarest word are walked in DID order
from the cursor and the walk stops after one page, so a common word costs about a page,
not its matches. A registration writes, next to its FTS5 row, the agent's FTS5 terms (one
``agent_text`` row); a trigger updates the postings from it (only the terms that
changed), and deleting the agent cascades to both. FTS5 itself answers only a query word
that its tokenizer splits into several tokens (a phrase, which the term index cannot
express): then text matching many agents (more than ``_COMMON_TEXT_MATCHES``) walks agents
in DID order testing each against the list of matching row ids, and rarer text is driven
by that list.
"""

# ruff: noqa: S608  -- SQL text is assembled from constants and placeholders; values are bound.

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
from collections.abc import Awaitable, Callable, Iterable, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

import aiosqlite

from ..db import sqlite as db_sqlite
from ..db.signals import ChangeSignal, wait_for_seq
from ._search_sql import Dialect, page_sql
from ._shared import (
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
    prune_events_sql,
    schema_skills,
)
from ._sqlite_terms import TermPlan, TermTokenizer, count_postings, terms_json, word_terms
from .base import (
    AgentRecord,
    AgentStore,
    ChangeEvent,
    EventKind,
    SearchPage,
    SearchQuery,
    SkillEntry,
    StoreInputError,
)
from .migrations import SCHEMA_VERSION_TABLE, SQLITE_MIGRATIONS

__all__ = ["SqliteAgentStore"]

_T = TypeVar("_T")
_R = TypeVar("_R")
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_COMMON_TEXT_MATCHES = 1000
"""FTS5 plan only: above this many matches, walk the DID-ordered index, not the matches."""
_READERS = 2
"""Default reader connections per store (see the module docstring)."""
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
    # ``+a.id`` keeps SQLite from driving the query by the list of matches (then sorting).
    common_text_driver=lambda text, limit, after: (
        "SELECT a.did FROM agents a WHERE +a.id IN"
        f" (SELECT rowid FROM agents_fts WHERE agents_fts MATCH {text})"
        + ("" if after is None else f" AND a.did > {after}")
        + f" ORDER BY a.did LIMIT {limit}"
    ),
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
    notice writes made by other processes (writes by this store wake it at once);
    ``readers`` is the number of reader connections (reads beyond it wait for one).
    """

    def __init__(
        self,
        path: str | Path,
        *,
        busy_timeout: float = 10.0,
        poll_interval: float = 0.1,
        readers: int = _READERS,
        term_index: bool = True,
    ) -> None:
        self._path, self._busy_ms = db_sqlite.check_options(
            path, busy_timeout, poll_interval, needed_by="the registry"
        )
        if isinstance(readers, bool) or not isinstance(readers, int) or readers < 1:
            raise StoreInputError("readers must be a positive integer")
        self._poll_interval = poll_interval
        self._reader_count = readers
        self._writer: aiosqlite.Connection | None = None
        self._readers: asyncio.Queue[sqlite3.Connection | None] | None = None
        """Idle reader connections; None entries are left behind by :meth:`close`."""
        self._write_lock = asyncio.Lock()
        self._signal = ChangeSignal()
        self._tokenizer: TermTokenizer | None = None
        """FTS5's terms of agents and query words (open while the store is)."""
        self.term_index = term_index
        """Answer full text from the term index (False: from FTS5 alone, to compare them;
        the index is kept up to date either way)."""

    @property
    def path(self) -> Path:
        """The database file."""
        return self._path

    # -- connections -----------------------------------------------------------------

    async def _connect_writer(self) -> aiosqlite.Connection:
        db = await aiosqlite.connect(self._path, isolation_level=None)
        try:
            for pragma in db_sqlite.connection_pragmas(self._busy_ms):
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
        writer = await self._connect_writer()
        readers: list[sqlite3.Connection] = []
        try:
            for _ in range(self._reader_count):
                readers.append(
                    await asyncio.to_thread(
                        db_sqlite.connect,
                        self._path,
                        self._busy_ms,
                        query_only=True,
                        any_thread=True,
                    )
                )
        except BaseException:
            for db in readers:
                db.close()
            await writer.close()
            raise
        pool: asyncio.Queue[sqlite3.Connection | None] = asyncio.Queue()
        for db in readers:
            pool.put_nowait(db)
        self._tokenizer = TermTokenizer()
        self._writer, self._readers = writer, pool

    async def close(self) -> None:
        """Close every connection once in-flight reads end; the store can be opened again."""
        async with self._write_lock:
            pool, self._readers = self._readers, None
            if pool is not None:
                for _ in range(self._reader_count):
                    db = await pool.get()
                    if db is not None:
                        db.close()
                for _ in range(self._reader_count):  # wakes reads still waiting on this pool
                    pool.put_nowait(None)
            if self._writer is not None:
                await self._writer.close()
            self._writer = None
            if self._tokenizer is not None:
                self._tokenizer.close()
            self._tokenizer = None

    async def schema_version(self) -> int:
        """Return the highest applied migration (for operators and tests)."""
        rows = await self._read(lambda db: db.execute("SELECT max(version) FROM schema_version"))
        return int(next(iter(rows))[0])

    def _require(self, db: aiosqlite.Connection | None) -> aiosqlite.Connection:
        if db is None:
            raise RuntimeError("the store is not open: call open() first")
        return db

    def _terms(self) -> TermTokenizer:
        if self._tokenizer is None:
            raise RuntimeError("the store is not open: call open() first")
        return self._tokenizer

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
        self,
        work: Callable[[sqlite3.Connection], Iterable[_R]],
        *,
        snapshot: bool = False,
    ) -> list[_R]:
        """Run ``work`` on a free reader in a worker thread and return its rows as a list.

        ``snapshot`` wraps ``work`` (several statements) in one read transaction. The
        connection goes back to the pool only when the thread is done, even if cancelled.
        """

        def call(db: sqlite3.Connection) -> list[_R]:
            if snapshot:
                return db_sqlite.transaction(db, "BEGIN", lambda db: list(work(db)))
            return list(work(db))

        async def run() -> list[_R]:
            pool = self._readers
            if pool is None:
                raise RuntimeError("the store is not open: call open() first")
            db = await pool.get()
            try:
                if db is None:  # the store was closed while this read waited
                    raise RuntimeError("the store is not open: call open() first")
                return await asyncio.to_thread(call, db)
            finally:
                pool.put_nowait(db)

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
        db: aiosqlite.Connection, agent_id: int, enc: EncodedRecord, terms: str
    ) -> None:
        await db.execute(
            "INSERT INTO agents_fts (rowid, name, description, skills) VALUES (?, ?, ?, ?)",
            (agent_id, enc.name, enc.description, enc.search_text),
        )
        # Triggers bring the postings (agent_terms) in line: only the terms that changed.
        await db.execute(
            "INSERT INTO agent_text (did, terms) VALUES (?, ?) ON CONFLICT (did)"
            " DO UPDATE SET terms = excluded.terms WHERE terms IS NOT excluded.terms",
            (enc.did, terms),
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
        terms = terms_json(self._terms().document_terms(enc.name, enc.description, enc.search_text))

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
            await self._insert_index_rows(db, agent_id, enc, terms)
            events = await self._append_events(db, [(kind, enc.did, enc.updated_at, enc.card_json)])
            return events[0]

        return await self._write(work)

    async def get(self, did: str) -> AgentRecord | None:
        """Return the agent, or None."""
        did = check_did(did)
        found = await self._read(
            lambda db: map(
                _record, db.execute(f"SELECT {_AGENT_COLUMNS} FROM agents WHERE did = ?", (did,))
            )
        )
        return found[0] if found else None

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
            lambda db: db.execute(
                "SELECT 1 FROM agents WHERE lease_expires_at < ? LIMIT 1", (micros,)
            )
        )
        if not lapsed:
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

    async def _page(
        self, checked: CheckedQuery, limit: int, *, input_schema_only: bool
    ) -> list[AgentRecord]:
        prefixes: list[str] | None = None
        if checked.words and self.term_index:
            tokens = self._terms().word_terms(checked.words)
            if all(len(t) == 1 for t in tokens):  # else a phrase: FTS5 answers
                prefixes = list(dict.fromkeys(t[0] for t in tokens))

        def work(db: sqlite3.Connection) -> list[AgentRecord]:
            common = False
            plan: TermPlan | None = None
            if prefixes is not None:
                found = [word_terms(db, prefix) for prefix in prefixes]
                if any(w.matches_nothing for w in found):
                    return []
                text_alone = not (checked.has_skill_filter or input_schema_only)
                if TermPlan.needs_counts(found, text_alone=text_alone):
                    found = [count_postings(db, w) for w in found]
                plan = TermPlan(tuple(found))
            elif checked.words:
                (matches,) = db.execute(
                    "SELECT count(*) FROM (SELECT 1 FROM agents_fts WHERE agents_fts MATCH ?"
                    " LIMIT ?)",
                    (_DIALECT.text_query(checked.words), _COMMON_TEXT_MATCHES + 1),
                ).fetchone()
                common = matches > _COMMON_TEXT_MATCHES
            built = page_sql(
                checked,
                _DIALECT,
                limit,
                input_schema_only=input_schema_only,
                common_text=common,
                text=plan,
            )
            if built is None:
                return []
            sql, params = built
            dids = [row[0] for row in db.execute(sql, params)]
            if not dids:
                return []
            marks = ", ".join("?" * len(dids))
            rows = db.execute(
                f"SELECT {_AGENT_COLUMNS} FROM agents WHERE did IN ({marks}) ORDER BY did", dids
            )
            return [_record(row) for row in rows]

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
        return await self._read(
            lambda db: map(
                _event,
                db.execute(
                    "SELECT seq, kind, did, at, card FROM events WHERE seq > ? ORDER BY seq"
                    " LIMIT ?",
                    (seq, limit),
                ),
            )
        )

    async def prune_events(self, before: datetime) -> int:
        """Delete the event prefix written before ``before``, keeping the newest event."""
        micros = _to_micros(check_aware(before, "before"))

        async def work(db: aiosqlite.Connection) -> int:
            cursor = await db.execute(
                prune_events_sql("?"),
                (micros,),
            )
            return int(cursor.rowcount)

        return await self._write(work, wakes=False)

    async def last_seq(self) -> int:
        """Return the highest committed sequence number."""
        rows = await self._read(lambda db: db.execute("SELECT value FROM seq_counter WHERE id = 1"))
        return int(next(iter(rows))[0])

    async def wait_for_event(self, after_seq: int, timeout: float) -> bool:
        """Wait for an event above ``after_seq``: woken by local writes, polling for others."""
        return await wait_for_seq(
            self.last_seq, self._signal, after_seq, timeout, self._poll_interval
        )

    async def count(self) -> int:
        """Return the number of registered agents."""
        rows = await self._read(lambda db: db.execute("SELECT count(*) FROM agents"))
        return int(next(iter(rows))[0])
