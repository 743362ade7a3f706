"""RFC 8785 JSON Canonicalization Scheme (JCS).

``canonicalize`` returns the exact bytes that get signed. Most payloads hold only strings,
integers, booleans, null, arrays and objects with keys in the Basic Multilingual Plane; for
those the C-accelerated ``json.dumps`` with sorted keys, no whitespace and no ASCII escaping
produces the JCS bytes, at a quarter of the cost of the pure-Python ``rfc8785`` package. Any
value outside that subset (floats, which need ECMAScript number formatting, and keys with
characters beyond U+FFFF, which JCS sorts by UTF-16 code units) goes through ``rfc8785``.
Both paths are proven byte-identical by the vectors in ``spec/vectors/jcs.json`` and by
property tests.
"""

from __future__ import annotations

import json
from typing import Any

import rfc8785

from .errors import CanonicalizationError

__all__ = ["MAX_DEPTH", "MAX_SAFE_INTEGER", "canonicalize", "canonicalize_str"]

MAX_SAFE_INTEGER = 2**53 - 1
"""Largest integer I-JSON (RFC 7493) can carry exactly; JCS rejects anything beyond it."""

MAX_DEPTH = 128
"""Deepest object/array nesting accepted, so hostile input cannot exhaust the stack."""

_dumps = json.JSONEncoder(
    ensure_ascii=False,
    allow_nan=False,
    sort_keys=True,
    separators=(",", ":"),
    check_circular=False,  # _scan bounds the depth, so a cycle cannot reach the encoder
).encode


def _scan(value: Any, depth: int) -> bool:
    """Walk ``value``; return True when ``json.dumps`` output equals JCS for it.

    Raises for what JCS can never represent, so both paths report the same errors.
    ``depth`` counts the containers open around ``value`` plus one; only a container
    deeper than :data:`MAX_DEPTH` is rejected, so 128 nested arrays holding a scalar pass.
    """
    kind = type(value)
    if kind is str or kind is bool or value is None:
        return True
    if kind is int:
        if not -MAX_SAFE_INTEGER <= value <= MAX_SAFE_INTEGER and not _is_double_spelling(value):
            raise CanonicalizationError(
                f"integer {value} is outside the I-JSON range +/-(2**53-1) and is not how JCS "
                "writes any IEEE-754 double, so it cannot be signed without changing its digits"
            )
        return True
    if kind is float:
        if value != value or value in (_INF, -_INF):
            raise CanonicalizationError(f"{value!r} is not a JSON number; JCS cannot represent it")
        return False
    if kind is not dict and kind is not list and kind is not tuple:
        raise CanonicalizationError(f"{type(value).__name__} is not a JSON type")
    if depth > MAX_DEPTH:
        raise CanonicalizationError(f"nesting exceeds the maximum depth of {MAX_DEPTH}")
    fast = True
    if kind is dict:
        for key, item in value.items():
            if type(key) is not str:
                raise CanonicalizationError(
                    f"object keys must be strings, not {type(key).__name__}"
                )
            if not key.isascii() and any(ord(ch) > 0xFFFF for ch in key):
                fast = False
            fast = _scan(item, depth + 1) and fast
        return fast
    for item in value:
        fast = _scan(item, depth + 1) and fast
    return fast


_INF = float("inf")


def _is_double_spelling(value: int) -> bool:
    """True when JCS writes the double nearest ``value`` with exactly ``value``'s digits.

    JCS numbers are IEEE-754 doubles, and it writes large integral doubles such as 2**53 or
    1e20 as integer literals, which Python's ``json`` parses back as ``int``. Such an integer
    is accepted (its text never changes), so canonical output stays canonicalisable after a
    round trip (JCS-005); an integer whose digits the double cannot keep (2**53 + 1) is not.
    """
    try:
        return bytes(rfc8785.dumps(float(value))) == str(value).encode("ascii")
    except (OverflowError, rfc8785.CanonicalizationError):
        return False


def _big_ints_as_doubles(value: Any) -> Any:
    """Copy ``value`` with every integer beyond 2**53-1 replaced by its double (for rfc8785)."""
    kind = type(value)
    if kind is int and not -MAX_SAFE_INTEGER <= value <= MAX_SAFE_INTEGER:
        return float(value)
    if kind is dict:
        return {key: _big_ints_as_doubles(item) for key, item in value.items()}
    if kind is list or kind is tuple:
        return [_big_ints_as_doubles(item) for item in value]
    return value


def canonicalize(value: Any) -> bytes:
    """Return the RFC 8785 canonical UTF-8 bytes of a JSON value.

    Raises :class:`CanonicalizationError` for values JCS cannot represent: NaN and
    infinities, integers beyond +/-(2**53-1) unless written exactly as JCS writes the
    double they denote (2**53 and 10**20 pass, 2**53 + 1 does not), strings with lone
    surrogates, non-string object keys, non-JSON types, and nesting deeper than
    :data:`MAX_DEPTH`.
    """
    if not _scan(value, 1):
        try:
            try:
                return bytes(rfc8785.dumps(value))
            except rfc8785.IntegerDomainError:  # _scan vouched for it: see _is_double_spelling
                return bytes(rfc8785.dumps(_big_ints_as_doubles(value)))
        except rfc8785.CanonicalizationError as exc:
            raise CanonicalizationError(str(exc)) from exc
        except UnicodeEncodeError as exc:  # rfc8785 sorts keys by their UTF-16 form
            raise CanonicalizationError(
                "object key contains a lone surrogate, which has no UTF-8 form"
            ) from exc
    try:
        return _dumps(value).encode("utf-8")
    except UnicodeEncodeError as exc:
        raise CanonicalizationError(
            "string contains a lone surrogate, which has no UTF-8 form"
        ) from exc


def canonicalize_str(value: Any) -> str:
    """Return the canonical form as text (see :func:`canonicalize`)."""
    return canonicalize(value).decode("utf-8")
