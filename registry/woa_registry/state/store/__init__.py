"""State storage: the :class:`StateStore` interface, its backends and :func:`open_state_store`.

``open_state_store`` reads the registry's own ``database_url``, so the state tables
(``state_*``) live in the same database as the agent tables:

* ``sqlite:///relative/path.db`` or ``sqlite:////absolute/path.db``: :class:`SqliteStateStore`;
* ``postgresql://...`` (or ``postgres://``): ``PostgresStateStore`` (the ``postgres`` extra),
  in the schema named by the ``schema=`` query parameter (default ``woa_registry``).
"""

from __future__ import annotations

import typing

from ...db.urls import split_schema as _split_schema
from ...storage.base import StoreInputError
from .base import MAX_PAGE, Decide, DecideNamespace, Mutation, StateStore, StoreUsage, usage_after
from .sqlite import SqliteStateStore

if typing.TYPE_CHECKING:
    from ...db.postgres import PostgresDatabase

__all__ = [
    "MAX_PAGE",
    "Decide",
    "DecideNamespace",
    "Mutation",
    "SqliteStateStore",
    "StateStore",
    "StoreInputError",
    "StoreUsage",
    "open_state_store",
    "usage_after",
]


def open_state_store(url: str, *, database: PostgresDatabase | None = None) -> StateStore:
    """Return the (not yet opened) state store for the registry's ``database_url``."""
    scheme = url.split(":", 1)[0].lower() if ":" in url else ""
    if scheme == "sqlite":
        rest = url[len("sqlite://") :]
        path = rest[1:] if rest.startswith("/") else ""
        if not path or path == ":memory:" or "?" in path or "#" in path:
            raise StoreInputError(
                f"SQLite URL {url!r} must name a database file, like sqlite:///registry.db"
            )
        return SqliteStateStore(path)
    if scheme in ("postgresql", "postgres"):
        try:
            from .postgres import PostgresStateStore
        except ImportError as exc:
            raise ImportError(
                "shared state on PostgreSQL needs asyncpg: pip install 'web-of-agents[postgres]'"
            ) from exc
        dsn, schema = _split_schema(url)
        return PostgresStateStore(dsn, schema=schema or "woa_registry", database=database)
    raise StoreInputError(
        f"unsupported storage URL scheme {scheme or url!r}: use sqlite:///path.db or "
        "postgresql://user@host/db"
    )
