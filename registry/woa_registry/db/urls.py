"""Database URLs shared by the stores: ``postgresql://...?schema=<name>`` splitting."""

from __future__ import annotations

from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from ..storage.base import StoreInputError

__all__ = ["split_schema"]


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
