"""The one JSON parser for everything that arrives from outside: I-JSON (RFC 7493), bounded.

RFC 8785 inputs must be I-JSON, and two parsers that read ``{"a":1,"a":2}`` differently (one
keeps the first, another the last) let a signature vouch for what a consumer never sees.
:func:`loads` therefore refuses an object with two members of the same name, naming the JSON
path of the object and the repeated name (spec JCS-006), and refuses nesting deeper than
:data:`~woa_protocol.canonical.MAX_DEPTH` with one answer whatever the depth (JCS-004).

The parse runs in Rust (``jiter``, pydantic's parser, whose ``catch_duplicate_keys`` mode
finds a repeated name during the parse): a JSON-RPC envelope costs about 5 µs against about
8 µs for :func:`json.loads` with a duplicate-checking ``object_pairs_hook``. Only a refused
document is parsed a second time, in Python, to name the path of the duplicate.
"""

from __future__ import annotations

import json
import re
from typing import Any

import jiter

from .canonical import MAX_DEPTH
from .errors import CanonicalizationError, DuplicateMemberError, MalformedJsonError
from .validation import json_path

__all__ = ["loads"]

_DUPLICATE = "Detected duplicate key"
_TOO_DEEP = "recursion limit exceeded"


def loads(data: bytes | bytearray | str) -> Any:
    """Parse one JSON text as I-JSON; return the value.

    Raises :class:`DuplicateMemberError` (with ``path`` and ``name``) for a repeated member
    name, :class:`CanonicalizationError` for nesting deeper than ``MAX_DEPTH``, and
    :class:`MalformedJsonError` (with the position) for anything that is not JSON: invalid
    UTF-8, ``NaN``/``Infinity``, lone surrogates, trailing text, an empty text.
    """
    raw = data.encode("utf-8", "surrogatepass") if isinstance(data, str) else bytes(data)
    try:
        value = jiter.from_json(raw, allow_inf_nan=False, catch_duplicate_keys=True)
    except ValueError as exc:
        message = str(exc)
        if message.startswith(_DUPLICATE):
            raise _locate_duplicate(raw, message) from None
        if message.startswith(_TOO_DEEP):
            raise _too_deep() from None
        raise MalformedJsonError(f"not JSON: {message}{_constant_at(raw, message)}") from None
    # A text with at most MAX_DEPTH brackets (counted in C, strings included) cannot nest
    # deeper; only larger documents are walked.
    if raw.count(b"[") + raw.count(b"{") > MAX_DEPTH and _deeper_than(value, MAX_DEPTH):
        raise _too_deep()
    return value


_POSITION = re.compile(r"at line (\d+) column (\d+)$")


def _constant_at(raw: bytes, message: str) -> str:
    """Name a ``NaN``/``Infinity`` literal at the error's position, which JSON does not have."""
    found = _POSITION.search(message)
    if found is None:
        return ""
    lines = raw.split(b"\n")
    line, column = int(found[1]), int(found[2])
    if line > len(lines):
        return ""
    rest = lines[line - 1][max(column - 1, 0) :].lstrip(b"-")
    for constant in (b"NaN", b"Infinity"):
        if rest.startswith(constant):
            return f" ({constant.decode()} is not a JSON number; JCS cannot represent it)"
    return ""


def _too_deep() -> CanonicalizationError:
    return CanonicalizationError(f"nesting exceeds the maximum depth of {MAX_DEPTH}")


def _deeper_than(value: Any, limit: int) -> bool:
    """True when some array or object lies more than ``limit`` containers deep."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        kind = type(item)
        if kind is dict:
            children = item.values()
        elif kind is list:
            children = item
        else:
            continue
        if depth > limit:
            return True
        stack.extend((child, depth + 1) for child in children)
    return False


class _Pairs(list[tuple[str, Any]]):
    """An object as parsed, members in document order (only built for an error report)."""


def _locate_duplicate(raw: bytes, message: str) -> DuplicateMemberError:
    """Parse again keeping every member, and name the first object with a repeated name."""
    try:
        tree = json.loads(raw, object_pairs_hook=_Pairs)
    except (ValueError, RecursionError):  # jiter found the duplicate first; keep its words
        return DuplicateMemberError(f"JSON text is not I-JSON: {message}", path="$", name="")
    found = _first_duplicate(tree, [])
    if found is None:  # pragma: no cover - jiter and json agree on what a member name is
        return DuplicateMemberError(f"JSON text is not I-JSON: {message}", path="$", name="")
    location, name = found
    path = json_path(location)
    return DuplicateMemberError(
        f"the object at {path} has more than one member named {name!r} "
        "(I-JSON, RFC 7493, forbids duplicate names)",
        path=path,
        name=name,
    )


def _first_duplicate(node: Any, location: list[str | int]) -> tuple[list[str | int], str] | None:
    """Depth-first, in document order: the first object holding a name twice."""
    if isinstance(node, _Pairs):
        seen: set[str] = set()
        for name, _ in node:
            if name in seen:
                return location, name
            seen.add(name)
        for name, child in node:
            found = _first_duplicate(child, [*location, name])
            if found is not None:
                return found
    elif isinstance(node, list):
        for index, child in enumerate(node):
            found = _first_duplicate(child, [*location, index])
            if found is not None:
                return found
    return None
