"""Row encoding shared by the backends: ACL lists, provenance headers, values."""

from __future__ import annotations

import json
from typing import Any

__all__ = ["decode_dids", "decode_headers", "decode_value", "encode_dids", "encode_headers"]


def encode_dids(dids: tuple[str, ...]) -> str:
    """A DID list as compact JSON text."""
    return json.dumps(list(dids), separators=(",", ":"))


def decode_dids(text: str) -> tuple[str, ...]:
    """Inverse of :func:`encode_dids`."""
    data = json.loads(text)
    if not isinstance(data, list) or not all(isinstance(d, str) for d in data):
        raise ValueError("stored DID list is corrupt")
    return tuple(data)


def encode_headers(headers: dict[str, str]) -> str:
    """Header fields as compact JSON text (names sorted)."""
    return json.dumps(headers, separators=(",", ":"), sort_keys=True)


def decode_headers(text: str) -> dict[str, str]:
    """Inverse of :func:`encode_headers`."""
    data = json.loads(text)
    if not isinstance(data, dict):
        raise ValueError("stored header fields are corrupt")
    return {str(k): str(v) for k, v in data.items()}


def decode_value(text: str | None) -> Any:
    """A stored canonical JSON value (None stays None: a tombstone has no value)."""
    return None if text is None else json.loads(text)
