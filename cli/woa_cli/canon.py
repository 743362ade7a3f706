"""``woa canon``: print the RFC 8785 canonical form of JSON read from stdin."""

from __future__ import annotations

import sys

from woa_protocol import CanonicalizationError, MalformedJsonError, canonicalize, strict_json

from ._console import fail

__all__ = ["canon"]


def canon() -> None:
    """Canonicalise JSON from stdin (RFC 8785) and write the exact signed bytes to stdout."""
    text = sys.stdin.buffer.read()
    try:
        value = strict_json.loads(text)  # I-JSON: duplicate names refused (JCS-006)
    except MalformedJsonError as exc:
        fail(f"stdin is not I-JSON: {exc.detail}")
    except CanonicalizationError as exc:
        fail(exc.detail)
    try:
        out = canonicalize(value)
    except CanonicalizationError as exc:
        fail(exc.detail)
    sys.stdout.buffer.write(out)
    sys.stdout.buffer.flush()
