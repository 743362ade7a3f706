"""The one rule for text fields, on every backend (spec REG-075).

PostgreSQL cannot store NUL in ``text`` (it answers ``CharacterNotInRepertoireError``) while
SQLite can, and other control characters are invisible in logs and listings; so every text
field the registry and shared state store or query by (agent and skill fields, search
filters, ``contextId``) refuses them, with the same answer on both backends. JSON values
(cards as a whole, documents, payloads) are stored as JSON text, whose escapes carry any
character, and are not affected.
"""

from __future__ import annotations

import re

from pydantic.config import JsonDict

__all__ = [
    "CONTROL_CHARACTERS",
    "FILTER_SCHEMA",
    "TEXT_PATTERN",
    "TEXT_SCHEMA",
    "control_character",
]

CONTROL_CHARACTERS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
"""C0 controls except TAB, LF and CR; DEL; C1 controls (U+0080 to U+009F)."""

TEXT_PATTERN = "^[^\\x00-\\x08\\x0b\\x0c\\x0e-\\x1f\\x7f-\\x9f]*$"
"""The same rule as a JSON Schema ``pattern`` (declared in the OpenAPI document)."""

TEXT_SCHEMA: JsonDict = {"pattern": TEXT_PATTERN}
"""Schema of a text field that may be empty but holds no control character (REG-075)."""

FILTER_SCHEMA: JsonDict = {"minLength": 1, "pattern": TEXT_PATTERN}
"""Schema of a text filter: not empty (REG-042), no control character (REG-075)."""


def control_character(value: str) -> str | None:
    """Describe the first refused control character in ``value`` (``U+0000 at 3``), or None."""
    found = CONTROL_CHARACTERS.search(value)
    if found is None:
        return None
    return f"U+{ord(found.group()):04X} at {found.start()}"
