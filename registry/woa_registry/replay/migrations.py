"""The replay store's schema steps (SQLite and PostgreSQL), recorded in ``replay_version``.

One table, ``replay_nonces``: the 32-byte key of each claimed ``(keyid, nonce)`` (see
:func:`woa_protocol.replay_key`) and the epoch second its signature's window ends, indexed
for pruning.
"""

from __future__ import annotations

from ..db.migrations import Migration

__all__ = ["POSTGRES_REPLAY_MIGRATIONS", "REPLAY_VERSION_TABLE", "SQLITE_REPLAY_MIGRATIONS"]

REPLAY_VERSION_TABLE = "replay_version"

SQLITE_REPLAY_MIGRATIONS: tuple[Migration, ...] = (
    Migration(
        1,
        "claimed nonces",
        (
            "CREATE TABLE replay_nonces (key BLOB PRIMARY KEY, until REAL NOT NULL) WITHOUT ROWID",
            "CREATE INDEX replay_nonces_until ON replay_nonces (until)",
        ),
    ),
)

POSTGRES_REPLAY_MIGRATIONS: tuple[Migration, ...] = (
    Migration(
        1,
        "claimed nonces",
        (
            "CREATE TABLE replay_nonces (key bytea PRIMARY KEY, until double precision NOT NULL)",
            "CREATE INDEX replay_nonces_until ON replay_nonces (until)",
        ),
    ),
)
