"""Database URLs shared by the stores: ``sqlite:///path`` and ``postgresql://...?schema=``."""

from __future__ import annotations

from typing import TYPE_CHECKING
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from ..storage.base import StoreInputError

if TYPE_CHECKING:
    from .postgres import PostgresDatabase

__all__ = ["shared_database", "split_schema", "sqlite_path"]


def split_schema(url: str) -> tuple[str, str | None]:
    """Split a PostgreSQL URL into the asyncpg DSN and its ``schema`` query parameter.

    The other query parameters stay in the DSN (they go to asyncpg). A ``schema`` given
    more than once is refused with StoreInputError.
    """
    parts = urlsplit(url)
    params = parse_qsl(parts.query, keep_blank_values=True)
    schemas = [value for key, value in params if key == "schema"]
    if len(schemas) > 1:
        raise StoreInputError("storage URL gives the schema parameter more than once")
    rest = urlencode([(key, value) for key, value in params if key != "schema"])
    return urlunsplit(parts._replace(query=rest)), (schemas[0] if schemas else None)


def sqlite_path(url: str) -> str:
    """Return the file a ``sqlite:///relative.db`` or ``sqlite:////abs.db`` URL names.

    In-memory databases and query parameters are refused with StoreInputError.
    """
    rest = url[len("sqlite://") :]
    if not rest.startswith("/"):
        raise StoreInputError(
            f"SQLite URL {url!r} must look like sqlite:///relative.db or sqlite:////abs/path.db"
        )
    path = rest[1:]
    if "?" in path or "#" in path:
        raise StoreInputError(f"SQLite URL {url!r} must not carry query parameters")
    if not path or path == ":memory:":
        raise StoreInputError(
            f"SQLite URL {url!r} names no file: the registry needs a durable database file "
            "(in-memory SQLite is not allowed), e.g. sqlite:///registry.db"
        )
    return path


def shared_database(url: str) -> PostgresDatabase | None:
    """Return the one :class:`~.postgres.PostgresDatabase` a replica's stores share.

    None for SQLite (each store reaches the file through its own connection threads) and
    when the ``postgres`` extra is missing (opening a store then names the extra).
    """
    scheme = url.split(":", 1)[0].lower() if ":" in url else ""
    if scheme not in ("postgresql", "postgres"):
        return None
    try:
        from .postgres import PostgresDatabase
    except ImportError:
        return None
    dsn, schema = split_schema(url)
    return PostgresDatabase(dsn, schema=schema or "woa_registry")
