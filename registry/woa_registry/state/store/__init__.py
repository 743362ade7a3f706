"""State storage: the :class:`StateStore` interface, its backends and :func:`open_state_store`.

``open_state_store`` reads the registry's own ``database_url``, so the state tables
(``state_*``) live in the same database as the agent tables:

* ``sqlite:///relative/path.db`` or ``sqlite:////absolute/path.db``: :class:`SqliteStateStore`;
* ``postgresql://...`` (or ``postgres://``): ``PostgresStateStore`` (the ``postgres`` extra),
  in the schema named by the ``schema=`` query parameter (default ``woa_registry``).
"""

from __future__ import annotations

from urllib import parse as _parse

from ...storage.base import StoreInputError
from .base import MAX_PAGE, Decide, DecideNamespace, Mutation, StateStore, StoreUsage, usage_after
from .sqlite import SqliteStateStore

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


def open_state_store(url: str) -> StateStore:
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
        parts = _parse.urlsplit(url)
        params = _parse.parse_qsl(parts.query, keep_blank_values=True)
        schemas = [value for key, value in params if key == "schema"]
        if len(schemas) > 1:
            raise StoreInputError("storage URL gives the schema parameter more than once")
        rest_query = _parse.urlencode([(key, value) for key, value in params if key != "schema"])
        dsn = _parse.urlunsplit(parts._replace(query=rest_query))
        return PostgresStateStore(dsn, schema=schemas[0]) if schemas else PostgresStateStore(dsn)
    raise StoreInputError(
        f"unsupported storage URL scheme {scheme or url!r}: use sqlite:///path.db or "
        "postgresql://user@host/db"
    )
