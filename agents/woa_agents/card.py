"""Building an agent's card so that every A2A verifier accepts its signature (CARD-005).

a2a-sdk drops empty strings, arrays, objects and nulls (recursively, extension ``params``
included) before it canonicalises a card; RFC 8785 keeps them. A card without them is
signed over the same bytes by both, so the builder leaves them out, and always writes the
members A2A requires (a skill's ``tags``, the agent's ``description``) non-empty.
"""

from __future__ import annotations

from typing import Any

__all__ = ["clean_empty"]


def clean_empty(value: Any) -> Any:
    """``value`` without empty strings, arrays, objects and nulls, at any depth (None if empty).

    The same removal a2a-sdk applies before canonicalising a card.
    """
    if isinstance(value, dict):
        cleaned = {k: c for k, v in value.items() if (c := clean_empty(v)) is not None}
        return cleaned or None
    if isinstance(value, list):
        items = [c for v in value if (c := clean_empty(v)) is not None]
        return items or None
    if value == "" and isinstance(value, str):
        return None
    return value
