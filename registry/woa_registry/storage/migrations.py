"""Versioned schema migrations of both storage backends.

Each backend has an ordered list of numbered steps. ``open()`` applies, in one transaction
holding the database's write lock (SQLite ``BEGIN IMMEDIATE``, PostgreSQL an advisory lock),
every step above the highest version recorded in the ``schema_version`` table, and records
it there; so opening twice, or two replicas opening at once, applies each step exactly once.
A database whose version is newer than this code knows is refused, not altered.

A step, once released, is never edited: a schema change is a new step at the end.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

__all__ = [
    "POSTGRES_MIGRATIONS",
    "POSTGRES_SCHEMA_VERSION_TABLE",
    "SQLITE_MIGRATIONS",
    "SQLITE_SCHEMA_VERSION_TABLE",
    "Migration",
    "SchemaTooNewError",
    "check_sequence",
    "pending",
]


@dataclass(frozen=True)
class Migration:
    """One numbered schema step: a description and the statements that make it."""

    version: int
    description: str
    statements: tuple[str, ...]


class SchemaTooNewError(RuntimeError):
    """The database was migrated by a newer version of this software."""


def check_sequence(migrations: Sequence[Migration]) -> None:
    """Raise ValueError unless the versions are exactly 1, 2, ..., n."""
    versions = [m.version for m in migrations]
    if versions != list(range(1, len(versions) + 1)):
        raise ValueError(f"migration versions must be 1..n in order, got {versions}")


def pending(migrations: Sequence[Migration], current: int) -> list[Migration]:
    """Return the steps above ``current``; refuse a database newer than the code."""
    check_sequence(migrations)
    if current > len(migrations):
        raise SchemaTooNewError(
            f"the database schema is at version {current}, but this registry only knows "
            f"versions up to {len(migrations)}: upgrade web-of-agents"
        )
    return list(migrations[current:])


SQLITE_SCHEMA_VERSION_TABLE = (
    "CREATE TABLE IF NOT EXISTS schema_version ("
    " version INTEGER PRIMARY KEY, description TEXT NOT NULL, applied_at TEXT NOT NULL)"
)

SQLITE_MIGRATIONS: tuple[Migration, ...] = (
    Migration(
        1,
        "agents, skill index tables, FTS5 text index, change events, sequence counter",
        (
            """CREATE TABLE agents (
                id INTEGER PRIMARY KEY,
                did TEXT NOT NULL UNIQUE,
                name TEXT NOT NULL,
                description TEXT NOT NULL,
                url TEXT NOT NULL,
                source_url TEXT,
                verified INTEGER NOT NULL,
                registered_at INTEGER NOT NULL,
                updated_at INTEGER NOT NULL,
                lease_expires_at INTEGER NOT NULL,
                card TEXT NOT NULL,
                skills TEXT NOT NULL
            )""",
            "CREATE INDEX agents_by_lease ON agents (lease_expires_at)",
            """CREATE TABLE skills (
                did TEXT NOT NULL REFERENCES agents (did) ON DELETE CASCADE,
                pos INTEGER NOT NULL,
                skill_id TEXT NOT NULL,
                family TEXT,
                has_input_schema INTEGER NOT NULL,
                PRIMARY KEY (did, pos)
            ) WITHOUT ROWID""",
            "CREATE INDEX skills_by_skill_id ON skills (skill_id, did)",
            "CREATE INDEX skills_by_family ON skills (family, did)",
            "CREATE INDEX skills_with_input_schema ON skills (did) WHERE has_input_schema = 1",
            """CREATE TABLE skill_tags (
                did TEXT NOT NULL,
                pos INTEGER NOT NULL,
                tag TEXT NOT NULL,
                PRIMARY KEY (did, pos, tag),
                FOREIGN KEY (did, pos) REFERENCES skills (did, pos) ON DELETE CASCADE
            ) WITHOUT ROWID""",
            "CREATE INDEX skill_tags_by_tag ON skill_tags (tag, did)",
            """CREATE TABLE skill_modes (
                did TEXT NOT NULL,
                pos INTEGER NOT NULL,
                direction TEXT NOT NULL CHECK (direction IN ('in', 'out')),
                mode TEXT NOT NULL,
                PRIMARY KEY (did, pos, direction, mode),
                FOREIGN KEY (did, pos) REFERENCES skills (did, pos) ON DELETE CASCADE
            ) WITHOUT ROWID""",
            "CREATE INDEX skill_modes_by_mode ON skill_modes (direction, mode, did)",
            """CREATE VIRTUAL TABLE agents_fts USING fts5 (
                name, description, skills,
                tokenize = 'porter unicode61 remove_diacritics 0'
            )""",
            """CREATE TABLE events (
                seq INTEGER PRIMARY KEY,
                kind TEXT NOT NULL,
                did TEXT NOT NULL,
                at INTEGER NOT NULL,
                card TEXT
            )""",
            """CREATE TABLE seq_counter (
                id INTEGER PRIMARY KEY CHECK (id = 1),
                value INTEGER NOT NULL
            )""",
            "INSERT INTO seq_counter (id, value) VALUES (1, 0)",
        ),
    ),
)

POSTGRES_SCHEMA_VERSION_TABLE = (
    "CREATE TABLE IF NOT EXISTS schema_version ("
    " version integer PRIMARY KEY, description text NOT NULL,"
    " applied_at timestamptz NOT NULL DEFAULT now())"
)

POSTGRES_MIGRATIONS: tuple[Migration, ...] = (
    Migration(
        1,
        "agents with tsvector + GIN, skill index tables, change events, sequence counter",
        (
            """CREATE TABLE agents (
                did text COLLATE "C" PRIMARY KEY,
                name text NOT NULL,
                description text NOT NULL,
                url text NOT NULL,
                source_url text,
                verified boolean NOT NULL,
                registered_at timestamptz NOT NULL,
                updated_at timestamptz NOT NULL,
                lease_expires_at timestamptz NOT NULL,
                card text NOT NULL,
                skills text NOT NULL,
                tsv tsvector NOT NULL
            )""",
            "CREATE INDEX agents_by_lease ON agents (lease_expires_at)",
            "CREATE INDEX agents_text ON agents USING gin (tsv)",
            """CREATE TABLE skills (
                did text COLLATE "C" NOT NULL REFERENCES agents (did) ON DELETE CASCADE,
                pos integer NOT NULL,
                skill_id text NOT NULL,
                family text,
                has_input_schema boolean NOT NULL,
                PRIMARY KEY (did, pos)
            )""",
            "CREATE INDEX skills_by_skill_id ON skills (skill_id, did)",
            "CREATE INDEX skills_by_family ON skills (family, did)",
            "CREATE INDEX skills_with_input_schema ON skills (did) WHERE has_input_schema",
            """CREATE TABLE skill_tags (
                did text COLLATE "C" NOT NULL,
                pos integer NOT NULL,
                tag text NOT NULL,
                PRIMARY KEY (did, pos, tag),
                FOREIGN KEY (did, pos) REFERENCES skills (did, pos) ON DELETE CASCADE
            )""",
            "CREATE INDEX skill_tags_by_tag ON skill_tags (tag, did)",
            """CREATE TABLE skill_modes (
                did text COLLATE "C" NOT NULL,
                pos integer NOT NULL,
                direction text NOT NULL CHECK (direction IN ('in', 'out')),
                mode text NOT NULL,
                PRIMARY KEY (did, pos, direction, mode),
                FOREIGN KEY (did, pos) REFERENCES skills (did, pos) ON DELETE CASCADE
            )""",
            "CREATE INDEX skill_modes_by_mode ON skill_modes (direction, mode, did)",
            """CREATE TABLE events (
                seq bigint PRIMARY KEY,
                kind text NOT NULL,
                did text COLLATE "C" NOT NULL,
                at timestamptz NOT NULL,
                card text
            )""",
            """CREATE TABLE seq_counter (
                id integer PRIMARY KEY CHECK (id = 1),
                value bigint NOT NULL
            )""",
            "INSERT INTO seq_counter (id, value) VALUES (1, 0)",
        ),
    ),
)
