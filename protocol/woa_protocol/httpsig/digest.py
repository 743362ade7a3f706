"""RFC 9530 ``Content-Digest`` with sha-256 (sent) and sha-512 (also accepted)."""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Callable

from ..errors import DigestMismatchError, InvalidSignatureError
from .fastparse import parse_byte_sequence_member
from .structured import Item, StructuredFieldError, parse_dictionary, serialize_dictionary

__all__ = ["DIGEST_ALGORITHMS", "content_digest", "verify_content_digest"]

DIGEST_ALGORITHMS: dict[str, Callable[[bytes], bytes]] = {
    "sha-256": lambda data: hashlib.sha256(data).digest(),
    "sha-512": lambda data: hashlib.sha512(data).digest(),
}
"""Algorithms from the IANA Hash Algorithms for HTTP Digest Fields registry we accept."""


def content_digest(body: bytes, algorithm: str = "sha-256") -> str:
    """Return the ``Content-Digest`` field value for ``body``."""
    if algorithm == "sha-256":  # hot path: formatted directly, same bytes as the serialiser
        return f"sha-256=:{base64.b64encode(hashlib.sha256(body).digest()).decode('ascii')}:"
    return serialize_dictionary({algorithm: Item(DIGEST_ALGORITHMS[algorithm](body))})


def verify_content_digest(field_value: str, body: bytes) -> None:
    """Check a ``Content-Digest`` value against ``body``.

    Every member with a supported algorithm must match and at least one must be present;
    raises :class:`DigestMismatchError` or :class:`InvalidSignatureError`.
    """
    if field_value.strip(" ") == content_digest(body):  # the usual case: one sha-256 member
        return
    try:
        members = parse_byte_sequence_member(field_value) or parse_dictionary(field_value)
    except StructuredFieldError as exc:
        raise InvalidSignatureError(f"malformed Content-Digest: {exc}") from exc
    checked = 0
    for name, member in members.items():
        algorithm = DIGEST_ALGORITHMS.get(name)
        if algorithm is None:
            continue
        if not isinstance(member, Item) or not isinstance(member.value, bytes):
            raise InvalidSignatureError(f"Content-Digest member {name} is not a byte sequence")
        if not hmac.compare_digest(member.value, algorithm(body)):
            raise DigestMismatchError(f"Content-Digest {name} does not match the body")
        checked += 1
    if not checked:
        raise InvalidSignatureError(
            "Content-Digest names no supported algorithm (sha-256, sha-512)"
        )
