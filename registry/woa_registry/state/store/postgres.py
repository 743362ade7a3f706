"""PostgreSQL state backend: the state tables next to the registry's, shared by replicas.

Ordering and visibility rules across replicas (the same scheme as the registry's store):

* Every write transaction starts with ``BEGIN; SELECT ... FROM state_rev_counter FOR UPDATE``
  (one round trip) and holds that row lock to COMMIT. Writers are therefore serialised,
  revisions are gapless and increase in commit order, and because the lock is taken before
  anything is read, each read-check-write (compare-and-set, patch, batch) sees the latest
  committed state under READ COMMITTED: per-key linearizability. The write itself is one
  statement (data-modifying CTEs), so the lock is held for three round trips and COMMIT.
* A failed precondition raises inside the transaction, which rolls back.
* Each write calls ``pg_notify`` on a channel named after the schema; every replica LISTENs
  on a dedicated connection and wakes its watchers at COMMIT. A slow poll remains as a
  safety net for a lost listener connection.
"""

# ruff: noqa: S608  -- SQL text is assembled from constants and placeholders; values are bound.

from __future__ import annotations

import asyncio
import contextlib
import functools
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, TypeAlias, TypeVar

try:
    import asyncpg
except ImportError as exc:  # pragma: no cover - exercised only without the extra
    raise ImportError(
        "the PostgreSQL state backend needs asyncpg: pip install 'web-of-agents[postgres]'"
    ) from exc

from ...db import postgres as db_postgres
from ...db.signals import ChangeSignal, wait_for_seq
from ..models import Acl, Change, ChangeKind, Namespace, Provenance, StoredDocument
from ._group import Batch, GroupCommitter, Outcome, Pending, columns, decide_group
from ._rows import decode_dids, decode_headers, decode_value, encode_dids
from .base import (
    MAX_PAGE,
    Decide,
    DecideNamespace,
    Mutation,
    StateStore,
    prefix_upper_bound,
)
from .migrations import POSTGRES_STATE_MIGRATIONS, STATE_VERSION_TABLE

if TYPE_CHECKING:
    from asyncpg.pool import PoolConnectionProxy

    _Conn: TypeAlias = PoolConnectionProxy[asyncpg.Record]

__all__ = ["PostgresStateStore"]

_T = TypeVar("_T")

_NS_COLUMNS = (
    "name, owner, writers, readers, public_read, context_id, created_at, updated_at,"
    " bytes_used, document_count"
)
_DOC_COLUMNS = "namespace, key, value, version, writer, updated_at, expires_at, rev"
_CHANGE_COLUMNS = (
    "c.rev, c.namespace, c.key, c.version, c.kind, c.value, c.writer, c.at, c.expires_at"
)
_REQUEST_COLUMNS = (
    "r.method, r.target_uri, r.headers, r.body, r.signer, r.received_at AS r_received_at"
)


def _utc(value: datetime | None) -> datetime | None:
    return None if value is None else value.astimezone(UTC)


def _namespace(row: asyncpg.Record) -> Namespace:
    return Namespace(
        name=row["name"],
        acl=Acl(
            owner=row["owner"],
            writers=decode_dids(row["writers"]),
            readers=decode_dids(row["readers"]),
            public_read=row["public_read"],
        ),
        context_id=row["context_id"],
        created_at=row["created_at"].astimezone(UTC),
        updated_at=row["updated_at"].astimezone(UTC),
        bytes_used=row["bytes_used"],
        document_count=row["document_count"],
    )


def _document(row: asyncpg.Record) -> StoredDocument:
    return StoredDocument(
        namespace=row["namespace"],
        key=row["key"],
        value_json=row["value"],
        version=row["version"],
        writer=row["writer"],
        updated_at=row["updated_at"].astimezone(UTC),
        expires_at=_utc(row["expires_at"]),
        rev=row["rev"],
    )


def _document_prefixed(row: asyncpg.Record) -> StoredDocument:
    return StoredDocument(
        namespace=row["d_namespace"],
        key=row["d_key"],
        value_json=row["d_value"],
        version=row["d_version"],
        writer=row["d_writer"],
        updated_at=row["d_updated_at"].astimezone(UTC),
        expires_at=_utc(row["d_expires_at"]),
        rev=row["d_rev"],
    )


def _change(row: asyncpg.Record, with_request: bool = False) -> Change:
    provenance = None
    if with_request and row["method"] is not None:
        provenance = Provenance(
            method=row["method"],
            target_uri=row["target_uri"],
            headers=decode_headers(row["headers"]),
            body=bytes(row["body"]),
            signer=row["signer"],
            received_at=row["r_received_at"].astimezone(UTC),
        )
    return Change(
        rev=row["rev"],
        namespace=row["namespace"],
        key=row["key"],
        version=row["version"],
        kind=ChangeKind(row["kind"]),
        value=decode_value(row["value"]),
        writer=row["writer"],
        at=row["at"].astimezone(UTC),
        expires_at=_utc(row["expires_at"]),
        provenance=provenance,
    )


class PostgresStateStore(StateStore):
    """State store in a PostgreSQL schema, shared safely by several registry replicas.

    ``schema`` is the registry's schema (default ``woa_registry``); the state tables carry
    the ``state_`` prefix there, and the notification channel is ``<schema>_state``.
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
        self._channel = f"{schema}_state"
        self._poll_interval = poll_interval
        self._signal = ChangeSignal()
        self._db = db_postgres.SchemaConnections(
            dsn,
            schema=schema,
            channel=self._channel,
            pool_sizes=(min_pool_size, max_pool_size),
            wake=self._signal.fire,
            what="state store",
            lock_prefix="woa_state",
            version_table=STATE_VERSION_TABLE,
            migrations=POSTGRES_STATE_MIGRATIONS,
            database=database,
        )
        self._committer = GroupCommitter(self._commit_group)

    @property
    def schema(self) -> str:
        """The PostgreSQL schema holding the state tables."""
        return self._schema

    async def open(self) -> None:
        """Create the schema if needed, apply migrations, start the pool and the listener."""
        await self._db.open()

    async def close(self) -> None:
        """Finish queued writes, stop listening and close the pool; it can be opened again."""
        await self._committer.drain()
        await self._db.close()

    def _require_pool(self) -> asyncpg.Pool:
        return self._db.pool

    async def _write(self, work: Callable[[_Conn], Awaitable[_T]]) -> _T:
        """Run ``work`` in one transaction holding the writers' lock (the counter row).

        BEGIN and the lock go out as one simple query (one round trip); ``work`` runs once
        the lock is held, so every statement it makes sees the latest committed state. The
        transaction runs to the end even if the caller is cancelled.
        """
        pool = self._require_pool()

        async def run() -> _T:
            async with pool.acquire() as conn:
                await conn.execute(
                    "BEGIN ISOLATION LEVEL READ COMMITTED;"
                    " SELECT value FROM state_rev_counter WHERE id = 1 FOR UPDATE"
                )
                try:
                    result = await work(conn)
                except BaseException:
                    with contextlib.suppress(OSError, asyncpg.PostgresError):
                        await conn.execute("ROLLBACK")
                    raise
                await conn.execute("COMMIT")
            self._signal.fire()
            return result

        return await asyncio.shield(run())

    # -- namespaces ------------------------------------------------------------------

    @staticmethod
    async def _load_namespace(conn: _Conn, name: str, *, lock: bool = False) -> Namespace | None:
        row = await conn.fetchrow(
            f"SELECT {_NS_COLUMNS} FROM state_namespaces WHERE name = $1"
            + (" FOR UPDATE" if lock else ""),
            name,
        )
        return None if row is None else _namespace(row)

    async def put_namespace(
        self, name: str, decide: DecideNamespace, now: datetime
    ) -> tuple[Namespace, bool]:
        """Create or update a namespace atomically; return it and whether it was created."""

        async def work(conn: _Conn) -> tuple[Namespace, bool]:
            current = await self._load_namespace(conn, name)
            wanted = decide(current)
            acl = wanted.acl
            args = (
                name,
                acl.owner,
                encode_dids(acl.writers),
                encode_dids(acl.readers),
                acl.public_read,
                wanted.context_id,
                now,
            )
            if current is None:
                await conn.execute(
                    f"INSERT INTO state_namespaces ({_NS_COLUMNS})"
                    " VALUES ($1, $2, $3, $4, $5, $6, $7, $7, 0, 0)",
                    *args,
                )
            else:
                await conn.execute(
                    "UPDATE state_namespaces SET owner = $2, writers = $3, readers = $4,"
                    " public_read = $5, context_id = $6, updated_at = $7 WHERE name = $1",
                    *args,
                )
            stored = await self._load_namespace(conn, name)
            assert stored is not None
            return stored, current is None

        return await self._write(work)

    async def get_namespace(self, name: str) -> Namespace | None:
        """Return the namespace, or None."""
        async with self._require_pool().acquire() as conn:
            return await self._load_namespace(conn, name)

    async def namespaces_for_context(self, context_id: str) -> list[Namespace]:
        """Return the namespaces tied to an A2A contextId, by name."""
        rows = await self._require_pool().fetch(
            f"SELECT {_NS_COLUMNS} FROM state_namespaces WHERE context_id = $1"
            " ORDER BY name LIMIT $2",
            context_id,
            MAX_PAGE,
        )
        return [_namespace(row) for row in rows]

    async def public_namespaces(self, after: str = "", limit: int = MAX_PAGE) -> list[Namespace]:
        """Return up to ``limit`` namespaces with public read, by name, after ``after``."""
        rows = await self._require_pool().fetch(
            f"SELECT {_NS_COLUMNS} FROM state_namespaces WHERE public_read AND name > $1"
            " ORDER BY name LIMIT $2",
            after,
            min(limit, MAX_PAGE),
        )
        return [_namespace(row) for row in rows]

    # -- documents -------------------------------------------------------------------

    async def read(self, namespace: str, key: str) -> StoredDocument | None:
        """Return the stored row of a key (live, expired or tombstone), or None."""
        row = await self._require_pool().fetchrow(
            f"SELECT {_DOC_COLUMNS} FROM state_documents WHERE namespace = $1 AND key = $2",
            namespace,
            key,
        )
        return None if row is None else _document(row)

    async def list_live(
        self, namespace: str, prefix: str, after: str | None, limit: int, now: datetime
    ) -> list[StoredDocument]:
        """Return up to ``limit`` live documents under ``prefix`` with keys above ``after``."""
        low = prefix if after is None or after < prefix else after
        op = ">=" if after is None or after < prefix else ">"
        rows = await self._require_pool().fetch(
            f"SELECT {_DOC_COLUMNS} FROM state_documents WHERE namespace = $1"
            f" AND key {op} $2 AND key < $3 AND value IS NOT NULL"
            " AND (expires_at IS NULL OR expires_at > $4) ORDER BY key LIMIT $5",
            namespace,
            low,
            prefix_upper_bound(prefix),
            now,
            min(limit, MAX_PAGE),
        )
        return [_document(row) for row in rows]

    async def _write_batch(self, conn: _Conn, batch: Batch) -> None:
        """Write a staged batch in one statement (data-modifying CTEs): one round trip.

        The caller holds the writers' lock; the statement also advances the counter to the
        batch's last revision and notifies every replica.
        """
        docs = list(batch.documents.values())
        await conn.execute(
            "WITH req AS ("
            " INSERT INTO state_requests (id, method, target_uri, headers, body, signer,"
            " received_at) SELECT * FROM unnest($1::bigint[], $2::text[], $3::text[],"
            " $4::text[], $5::bytea[], $6::text[], $7::timestamptz[])),"
            " counter AS (UPDATE state_rev_counter SET value = $8 WHERE id = 1),"
            " docs AS ("
            f" INSERT INTO state_documents ({_DOC_COLUMNS})"
            " SELECT * FROM unnest($9::text[], $10::text[], $11::text[], $12::bigint[],"
            " $13::text[], $14::timestamptz[], $15::timestamptz[], $16::bigint[])"
            " ON CONFLICT (namespace, key) DO UPDATE SET value = excluded.value,"
            " version = excluded.version, writer = excluded.writer,"
            " updated_at = excluded.updated_at, expires_at = excluded.expires_at,"
            " rev = excluded.rev),"
            " changes AS ("
            " INSERT INTO state_changes (rev, namespace, key, version, kind, value, writer, at,"
            " expires_at, request_id) SELECT * FROM unnest($17::bigint[], $18::text[],"
            " $19::text[], $20::bigint[], $21::text[], $22::text[], $23::text[],"
            " $24::timestamptz[], $25::timestamptz[], $26::bigint[])),"
            " usage AS (UPDATE state_namespaces n SET bytes_used = u.b, document_count = u.c"
            " FROM unnest($27::text[], $28::bigint[], $29::bigint[]) AS u(name, b, c)"
            " WHERE n.name = u.name)"
            " SELECT pg_notify($30, $31)",
            *columns(batch.requests, 7),
            batch.last_rev,
            *columns(docs, 8),
            *columns(batch.changes, 10),
            *columns(list(batch.usage.values()), 3),
            self._channel,
            str(batch.last_rev),
        )

    @staticmethod
    async def _last_rev_locked(conn: _Conn) -> int:
        """The last committed revision (the caller holds the writers' lock)."""
        return int(await conn.fetchval("SELECT value FROM state_rev_counter WHERE id = 1"))

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

        One transaction per group (see ``_group``): BEGIN with the writers' lock, one read
        of the namespaces with the named documents and the last revision, one write
        statement, COMMIT.
        """
        return await self._committer.submit(namespace, keys, decide, writer, at, provenance)

    async def _commit_group(self, group: list[Pending]) -> list[Outcome]:
        return await self._write(functools.partial(self._decide_and_write, group=group))

    async def _decide_and_write(self, conn: _Conn, group: list[Pending]) -> list[Outcome]:
        names = sorted({item.namespace for item in group})
        pairs = sorted({(item.namespace, key) for item in group for key in item.keys})
        rows = await conn.fetch(
            f"SELECT {', '.join('n.' + c.strip() for c in _NS_COLUMNS.split(','))},"
            " (SELECT value FROM state_rev_counter WHERE id = 1) AS last_rev,"
            " d.namespace AS d_namespace, d.key AS d_key, d.value AS d_value,"
            " d.version AS d_version, d.writer AS d_writer, d.updated_at AS d_updated_at,"
            " d.expires_at AS d_expires_at, d.rev AS d_rev"
            " FROM state_namespaces n LEFT JOIN state_documents d ON d.namespace = n.name"
            " AND (d.namespace, d.key) IN (SELECT * FROM unnest($2::text[], $3::text[]))"
            " WHERE n.name = any($1::text[])",
            names,
            [ns for ns, _ in pairs],
            [key for _, key in pairs],
        )
        last_rev = int(rows[0]["last_rev"]) if rows else await self._last_rev_locked(conn)
        batch = Batch(last_rev)
        for row in rows:
            batch.namespaces.setdefault(row["name"], _namespace(row))
            if row["d_key"] is not None:
                batch.view[(row["d_namespace"], row["d_key"])] = _document_prefixed(row)
        outcomes = decide_group(batch, group)
        if batch.changes:
            await self._write_batch(conn, batch)
        return outcomes

    async def expire(self, now: datetime, limit: int = 500) -> list[Change]:
        """Turn up to ``limit`` documents whose TTL ended by ``now`` into tombstones."""
        pool = self._require_pool()
        due = await pool.fetchval(
            "SELECT 1 FROM state_documents WHERE expires_at <= $1 AND value IS NOT NULL LIMIT 1",
            now,
        )
        if due is None:
            return []

        async def work(conn: _Conn) -> list[Change]:
            batch = Batch(await self._last_rev_locked(conn))
            rows = await conn.fetch(
                f"SELECT {_DOC_COLUMNS} FROM state_documents WHERE expires_at <= $1"
                " AND value IS NOT NULL ORDER BY namespace, key LIMIT $2",
                now,
                limit,
            )
            by_namespace: dict[str, dict[str, StoredDocument | None]] = {}
            for row in rows:
                doc = _document(row)
                by_namespace.setdefault(doc.namespace, {})[doc.key] = doc
            changes: list[Change] = []
            for name, current in sorted(by_namespace.items()):
                ns = await self._load_namespace(conn, name)
                assert ns is not None
                mutations = [Mutation(key, ChangeKind.EXPIRE, None) for key in sorted(current)]
                changes += batch.stage(ns, current, mutations, None, now, None)
            if changes:
                await self._write_batch(conn, batch)
            return changes

        return await self._write(work)

    # -- the change log --------------------------------------------------------------

    async def history(self, namespace: str, key: str, after_rev: int, limit: int) -> list[Change]:
        """Return a key's changes above ``after_rev`` in order, with their provenance."""
        rows = await self._require_pool().fetch(
            f"SELECT {_CHANGE_COLUMNS}, {_REQUEST_COLUMNS} FROM state_changes c"
            " LEFT JOIN state_requests r ON r.id = c.request_id"
            " WHERE c.namespace = $1 AND c.key = $2 AND c.rev > $3 ORDER BY c.rev LIMIT $4",
            namespace,
            key,
            after_rev,
            min(limit, MAX_PAGE),
        )
        return [_change(row, with_request=True) for row in rows]

    async def changes_since(
        self, namespace: str, prefix: str, after_rev: int, limit: int
    ) -> list[Change]:
        """Return the namespace's changes under ``prefix`` above ``after_rev`` in order."""
        rows = await self._require_pool().fetch(
            f"SELECT {_CHANGE_COLUMNS} FROM state_changes c WHERE c.namespace = $1"
            " AND c.rev > $2 AND c.key >= $3 AND c.key < $4 ORDER BY c.rev LIMIT $5",
            namespace,
            after_rev,
            prefix,
            prefix_upper_bound(prefix),
            min(limit, MAX_PAGE),
        )
        return [_change(row) for row in rows]

    async def last_rev(self) -> int:
        """Return the highest committed revision."""
        value = await self._require_pool().fetchval(
            "SELECT value FROM state_rev_counter WHERE id = 1"
        )
        return int(value)

    async def wait_for_change(self, after_rev: int, timeout: float) -> bool:
        """Wait for a revision above ``after_rev``: woken by NOTIFY from any replica."""
        await self._db.ensure_listener()
        return await wait_for_seq(
            self.last_rev, self._signal, after_rev, timeout, self._poll_interval
        )
