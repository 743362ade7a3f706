"""The requirements manifest: every requirement ID in spec/, its level and what it applies to.

IDs and levels are read from the spec chapters (``- **XXX-NNN** (MUST)``). What a
requirement can be checked against comes from its prefix (``REG``/``STATE``: a registry,
``AGT``: an agent, ``MSG``/``RPL``: both) or from the table in ``spec/conformance.md``,
which names every other requirement with where it applies and, for those no server URL
can show (client behaviour, library functions, deployment properties), the reason.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import woa_protocol

from .core import TargetKind

__all__ = [
    "SERVER_KINDS",
    "Applies",
    "ManifestError",
    "Requirement",
    "default_spec_dir",
    "load_requirements",
    "problem_statuses",
]

Applies = Literal["registry", "agent", "client", "library", "deployment"]
SERVER_KINDS: tuple[TargetKind, ...] = ("registry", "agent")

_REQUIREMENT = re.compile(
    r"^- \*\*([A-Z0-9]+-\d{3})\*\* \((MUST|SHOULD|MAY)\)\s*(.*)$", re.MULTILINE
)
_ROW = re.compile(
    r"^\| `([A-Z0-9]+-\d{3})` \| ([a-z, ]+?) \|[ \t]*(.*?)[ \t]*\|[ \t]*$", re.MULTILINE
)
_PREFIX_DEFAULTS: dict[str, tuple[Applies, ...]] = {
    "REG": ("registry",),
    "STATE": ("registry",),
    "AGT": ("agent",),
    "MSG": ("registry", "agent"),
    "RPL": ("registry", "agent"),
    "ERR": ("registry",),
}
_APPLIES = ("registry", "agent", "client", "library", "deployment")


class ManifestError(ValueError):
    """spec/ and its conformance table disagree (an ID unclassified, unknown or duplicated)."""


@dataclass(frozen=True)
class Requirement:
    """One requirement: ID, level, chapter, first line of text, and where it is checked."""

    id: str
    level: Literal["MUST", "SHOULD", "MAY"]
    chapter: str
    summary: str
    applies: tuple[Applies, ...]
    reason: str = ""

    def checkable_against(self, kind: TargetKind) -> bool:
        """True when a check against a ``kind`` server can show this requirement."""
        return kind in self.applies


def default_spec_dir() -> Path:
    """The spec/ folder of this source tree (next to the protocol package)."""
    return Path(woa_protocol.__file__).resolve().parents[2] / "spec"


def _table(spec_dir: Path) -> dict[str, tuple[tuple[Applies, ...], str]]:
    path = spec_dir / "conformance.md"
    rows: dict[str, tuple[tuple[Applies, ...], str]] = {}
    if not path.exists():
        return rows
    for match in _ROW.finditer(path.read_text(encoding="utf-8")):
        ident, where, reason = match.group(1), match.group(2), match.group(3).strip()
        kinds = tuple(k.strip() for k in where.split(","))
        unknown = [k for k in kinds if k not in _APPLIES]
        if unknown or ident in rows:
            raise ManifestError(f"conformance.md: bad or repeated row for {ident}: {where}")
        rows[ident] = (kinds, reason)  # type: ignore[assignment]
    return rows


def load_requirements(spec_dir: Path | None = None) -> dict[str, Requirement]:
    """Every requirement in ``spec_dir`` (default: this tree's spec/), keyed by ID."""
    spec_dir = spec_dir or default_spec_dir()
    table = _table(spec_dir)
    found: dict[str, Requirement] = {}
    for chapter in sorted(spec_dir.glob("*.md")):
        for match in _REQUIREMENT.finditer(chapter.read_text(encoding="utf-8")):
            ident, level, text = match.group(1), match.group(2), match.group(3)
            if ident in found:
                raise ManifestError(f"{ident} is defined twice ({chapter.name})")
            row = table.get(ident)
            if row is not None:
                applies, reason = row
            else:
                default = _PREFIX_DEFAULTS.get(ident.split("-", 1)[0])
                if default is None:
                    raise ManifestError(
                        f"{ident} ({chapter.name}) is not classified in spec/conformance.md"
                    )
                applies, reason = default, ""
            server = any(a in SERVER_KINDS for a in applies)
            if not server and not reason:
                raise ManifestError(f"{ident}: a requirement no server shows needs a reason")
            found[ident] = Requirement(
                ident,
                level,  # type: ignore[arg-type]
                chapter.name,
                text.strip(),
                applies,
                reason,
            )
    unknown = sorted(set(table) - set(found))
    if unknown:
        raise ManifestError(f"spec/conformance.md classifies unknown IDs: {unknown}")
    return found


_PROBLEM_ROW = re.compile(r"^\| `(urn:woa:problem:[a-z0-9-]+)` \| (\d{3}) \|", re.MULTILINE)


def problem_statuses(spec_dir: Path | None = None) -> dict[str, int]:
    """The problem types of the errors chapter and their HTTP statuses (ERR-002)."""
    text = ((spec_dir or default_spec_dir()) / "errors.md").read_text(encoding="utf-8")
    return {m.group(1): int(m.group(2)) for m in _PROBLEM_ROW.finditer(text)}
