"""PostgreSQL backend: several registry replicas share one database (driver: asyncpg).

Ordering and exactly-once rules across replicas:

* Every write that records events first takes the row lock of the one-row ``seq_counter``
  table (``UPDATE ... RETURNING`` or ``SELECT ... FOR UPDATE``) and holds it to COMMIT.
  Writers are therefore serialised, sequence numbers are gapless and increase in commit
  order, and, since that lock is always the first one taken, writers cannot deadlock.
* ``expire`` deletes the lapsed rows with ``DELETE ... RETURNING`` after taking that lock,
  so a second replica sweeping at the same time finds them gone: one event per agent.
* Each such transaction calls ``pg_notify`` on a channel named after the schema; every
  replica LISTENs on a dedicated connection, so watchers everywhere wake at COMMIT. A slow
  poll remains as a safety net for a lost listener connection.
"""

# ruff: noqa: S608  -- SQL text is assembled from constants and placeholders; values are bound.

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, TypeAlias, TypeVar

try:
    import asyncpg
except ImportError as exc:  # pragma: no cover - exercised only without the extra
    raise ImportError(
        "the PostgreSQL registry backend needs asyncpg: pip install 'web-of-agents[postgres]'"
    ) from exc

from ..db import postgres as db_postgres
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
from .base import (
    AgentRecord,
    AgentStore,
    ChangeEvent,
    EventKind,
    SearchPage,
    SearchQuery,
    SkillEntry,
)
from .migrations import POSTGRES_MIGRATIONS, SCHEMA_VERSION_TABLE

if TYPE_CHECKING:
    from asyncpg.pool import PoolConnectionProxy

    _Conn: TypeAlias = PoolConnectionProxy[asyncpg.Record]

__all__ = ["PostgresAgentStore"]

_T = TypeVar("_T")

_AGENT_COLUMNS = (
    "did, name, description, url, source_url, verified, registered_at, updated_at,"
    " lease_expires_at, card, skills"
)

_DIALECT = Dialect(
    placeholder=lambda i: f"${i}",
    join="JOIN",
    has_input_schema="s.has_input_schema",
    text_query=lambda words: " & ".join(f"{w}:*" for w in words),
    text_filter=lambda key, param, _common: (
        f"EXISTS (SELECT 1 FROM agents a WHERE a.did = {key}"
        f" AND a.tsv @@ to_tsquery('english', {param}))"
    ),
    text_driver=lambda text, limit, after: (
        f"SELECT did FROM agents WHERE tsv @@ to_tsquery('english', {text})"
        + ("" if after is None else f" AND did > {after}")
        + f" ORDER BY did LIMIT {limit}"
    ),
    use_index=lambda name: "",
)


class _NothingChangedError(Exception):
    """Raised inside a write transaction to roll it back when there is nothing to do."""


def _record(row: asyncpg.Record) -> AgentRecord:
    return AgentRecord(
        did=row["did"],
        name=row["name"],
        description=row["description"],
        url=row["url"],
        source_url=row["source_url"],
        verified=row["verified"],
        registered_at=row["registered_at"].astimezone(UTC),
        updated_at=row["updated_at"].astimezone(UTC),
        lease_expires_at=row["lease_expires_at"].astimezone(UTC),
        card=decode_json_object(row["card"]),
        skills=decode_skills(row["skills"]),
    )


def _event(row: asyncpg.Record) -> ChangeEvent:
    card = row["card"]
    return ChangeEvent(
        seq=row["seq"],
        kind=EventKind(row["kind"]),
        did=row["did"],
        at=row["at"].astimezone(UTC),
        card=None if card is None else decode_json_object(card),
    )


class PostgresAgentStore(AgentStore):
    """Agent store in a PostgreSQL schema, shared safely by several registry replicas.

    ``schema`` (lower-case letters, digits and underscores, at most 50 characters) holds
    the tables and names the notification channel, so several registries or test runs can
    share one database. ``poll_interval`` is the safety-net poll of :meth:`wait_for_event`.
    """

    def __init__(
        self,
        dsn: str,
        *,
        schema: str = "woa_registry",
        min_pool_size: int = 1,
        max_pool_size: int = 10,
        poll_interval: float = 1.0,
        database: db_postgres.PostgresDatabase | None = None,
    ) -> None:
        self._schema = db_postgres.check_options(
            schema, min_pool_size, max_pool_size, poll_interval
        )
        self._dsn = dsn
        self._channel = f"{schema}_events"
        self._poll_interval = poll_interval
        self._signal = ChangeSignal()
        self._db = db_postgres.SchemaConnections(
            dsn,
            schema=schema,
            channel=self._channel,
            pool_sizes=(min_pool_size, max_pool_size),
            wake=self._signal.fire,
            what="store",
            lock_prefix="woa_registry",
            version_table=SCHEMA_VERSION_TABLE,
            migrations=POSTGRES_MIGRATIONS,
            database=database,
        )

    @property
    def schema(self) -> str:
        """The PostgreSQL schema holding this store's tables."""
        return self._schema

    # -- connections -----------------------------------------------------------------

    async def open(self) -> None:
        """Create the schema if needed, apply migrations, start the pool and the listener."""
        await self._db.open()

    async def close(self) -> None:
        """Stop listening and close the pool; the store can be opened again."""
        await self._db.close()

    def _require_pool(self) -> asyncpg.Pool:
        return self._db.pool

    async def schema_version(self) -> int:
        """Return the highest applied migration (for operators and tests)."""
        return int(await self._require_pool().fetchval("SELECT max(version) FROM schema_version"))

    async def _write(self, work: Callable[[_Conn], Awaitable[_T]]) -> _T:
        """Run ``work`` in one transaction, to the end even if the caller is cancelled."""
        pool = self._require_pool()

        async def run() -> _T:
            async with pool.acquire() as conn, conn.transaction():
                result = await work(conn)
            self._signal.fire()
            return result

        return await asyncio.shield(run())

    async def _next_seq(self, conn: _Conn, count: int = 1) -> int:
        """Reserve ``count`` sequence numbers (taking the writers' lock); return the first."""
        last = await conn.fetchval(
            "UPDATE seq_counter SET value = value + $1 WHERE id = 1 RETURNING value", count
        )
        return int(last) - count + 1

    async def _append_events(
        self,
        conn: _Conn,
        first_seq: int,
        items: Sequence[tuple[EventKind, str, datetime, str | None]],
    ) -> list[ChangeEvent]:
        seqs = [first_seq + i for i in range(len(items))]
        await conn.execute(
            "INSERT INTO events (seq, kind, did, at, card)"
            " SELECT * FROM unnest($1::bigint[], $2::text[], $3::text[], $4::timestamptz[],"
            " $5::text[])",
            seqs,
            [kind.value for kind, _, _, _ in items],
            [did for _, did, _, _ in items],
            [at for _, _, at, _ in items],
            [card for _, _, _, card in items],
        )
        await conn.execute("SELECT pg_notify($1, $2)", self._channel, str(seqs[-1]))
        return [
            ChangeEvent(
                seq=seq,
                kind=kind,
                did=did,
                at=at,
                card=None if card is None else decode_json_object(card),
            )
            for seq, (kind, did, at, card) in zip(seqs, items, strict=True)
        ]

    # -- writes ----------------------------------------------------------------------

    @staticmethod
    async def _insert_skill_rows(conn: _Conn, enc: EncodedRecord) -> None:
        if enc.skill_rows:
            pos, ids, families, has = zip(*enc.skill_rows, strict=True)
            await conn.execute(
                "INSERT INTO skills (did, pos, skill_id, family, has_input_schema)"
                " SELECT $1, * FROM unnest($2::int[], $3::text[], $4::text[], $5::bool[])",
                enc.did,
                list(pos),
                list(ids),
                list(families),
                list(has),
            )
        if enc.tag_rows:
            tag_pos, tags = zip(*enc.tag_rows, strict=True)
            await conn.execute(
                "INSERT INTO skill_tags (did, pos, tag)"
                " SELECT $1, * FROM unnest($2::int[], $3::text[])",
                enc.did,
                list(tag_pos),
                list(tags),
            )
        if enc.mode_rows:
            mode_pos, directions, modes = zip(*enc.mode_rows, strict=True)
            await conn.execute(
                "INSERT INTO skill_modes (did, pos, direction, mode)"
                " SELECT $1, * FROM unnest($2::int[], $3::text[], $4::text[])",
                enc.did,
                list(mode_pos),
                list(directions),
                list(modes),
            )

    async def put(self, record: AgentRecord) -> ChangeEvent:
        """Insert or replace the agent; the event's ``at`` is the record's ``updated_at``."""
        enc = encode_record(record)
        text = f"{enc.name}\n{enc.description}\n{enc.search_text}"

        async def work(conn: _Conn) -> ChangeEvent:
            seq = await self._next_seq(conn)
            exists = await conn.fetchval("SELECT true FROM agents WHERE did = $1", enc.did)
            values = (
                enc.did,
                enc.name,
                enc.description,
                enc.url,
                enc.source_url,
                enc.verified,
                enc.updated_at,
                enc.lease_expires_at,
                enc.card_json,
                enc.skills_json,
                text,
            )
            if exists:
                kind = EventKind.UPDATED
                await conn.execute(
                    "UPDATE agents SET name = $2, description = $3, url = $4, source_url = $5,"
                    " verified = $6, updated_at = $7, lease_expires_at = $8, card = $9,"
                    " skills = $10, tsv = to_tsvector('english', $11) WHERE did = $1",
                    *values,
                )
                await conn.execute("DELETE FROM skills WHERE did = $1", enc.did)
            else:
                kind = EventKind.REGISTERED
                await conn.execute(
                    "INSERT INTO agents (did, name, description, url, source_url, verified,"
                    " updated_at, lease_expires_at, card, skills, tsv, registered_at) VALUES"
                    " ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, to_tsvector('english', $11), $12)",
                    *values,
                    enc.registered_at,
                )
            await self._insert_skill_rows(conn, enc)
            item = (kind, enc.did, enc.updated_at, enc.card_json)
            return (await self._append_events(conn, seq, [item]))[0]

        return await self._write(work)

    async def get(self, did: str) -> AgentRecord | None:
        """Return the agent, or None."""
        did = check_did(did)
        row = await self._require_pool().fetchrow(
            f"SELECT {_AGENT_COLUMNS} FROM agents WHERE did = $1", did
        )
        return None if row is None else _record(row)

    async def renew(self, did: str, lease_expires_at: datetime) -> AgentRecord | None:
        """Set the agent's lease end; None when the agent is unknown."""
        did = check_did(did)
        until = check_aware(lease_expires_at, "lease_expires_at")
        row = await self._require_pool().fetchrow(
            f"UPDATE agents SET lease_expires_at = $2 WHERE did = $1 RETURNING {_AGENT_COLUMNS}",
            did,
            until,
        )
        return None if row is None else _record(row)

    async def delete(self, did: str) -> ChangeEvent | None:
        """Remove the agent; the event's ``at`` is the store's clock (UTC)."""
        did = check_did(did)

        async def work(conn: _Conn) -> ChangeEvent:
            seq = await self._next_seq(conn)
            if await conn.fetchval("DELETE FROM agents WHERE did = $1 RETURNING did", did) is None:
                raise _NothingChangedError
            item = (EventKind.DEREGISTERED, did, datetime.now(UTC), None)
            return (await self._append_events(conn, seq, [item]))[0]

        try:
            return await self._write(work)
        except _NothingChangedError:
            return None

    async def expire(self, now: datetime) -> list[ChangeEvent]:
        """Remove agents whose lease ended before ``now``; events carry ``at=now``."""
        cutoff = check_aware(now, "now")
        pool = self._require_pool()
        if not await pool.fetchval(
            "SELECT EXISTS (SELECT 1 FROM agents WHERE lease_expires_at < $1)", cutoff
        ):
            return []

        async def work(conn: _Conn) -> list[ChangeEvent]:
            base = await conn.fetchval("SELECT value FROM seq_counter WHERE id = 1 FOR UPDATE")
            rows = await conn.fetch(
                "DELETE FROM agents WHERE lease_expires_at < $1 RETURNING did", cutoff
            )
            if not rows:
                raise _NothingChangedError
            dids = sorted(row["did"] for row in rows)
            await conn.execute("UPDATE seq_counter SET value = $1 WHERE id = 1", base + len(dids))
            items = [(EventKind.EXPIRED, did, cutoff, None) for did in dids]
            return await self._append_events(conn, base + 1, items)

        try:
            return await self._write(work)
        except _NothingChangedError:
            return []

    # -- reads -----------------------------------------------------------------------

    async def _page(
        self, checked: CheckedQuery, limit: int, *, input_schema_only: bool
    ) -> list[AgentRecord]:
        built = page_sql(checked, _DIALECT, limit, input_schema_only=input_schema_only)
        if built is None:
            return []
        sql, params = built
        pool = self._require_pool()
        async with (
            pool.acquire() as conn,
            conn.transaction(isolation="repeatable_read", readonly=True),
        ):
            dids = [row["did"] for row in await conn.fetch(sql, *params)]
            if not dids:
                return []
            rows = await conn.fetch(
                f"SELECT {_AGENT_COLUMNS} FROM agents WHERE did = ANY($1::text[]) ORDER BY did",
                dids,
            )
        return [_record(row) for row in rows]

    async def search(self, query: SearchQuery) -> SearchPage:
        """Return one page of matching agents ordered by DID."""
        checked = check_query(query)
        limit = checked.query.limit
        return page_of(
            checked, await self._page(checked, limit + 1, input_schema_only=False), limit
        )

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
        rows = await self._require_pool().fetch(
            "SELECT seq, kind, did, at, card FROM events WHERE seq > $1 ORDER BY seq LIMIT $2",
            seq,
            limit,
        )
        return [_event(row) for row in rows]

    async def prune_events(self, before: datetime) -> int:
        """Delete the event prefix written before ``before``, keeping the newest event."""
        cutoff = check_aware(before, "before")

        async def work(conn: _Conn) -> int:
            status = await conn.execute(
                prune_events_sql("$1"),
                cutoff,
            )
            return int(status.split()[-1])  # "DELETE <count>"

        return await self._write(work)

    async def last_seq(self) -> int:
        """Return the highest committed sequence number."""
        value: Any = await self._require_pool().fetchval(
            "SELECT value FROM seq_counter WHERE id = 1"
        )
        return int(value)

    async def wait_for_event(self, after_seq: int, timeout: float) -> bool:
        """Wait for an event above ``after_seq`` from any replica (LISTEN/NOTIFY)."""
        self._require_pool()
        await self._db.ensure_listener()
        return await wait_for_seq(
            self.last_seq, self._signal, after_seq, timeout, self._poll_interval
        )

    async def count(self) -> int:
        """Return the number of registered agents."""
        return int(await self._require_pool().fetchval("SELECT count(*) FROM agents"))
