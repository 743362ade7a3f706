"""Tamper-evident page cursors (spec REG-044): a MAC under a key every replica derives alike.

A store's cursor names the last row of a page; given out as it is, any well-formed value
would be accepted, so a client could start a listing anywhere. The registry hands out
``<store cursor>.<tag>`` instead, where the tag is HMAC-SHA256 over the endpoint's purpose
(which binds a state cursor to its namespace and prefix) and the store cursor, truncated to
128 bits. The MAC key is derived from the registry's Ed25519 seed, which every replica of
one registry loads from the same key file (it signs every response as one DID): replicas
accept each other's cursors with no configuration and no extra table, and a new key (a new
registry identity) retires every cursor issued under the old one.
"""

from __future__ import annotations

import base64
import hashlib
import hmac

from woa_protocol import SigningKey

from .problems import InvalidCursorError

__all__ = ["CursorSealer"]

_LABEL = b"woa-registry-cursor-v1"
_TAG_BYTES = 16


class CursorSealer:
    """Seals store cursors for one purpose and opens only what it sealed."""

    def __init__(self, key: SigningKey) -> None:
        self._key = hmac.new(key.seed, _LABEL, hashlib.sha256).digest()

    def _tag(self, purpose: str, inner: str) -> str:
        mac = hmac.new(self._key, purpose.encode() + b"\x00" + inner.encode(), hashlib.sha256)
        return base64.urlsafe_b64encode(mac.digest()[:_TAG_BYTES]).rstrip(b"=").decode()

    def seal(self, purpose: str, inner: str | None) -> str | None:
        """Return the cursor to hand out for the store cursor ``inner`` (None stays None)."""
        if inner is None:
            return None
        return f"{inner}.{self._tag(purpose, inner)}"

    def open(self, purpose: str, cursor: str | None) -> str | None:
        """Return the store cursor inside ``cursor``; raise ``InvalidCursorError`` if forged."""
        if cursor is None:
            return None
        inner, dot, tag = cursor.rpartition(".")
        if not dot or not inner or not hmac.compare_digest(tag, self._tag(purpose, inner)):
            raise InvalidCursorError(f"cursor {cursor[:80]!r} was not issued by this registry")
        return inner
