"""Schema steps of the state tables (``state_*``), versioned apart from the agent tables.

The steps follow the shared :mod:`woa_registry.db.migrations` rules (a released step is
never edited) but record themselves in their own ``state_schema_version`` table, so the
discovery store and the state store migrate independently in one database.
``state_changes`` and ``state_requests`` are append-only: triggers refuse UPDATE and DELETE.
"""

from __future__ import annotations

from ...db.migrations import Migration

__all__ = [
    "POSTGRES_STATE_MIGRATIONS",
    "SQLITE_STATE_MIGRATIONS",
    "STATE_VERSION_TABLE",
]

STATE_VERSION_TABLE = "state_schema_version"
"""The table recording the applied state steps (both backends)."""


def _sqlite_append_only(table: str) -> tuple[str, ...]:
    return tuple(
        f"CREATE TRIGGER {table}_no_{op.lower()} BEFORE {op} ON {table}"
        f" BEGIN SELECT RAISE(ABORT, '{table} is append-only'); END"
        for op in ("UPDATE", "DELETE")
    )


SQLITE_STATE_MIGRATIONS: tuple[Migration, ...] = (
    Migration(
        1,
        "state namespaces, documents with tombstones, append-only requests and changes",
        (
            """CREATE TABLE state_namespaces (
                name TEXT PRIMARY KEY,
                owner TEXT NOT NULL,
                writers TEXT NOT NULL,
                readers TEXT NOT NULL,
                public_read INTEGER NOT NULL,
                context_id TEXT,
                created_at INTEGER NOT NULL,
                updated_at INTEGER NOT NULL,
                bytes_used INTEGER NOT NULL DEFAULT 0,
                document_count INTEGER NOT NULL DEFAULT 0
            ) WITHOUT ROWID""",
            "CREATE INDEX state_namespaces_by_context ON state_namespaces (context_id)"
            " WHERE context_id IS NOT NULL",
            """CREATE TABLE state_documents (
                namespace TEXT NOT NULL REFERENCES state_namespaces (name),
                key TEXT NOT NULL,
                value TEXT,
                version INTEGER NOT NULL,
                writer TEXT,
                updated_at INTEGER NOT NULL,
                expires_at INTEGER,
                rev INTEGER NOT NULL,
                PRIMARY KEY (namespace, key)
            ) WITHOUT ROWID""",
            "CREATE INDEX state_documents_expiring ON state_documents (expires_at)"
            " WHERE expires_at IS NOT NULL AND value IS NOT NULL",
            """CREATE TABLE state_requests (
                id INTEGER PRIMARY KEY,
                method TEXT NOT NULL,
                target_uri TEXT NOT NULL,
                headers TEXT NOT NULL,
                body BLOB NOT NULL,
                signer TEXT NOT NULL,
                received_at INTEGER NOT NULL
            )""",
            """CREATE TABLE state_changes (
                rev INTEGER PRIMARY KEY,
                namespace TEXT NOT NULL,
                key TEXT NOT NULL,
                version INTEGER NOT NULL,
                kind TEXT NOT NULL,
                value TEXT,
                writer TEXT,
                at INTEGER NOT NULL,
                expires_at INTEGER,
                request_id INTEGER REFERENCES state_requests (id)
            )""",
            "CREATE INDEX state_changes_by_key ON state_changes (namespace, key, rev)",
            "CREATE INDEX state_changes_by_namespace ON state_changes (namespace, rev)",
            """CREATE TABLE state_rev_counter (
                id INTEGER PRIMARY KEY CHECK (id = 1),
                value INTEGER NOT NULL
            )""",
            "INSERT INTO state_rev_counter (id, value) VALUES (1, 0)",
            *_sqlite_append_only("state_changes"),
            *_sqlite_append_only("state_requests"),
        ),
    ),
)

POSTGRES_STATE_MIGRATIONS: tuple[Migration, ...] = (
    Migration(
        1,
        "state namespaces, documents with tombstones, append-only requests and changes",
        (
            """CREATE TABLE state_namespaces (
                name text COLLATE "C" PRIMARY KEY,
                owner text NOT NULL,
                writers text NOT NULL,
                readers text NOT NULL,
                public_read boolean NOT NULL,
                context_id text,
                created_at timestamptz NOT NULL,
                updated_at timestamptz NOT NULL,
                bytes_used bigint NOT NULL DEFAULT 0,
                document_count bigint NOT NULL DEFAULT 0
            )""",
            "CREATE INDEX state_namespaces_by_context ON state_namespaces (context_id)"
            " WHERE context_id IS NOT NULL",
            """CREATE TABLE state_documents (
                namespace text COLLATE "C" NOT NULL REFERENCES state_namespaces (name),
                key text COLLATE "C" NOT NULL,
                value text,
                version bigint NOT NULL,
                writer text,
                updated_at timestamptz NOT NULL,
                expires_at timestamptz,
                rev bigint NOT NULL,
                PRIMARY KEY (namespace, key)
            )""",
            "CREATE INDEX state_documents_expiring ON state_documents (expires_at)"
            " WHERE expires_at IS NOT NULL AND value IS NOT NULL",
            """CREATE TABLE state_requests (
                id bigserial PRIMARY KEY,
                method text NOT NULL,
                target_uri text NOT NULL,
                headers text NOT NULL,
                body bytea NOT NULL,
                signer text NOT NULL,
                received_at timestamptz NOT NULL
            )""",
            """CREATE TABLE state_changes (
                rev bigint PRIMARY KEY,
                namespace text COLLATE "C" NOT NULL,
                key text COLLATE "C" NOT NULL,
                version bigint NOT NULL,
                kind text NOT NULL,
                value text,
                writer text,
                at timestamptz NOT NULL,
                expires_at timestamptz,
                request_id bigint REFERENCES state_requests (id)
            )""",
            "CREATE INDEX state_changes_by_key ON state_changes (namespace, key, rev)",
            "CREATE INDEX state_changes_by_namespace ON state_changes (namespace, rev)",
            """CREATE TABLE state_rev_counter (
                id integer PRIMARY KEY CHECK (id = 1),
                value bigint NOT NULL
            )""",
            "INSERT INTO state_rev_counter (id, value) VALUES (1, 0)",
            """CREATE FUNCTION state_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
                BEGIN RAISE EXCEPTION '% is append-only', TG_TABLE_NAME; END $$""",
            "CREATE TRIGGER state_changes_append_only BEFORE UPDATE OR DELETE ON state_changes"
            " FOR EACH ROW EXECUTE FUNCTION state_append_only()",
            "CREATE TRIGGER state_requests_append_only BEFORE UPDATE OR DELETE ON state_requests"
            " FOR EACH ROW EXECUTE FUNCTION state_append_only()",
        ),
    ),
)
