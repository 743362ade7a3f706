"""Versioned schema migrations of both agent-store backends (the ``agents`` tables).

Each backend has an ordered list of numbered steps, recorded in the ``schema_version``
table; the rules and runners are shared with the state store (:mod:`woa_registry.db`).
``open()`` applies, in one transaction holding the database's write lock (SQLite ``BEGIN
IMMEDIATE``, PostgreSQL an advisory lock), every step above the highest recorded version,
so opening twice, or two replicas opening at once, applies each step exactly once. A
database whose version is newer than this code knows is refused, not altered.

A step, once released, is never edited: a schema change is a new step at the end. Both
lists have the same length, so a version number names the same release on either backend
(a step may be empty on one of them).

SQLite step 2 adds the DID-ordered term index beside FTS5 (:mod:`._sqlite_terms`) and fills
it for the agents already stored, from the FTS5 index's own terms. Step 3 indexes the
events' times, for the change feed's retention (REG-054).
"""

from __future__ import annotations

from ..db.migrations import Migration, SchemaTooNewError, check_sequence, pending

__all__ = [
    "POSTGRES_MIGRATIONS",
    "SCHEMA_VERSION_TABLE",
    "SQLITE_MIGRATIONS",
    "Migration",
    "SchemaTooNewError",
    "check_sequence",
    "pending",
]

SCHEMA_VERSION_TABLE = "schema_version"
"""The table recording the applied steps (both backends)."""

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
    Migration(
        2,
        "DID-ordered term index beside FTS5: agent_text, agent_terms and their triggers",
        (
            # Each agent's distinct FTS5 terms (a JSON array), written by the store.
            """CREATE TABLE agent_text (
                did TEXT PRIMARY KEY REFERENCES agents (did) ON DELETE CASCADE,
                terms TEXT NOT NULL
            ) WITHOUT ROWID""",
            # The postings: for each term its agents, in DID order.
            """CREATE TABLE agent_terms (
                term TEXT NOT NULL,
                did TEXT NOT NULL,
                PRIMARY KEY (term, did)
            ) WITHOUT ROWID""",
            # Existing agents: their terms, read from the FTS5 index itself.
            "CREATE VIRTUAL TABLE temp.agents_fts_instances"
            " USING fts5vocab (main, agents_fts, 'instance')",
            """INSERT INTO agent_terms (term, did)
                SELECT DISTINCT v.term, a.did
                FROM temp.agents_fts_instances v JOIN agents a ON a.id = v.doc""",
            "DROP TABLE temp.agents_fts_instances",
            """INSERT INTO agent_text (did, terms)
                SELECT did, json_group_array(term)
                FROM (SELECT did, term FROM agent_terms ORDER BY did, term) GROUP BY did""",
            """INSERT INTO agent_text (did, terms)
                SELECT did, '[]' FROM agents WHERE did NOT IN (SELECT did FROM agent_text)""",
            # From now on the postings follow agent_text.
            """CREATE TRIGGER agent_text_inserted AFTER INSERT ON agent_text BEGIN
                INSERT INTO agent_terms (term, did) SELECT value, new.did FROM json_each(new.terms);
            END""",
            """CREATE TRIGGER agent_text_updated AFTER UPDATE OF terms ON agent_text BEGIN
                DELETE FROM agent_terms WHERE did = old.did AND term IN (
                    SELECT value FROM json_each(old.terms)
                    EXCEPT SELECT value FROM json_each(new.terms));
                INSERT INTO agent_terms (term, did)
                    SELECT value, new.did FROM json_each(new.terms)
                    WHERE value NOT IN (SELECT value FROM json_each(old.terms));
            END""",
            """CREATE TRIGGER agent_text_deleted AFTER DELETE ON agent_text BEGIN
                DELETE FROM agent_terms WHERE did = old.did
                    AND term IN (SELECT value FROM json_each(old.terms));
            END""",
        ),
    ),
    Migration(
        3,
        "index on events.at: feed pruning finds its cutoff without a scan (REG-054)",
        ("CREATE INDEX events_by_at ON events (at)",),
    ),
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
    # Nothing to change: PostgreSQL's GIN plan already walks agents in DID order. The step
    # keeps both backends' version numbers equal (SQLite step 2 is its term index).
    Migration(2, "no change (SQLite's step 2 adds its DID-ordered term index)", ()),
    Migration(
        3,
        "index on events.at: feed pruning finds its cutoff without a scan (REG-054)",
        ("CREATE INDEX events_by_at ON events (at)",),
    ),
)
