"""Numbered schema steps and the rules every store's migration history follows.

Each store keeps an ordered list of :class:`Migration` steps and records the applied ones
in its own version table (``version``, ``description``, ``applied_at``). Opening a store
applies, in one transaction holding the database's write lock, every step above the
highest recorded version; a database newer than the code is refused, not altered. A
released step is never edited: a schema change is a new step at the end.

The runners live next to their drivers: :func:`woa_registry.db.sqlite.migrate` and
:func:`woa_registry.db.postgres.migrate`.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

__all__ = [
    "Migration",
    "SchemaTooNewError",
    "check_sequence",
    "pending",
    "postgres_version_table",
    "sqlite_version_table",
]

_TABLE_NAME = re.compile(r"[a-z_][a-z0-9_]*")


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


def _checked(table: str) -> str:
    if not _TABLE_NAME.fullmatch(table):
        raise ValueError(f"version table name {table!r} is not a plain lower-case identifier")
    return table


def sqlite_version_table(table: str) -> str:
    """Return the SQLite ``CREATE TABLE IF NOT EXISTS`` statement of a version table."""
    return (
        f"CREATE TABLE IF NOT EXISTS {_checked(table)} ("
        " version INTEGER PRIMARY KEY, description TEXT NOT NULL, applied_at TEXT NOT NULL)"
    )


def postgres_version_table(table: str) -> str:
    """Return the PostgreSQL ``CREATE TABLE IF NOT EXISTS`` statement of a version table."""
    return (
        f"CREATE TABLE IF NOT EXISTS {_checked(table)} ("
        " version integer PRIMARY KEY, description text NOT NULL,"
        " applied_at timestamptz NOT NULL DEFAULT now())"
    )
