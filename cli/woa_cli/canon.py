"""``woa canon``: print the RFC 8785 canonical form of JSON read from stdin."""

from __future__ import annotations

import json
import sys

from woa_protocol import CanonicalizationError, canonicalize

from ._console import fail

__all__ = ["canon"]


def _reject_constant(name: str) -> float:
    raise CanonicalizationError(f"{name} is not a JSON number; JCS cannot represent it")


def canon() -> None:
    """Canonicalise JSON from stdin (RFC 8785) and write the exact signed bytes to stdout."""
    text = sys.stdin.buffer.read()
    try:
        value = json.loads(text, parse_constant=_reject_constant)
    except json.JSONDecodeError as exc:
        fail(f"stdin is not JSON: {exc}")
    except CanonicalizationError as exc:
        fail(exc.detail)
    try:
        out = canonicalize(value)
    except CanonicalizationError as exc:
        fail(exc.detail)
    sys.stdout.buffer.write(out)
    sys.stdout.buffer.flush()
