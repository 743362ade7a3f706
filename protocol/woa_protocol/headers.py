"""Bounds on request header fields, checked before a server does any work (spec MSG-013).

No I/O: servers pass the header list as their framework received it (ASGI's list of byte
pairs) and answer the error as ``431 Request Header Fields Too Large`` (RFC 6585).
"""

from __future__ import annotations

from collections.abc import Iterable

from .errors import WoaError, register

__all__ = [
    "DEFAULT_MAX_HEADER_BYTES",
    "DEFAULT_MAX_HEADER_FIELDS",
    "HeaderFieldsTooLargeError",
    "check_header_limits",
]

DEFAULT_MAX_HEADER_BYTES = 16 * 1024
"""Default bound on the summed length of every field name and value of one request."""
DEFAULT_MAX_HEADER_FIELDS = 64
"""Default bound on the number of header field lines of one request."""


class HeaderFieldsTooLargeError(WoaError):
    """A request's header fields exceed the server's size or count bound (RFC 6585 §5)."""

    problem = register("header-fields-too-large", 431, "Request header fields too large")


def check_header_limits(
    headers: Iterable[tuple[bytes, bytes]],
    *,
    max_bytes: int = DEFAULT_MAX_HEADER_BYTES,
    max_fields: int = DEFAULT_MAX_HEADER_FIELDS,
) -> None:
    """Raise :class:`HeaderFieldsTooLargeError` when ``headers`` exceed either bound."""
    fields = headers if isinstance(headers, list | tuple) else list(headers)
    if len(fields) > max_fields:
        raise HeaderFieldsTooLargeError(
            f"{len(fields)} header fields exceed the limit of {max_fields}",
            maxFields=max_fields,
            maxBytes=max_bytes,
        )
    size = sum(len(name) + len(value) for name, value in fields)
    if size > max_bytes:
        raise HeaderFieldsTooLargeError(
            f"header fields of {size} bytes exceed the limit of {max_bytes}",
            maxFields=max_fields,
            maxBytes=max_bytes,
        )
