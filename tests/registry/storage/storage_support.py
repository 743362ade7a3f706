"""Helpers shared by the storage tests and the writer subprocess (no fixtures here)."""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Awaitable, Callable, Iterable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from woa_protocol import SigningKey
from woa_registry.storage import AgentRecord, AgentStore, SkillEntry, SqliteAgentStore

POSTGRES_DSN = os.environ.get("WOA_TEST_POSTGRES_DSN", "postgresql://postgres@127.0.0.1:5432/test")

StoreFactory = Callable[..., Awaitable[AgentStore]]
"""Opens another store on the test's database (``make_store`` fixture)."""


def new_store(backend: str, target: str, **options: Any) -> AgentStore:
    """Return an unopened store of ``backend`` on ``target``."""
    if backend == "sqlite":
        return SqliteAgentStore(target, **options)
    from woa_registry.storage.postgres import PostgresAgentStore

    return PostgresAgentStore(POSTGRES_DSN, schema=target, **options)


def skill(
    skill_id: str,
    *,
    name: str | None = None,
    description: str = "",
    tags: tuple[str, ...] = (),
    family: str | None = None,
    input_modes: tuple[str, ...] = ("application/json",),
    output_modes: tuple[str, ...] = ("application/json",),
    input_schema: dict[str, Any] | None = None,
) -> SkillEntry:
    """A skill entry with handy defaults."""
    return SkillEntry(
        skill_id=skill_id,
        name=name if name is not None else skill_id.replace("-", " ").title(),
        description=description,
        tags=tags,
        family=family,
        input_modes=input_modes,
        output_modes=output_modes,
        input_schema=input_schema,
        output_schema={"type": "object"},
    )


def record(
    *,
    did: str | None = None,
    name: str = "Test agent",
    description: str = "An agent used by the storage tests",
    skills: tuple[SkillEntry, ...] = (),
    lease: timedelta = timedelta(minutes=5),
    now: datetime | None = None,
    **fields: Any,
) -> AgentRecord:
    """A realistic agent record: a fresh did:key, a card naming it, a lease from ``now``."""
    at = now or datetime.now(UTC)
    did = did if did is not None else SigningKey.generate().did
    card = {
        "name": name,
        "description": description,
        "version": "1.0.0",
        "skills": [
            {"id": s.skill_id, "name": s.name, "tags": list(s.tags)}
            for s in skills
            if isinstance(s, SkillEntry)
        ],
        "extensions": {"did": did},
    }
    values: dict[str, Any] = {
        "did": did,
        "card": card,
        "name": name,
        "description": description,
        "url": f"http://127.0.0.1:9/{did[-8:]}",
        "skills": skills,
        "verified": True,
        "registered_at": at,
        "updated_at": at,
        "lease_expires_at": at + lease,
        "source_url": None,
    }
    values.update(fields)
    return AgentRecord(**values)


async def analysed_sqlite(path: Path, records: Iterable[AgentRecord]) -> sqlite3.Connection:
    """Store ``records`` in a new SQLite store at ``path``; return a connection to the file
    after ``ANALYZE``, so query plans are checked with statistics too."""
    store = SqliteAgentStore(path)
    await store.open()
    for rec in records:
        await store.put(rec)
    await store.close()
    conn = sqlite3.connect(path)
    conn.execute("ANALYZE")
    return conn
