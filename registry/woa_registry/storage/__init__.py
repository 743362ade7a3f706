"""Registry storage: the :class:`AgentStore` interface, its backends and :func:`open_store`.

``open_store`` picks the backend from a URL:

* ``sqlite:///relative/path.db`` or ``sqlite:////absolute/path.db``: :class:`SqliteAgentStore`
  (in-memory databases are refused: the registry must be durable);
* ``postgresql://user@host:port/db`` (or ``postgres://``): ``PostgresAgentStore``, which
  needs the ``postgres`` extra. An optional ``schema=<name>`` query parameter selects the
  schema (default ``woa_registry``); other parameters go to asyncpg.

The store it returns is not open yet: ``await store.open()`` connects and migrates.
"""

from __future__ import annotations

import typing

from ..db.urls import split_schema as _split_schema
from ..db.urls import sqlite_path as _sqlite_path
from .base import (
    MAX_EVENTS_LIMIT,
    MAX_SEARCH_LIMIT,
    AgentRecord,
    AgentStore,
    ChangeEvent,
    EventKind,
    SearchPage,
    SearchQuery,
    SkillEntry,
    StoreInputError,
)
from .migrations import SchemaTooNewError
from .sqlite import SqliteAgentStore

if typing.TYPE_CHECKING:
    from ..db.postgres import PostgresDatabase

__all__ = [
    "MAX_EVENTS_LIMIT",
    "MAX_SEARCH_LIMIT",
    "AgentRecord",
    "AgentStore",
    "ChangeEvent",
    "EventKind",
    "SchemaTooNewError",
    "SearchPage",
    "SearchQuery",
    "SkillEntry",
    "SqliteAgentStore",
    "StoreInputError",
    "open_store",
]

POSTGRES_EXTRA_HINT = "pip install 'web-of-agents[postgres]'"


def open_store(url: str, *, database: PostgresDatabase | None = None) -> AgentStore:
    """Return the (not yet opened) store for ``url``; raise StoreInputError if unusable."""
    if not isinstance(url, str):
        raise StoreInputError("storage URL must be a string")
    scheme = url.split(":", 1)[0].lower() if ":" in url else ""
    if scheme == "sqlite":
        return SqliteAgentStore(_sqlite_path(url))
    if scheme in ("postgresql", "postgres"):
        try:
            from .postgres import PostgresAgentStore
        except ImportError as exc:
            raise ImportError(
                f"storage URL {url.split('@')[-1]!r} needs the PostgreSQL backend: "
                f"{POSTGRES_EXTRA_HINT}"
            ) from exc
        dsn, schema = _split_schema(url)
        return PostgresAgentStore(dsn, schema=schema or "woa_registry", database=database)
    raise StoreInputError(
        f"unsupported storage URL scheme {scheme or url!r}: use sqlite:///path.db or "
        "postgresql://user@host/db"
    )
