"""Fast paths for the two field shapes every signed request carries.

The general RFC 8941 parser in :mod:`.structured` costs ~12 µs per ``Signature-Input``;
a request's whole budget over raw Ed25519 is ~22 µs (``woa bench protocol``). Signature
fields written by conforming signers are nearly always canonical and hold one member, so
one regular expression recognises them, and the recognised text *is* the canonical
serialisation the signature base needs. Anything else returns ``None`` and goes through the
general parser, which also produces the precise error messages. Property tests check that
both paths agree.
"""

from __future__ import annotations

import base64
import binascii
import re

from .structured import BareItem, InnerList, Item

__all__ = ["parse_byte_sequence_member", "parse_canonical_signature_input"]

_KEY = r"[a-z*][a-z0-9_\-.*]*"
_BYTES_MEMBER = re.compile(rf"({_KEY})=:([A-Za-z0-9+/]*={{0,2}}):")
_SIGNATURE_INPUT = re.compile(
    rf'({_KEY})=(\(((?:"[a-z0-9@\-_.]+")(?: "[a-z0-9@\-_.]+")*)?\)'
    rf'((?:;{_KEY}=(?:"[\x20\x21\x23-\x5b\x5d-\x7e]*"|0|-?[1-9][0-9]{{0,14}}))*))'
)
_PARAM = re.compile(rf';({_KEY})=(?:"([^"]*)"|(-?[0-9]+))')
_ITEMS: dict[str, tuple[tuple[Item, ...], tuple[str, ...]]] = {}
"""Covered-component lists already seen, by their text: the items (immutable) and their
serialisations, which the pattern guarantees are the quoted names as written."""
_ITEMS_CACHED = 256


def parse_byte_sequence_member(text: str) -> dict[str, Item | InnerList] | None:
    """Parse ``label=:base64:`` (one member); None when the text has another shape."""
    match = _BYTES_MEMBER.fullmatch(text.strip(" "))
    if match is None or len(match.group(2)) % 4:
        return None
    try:
        return {match.group(1): Item(base64.b64decode(match.group(2), validate=True))}
    except binascii.Error:
        return None


def parse_canonical_signature_input(text: str) -> dict[str, Item | InnerList] | None:
    """Parse one canonical ``label=("c1" "c2");p=...`` member; None for any other shape.

    Items must be plain component names without parameters and parameters must be strings
    without escapes or integers: exactly what request signatures look like.
    """
    match = _SIGNATURE_INPUT.fullmatch(text.strip(" "))
    if match is None:
        return None
    label, inner_text, items_text, params_text = match.groups()
    known = _ITEMS.get(items_text or "")
    if known is None:  # a signer covers the same components message after message
        idents = tuple(items_text.split(" ")) if items_text else ()
        known = (tuple(Item(name[1:-1]) for name in idents), idents)
        if len(_ITEMS) < _ITEMS_CACHED:
            _ITEMS[items_text or ""] = known
    items, idents = known
    params: dict[str, BareItem] = {}
    for name, string, number in _PARAM.findall(params_text):
        if name in params:
            return None  # a repeated parameter: the general parser applies RFC 8941's rule
        params[name] = int(number) if number else string
    return {label: InnerList(list(items), params, inner_text, idents)}
