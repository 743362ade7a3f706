"""What both backends share: input checks, row encoding, cursors, the skill predicate, waiting.

Every check here runs before a backend opens a transaction, so bad input raises
:class:`StoreInputError` and changes nothing stored.
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from pydantic_core import from_json

from ..text import control_character
from ._text import query_words
from .base import (
    MAX_EVENTS_LIMIT,
    MAX_SEARCH_LIMIT,
    AgentRecord,
    SearchPage,
    SearchQuery,
    SkillEntry,
    StoreInputError,
)

__all__ = [
    "MAX_DID_LENGTH",
    "CheckedQuery",
    "EncodedRecord",
    "check_aware",
    "check_did",
    "check_events_args",
    "check_query",
    "decode_cursor",
    "decode_json_object",
    "decode_skills",
    "encode_cursor",
    "encode_record",
    "page_of",
    "schema_skills",
    "skill_matches",
]

MAX_DID_LENGTH = 2048
_MAX_CURSOR_LENGTH = 4 * MAX_DID_LENGTH


def _check_text(value: object, what: str, *, allow_empty: bool = True) -> str:
    if not isinstance(value, str):
        raise StoreInputError(f"{what} must be a string, not {type(value).__name__}")
    if not allow_empty and not value:
        raise StoreInputError(f"{what} must not be empty")
    bad = control_character(value)
    if bad is not None:  # one rule for both backends (REG-075)
        raise StoreInputError(f"{what} contains the control character {bad}")
    return value


def check_did(did: object) -> str:
    """Return ``did`` if it can be a stored key, else raise :class:`StoreInputError`."""
    text = _check_text(did, "did", allow_empty=False)
    if len(text) > MAX_DID_LENGTH:
        raise StoreInputError(f"did is longer than {MAX_DID_LENGTH} characters")
    return text


def check_aware(value: object, what: str) -> datetime:
    """Return ``value`` as a UTC datetime; naive datetimes are refused (their zone is unknown)."""
    if not isinstance(value, datetime):
        raise StoreInputError(f"{what} must be a datetime, not {type(value).__name__}")
    if value.tzinfo is None or value.utcoffset() is None:
        raise StoreInputError(f"{what} must be timezone-aware")
    return value.astimezone(UTC)


def _dump_json(value: Any, what: str) -> str:
    try:
        # ensure_ascii keeps lone surrogates representable in every database encoding.
        return json.dumps(value, allow_nan=False, separators=(",", ":"))
    except (TypeError, ValueError) as exc:
        raise StoreInputError(f"{what} is not JSON-serialisable: {exc}") from None


def _loads(text: str) -> Any:
    """Parse JSON written by :func:`_dump_json`.

    pydantic-core's parser is about twice as fast as :func:`json.loads` on stored cards and
    skills (a search page decodes dozens); it refuses what :func:`json.loads` accepts only
    for a lone surrogate escape (kept representable by ``ensure_ascii``) or very deep
    nesting, which :func:`json.loads` then parses.
    """
    try:
        return from_json(text)
    except ValueError:
        return json.loads(text)


def decode_json_object(text: str) -> dict[str, Any]:
    """Parse a JSON object written by this module."""
    value = _loads(text)
    if not isinstance(value, dict):  # pragma: no cover - we only ever write objects
        raise TypeError("stored JSON is not an object")
    return value


@dataclass(frozen=True)
class EncodedRecord:
    """An :class:`AgentRecord` checked and flattened into column values."""

    did: str
    name: str
    description: str
    url: str
    source_url: str | None
    verified: bool
    registered_at: datetime
    updated_at: datetime
    lease_expires_at: datetime
    card_json: str
    skills_json: str
    search_text: str
    skill_rows: list[tuple[int, str, str | None, bool]]
    """``(position, skill_id, family, has_input_schema)``."""
    tag_rows: list[tuple[int, str]]
    """``(position, tag)``, without repeats."""
    mode_rows: list[tuple[int, str, str]]
    """``(position, "in" | "out", mode)``, without repeats."""


def _check_skill(skill: object, pos: int) -> dict[str, Any]:
    if not isinstance(skill, SkillEntry):
        raise StoreInputError(f"skills[{pos}] must be a SkillEntry")
    where = f"skills[{pos}]"
    _check_text(skill.skill_id, f"{where}.skill_id", allow_empty=False)
    _check_text(skill.name, f"{where}.name")
    _check_text(skill.description, f"{where}.description")
    if skill.family is not None:
        _check_text(skill.family, f"{where}.family", allow_empty=False)
    lists = {"tags": skill.tags, "input_modes": skill.input_modes}
    lists["output_modes"] = skill.output_modes
    for field_name, values in lists.items():
        if not isinstance(values, tuple | list):
            raise StoreInputError(f"{where}.{field_name} must be a tuple of strings")
        for i, value in enumerate(values):
            _check_text(value, f"{where}.{field_name}[{i}]", allow_empty=False)
    for field_name, schema in (
        ("input_schema", skill.input_schema),
        ("output_schema", skill.output_schema),
    ):
        if schema is not None and not isinstance(schema, dict):
            raise StoreInputError(f"{where}.{field_name} must be a JSON object or None")
    return {
        "skill_id": skill.skill_id,
        "name": skill.name,
        "description": skill.description,
        "tags": list(skill.tags),
        "family": skill.family,
        "input_modes": list(skill.input_modes),
        "output_modes": list(skill.output_modes),
        "input_schema": skill.input_schema,
        "output_schema": skill.output_schema,
    }


def encode_record(record: AgentRecord) -> EncodedRecord:
    """Check every field of ``record`` and flatten it; raise :class:`StoreInputError`."""
    if not isinstance(record, AgentRecord):
        raise StoreInputError("record must be an AgentRecord")
    did = check_did(record.did)
    name = _check_text(record.name, "name")
    description = _check_text(record.description, "description")
    url = _check_text(record.url, "url")
    source_url = None
    if record.source_url is not None:
        source_url = _check_text(record.source_url, "source_url")
    if not isinstance(record.verified, bool):
        raise StoreInputError("verified must be a bool")
    if not isinstance(record.card, dict):
        raise StoreInputError("card must be a JSON object (dict)")
    card_json = _dump_json(record.card, "card")
    if not isinstance(record.skills, tuple | list):
        raise StoreInputError("skills must be a tuple of SkillEntry")
    skill_dicts = [_check_skill(skill, pos) for pos, skill in enumerate(record.skills)]
    ids = [s["skill_id"] for s in skill_dicts]
    duplicates = sorted({i for i in ids if ids.count(i) > 1})
    if duplicates:
        raise StoreInputError(f"skill ids must be unique within an agent: {duplicates}")
    skills_json = _dump_json(skill_dicts, "skills")
    skill_rows: list[tuple[int, str, str | None, bool]] = []
    tag_rows: list[tuple[int, str]] = []
    mode_rows: list[tuple[int, str, str]] = []
    words: list[str] = []
    for pos, skill in enumerate(record.skills):
        skill_rows.append((pos, skill.skill_id, skill.family, skill.input_schema is not None))
        tag_rows.extend((pos, tag) for tag in dict.fromkeys(skill.tags))
        mode_rows.extend((pos, "in", mode) for mode in dict.fromkeys(skill.input_modes))
        mode_rows.extend((pos, "out", mode) for mode in dict.fromkeys(skill.output_modes))
        words.extend([skill.skill_id, skill.name, skill.description, *skill.tags])
    return EncodedRecord(
        did=did,
        name=name,
        description=description,
        url=url,
        source_url=source_url,
        verified=record.verified,
        registered_at=check_aware(record.registered_at, "registered_at"),
        updated_at=check_aware(record.updated_at, "updated_at"),
        lease_expires_at=check_aware(record.lease_expires_at, "lease_expires_at"),
        card_json=card_json,
        skills_json=skills_json,
        search_text="\n".join(words),
        skill_rows=skill_rows,
        tag_rows=tag_rows,
        mode_rows=mode_rows,
    )


def decode_skills(text: str) -> tuple[SkillEntry, ...]:
    """Rebuild the skills written by :func:`encode_record`."""
    return tuple(
        SkillEntry(
            skill_id=s["skill_id"],
            name=s["name"],
            description=s["description"],
            tags=tuple(s["tags"]),
            family=s["family"],
            input_modes=tuple(s["input_modes"]),
            output_modes=tuple(s["output_modes"]),
            input_schema=s["input_schema"],
            output_schema=s["output_schema"],
        )
        for s in _loads(text)
    )


def encode_cursor(did: str) -> str:
    """Return the opaque cursor that continues after ``did``."""
    return base64.urlsafe_b64encode(did.encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> str:
    """Return the DID a cursor continues after; raise :class:`StoreInputError` if malformed."""
    if not isinstance(cursor, str) or not cursor or len(cursor) > _MAX_CURSOR_LENGTH:
        raise StoreInputError("cursor is not one this registry issued")
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        did = raw.decode()
    except (binascii.Error, ValueError):
        raise StoreInputError("cursor is not one this registry issued") from None
    if encode_cursor(did) != cursor or not did.startswith("did:") or "\x00" in did:
        raise StoreInputError("cursor is not one this registry issued")
    return did


@dataclass(frozen=True)
class CheckedQuery:
    """A :class:`SearchQuery` whose arguments passed the checks."""

    query: SearchQuery
    after_did: str | None
    words: list[str] | None
    """None: no text filter; empty: text without searchable words (matches nothing)."""

    @property
    def has_skill_filter(self) -> bool:
        """Whether a filter applies to individual skills."""
        q = self.query
        return any(v is not None for v in (q.skill, q.family, q.input_mode, q.output_mode, q.tag))


def check_query(query: SearchQuery) -> CheckedQuery:
    """Check a query's filters, limit and cursor; raise :class:`StoreInputError`."""
    if not isinstance(query, SearchQuery):
        raise StoreInputError("query must be a SearchQuery")
    for name in ("skill", "family", "input_mode", "output_mode", "tag"):
        value = getattr(query, name)
        if value is not None:
            _check_text(value, f"filter {name!r}", allow_empty=False)
    limit = query.limit
    if isinstance(limit, bool) or not isinstance(limit, int):
        raise StoreInputError("limit must be an integer")
    if not 1 <= limit <= MAX_SEARCH_LIMIT:
        raise StoreInputError(f"limit must be between 1 and {MAX_SEARCH_LIMIT}")
    words = None
    if query.text is not None:
        words = query_words(_check_text(query.text, "text"))
    after = None if query.cursor is None else decode_cursor(query.cursor)
    return CheckedQuery(query=query, after_did=after, words=words)


def skill_matches(skill: SkillEntry, query: SearchQuery) -> bool:
    """Whether one skill satisfies all of the query's skill filters (the SQL does the same)."""
    return (
        (query.skill is None or skill.skill_id == query.skill)
        and (query.family is None or skill.family == query.family)
        and (query.tag is None or query.tag in skill.tags)
        and (query.input_mode is None or query.input_mode in skill.input_modes)
        and (query.output_mode is None or query.output_mode in skill.output_modes)
    )


def prune_events_sql(cutoff: str) -> str:
    """The DELETE of :meth:`AgentStore.prune_events` with ``cutoff`` as its placeholder.

    It removes the events up to the last one older than the cutoff (a prefix of the
    sequence) and never the newest event, on either backend.
    """
    # ruff S608: the text is constants and a placeholder; the cutoff value is bound.
    last_old = f"(SELECT MAX(seq) FROM events WHERE at < {cutoff})"  # noqa: S608
    newest = "(SELECT MAX(seq) FROM events)"
    return f"DELETE FROM events WHERE seq <= {last_old} AND seq < {newest}"  # noqa: S608


def check_events_args(seq: int, limit: int) -> None:
    """Check the arguments of ``events_since``."""
    for name, value in (("seq", seq), ("limit", limit)):
        if isinstance(value, bool) or not isinstance(value, int):
            raise StoreInputError(f"{name} must be an integer")
    if seq < 0:
        raise StoreInputError("seq must not be negative")
    if not 1 <= limit <= MAX_EVENTS_LIMIT:
        raise StoreInputError(f"limit must be between 1 and {MAX_EVENTS_LIMIT}")


def page_of(checked: CheckedQuery, records: list[AgentRecord], limit: int) -> SearchPage:
    """Cut a ``limit + 1`` fetch into a page, its next cursor and the matched skills."""
    more = len(records) > limit
    records = records[:limit]
    matched: dict[str, list[str]] = {}
    if checked.has_skill_filter:
        matched = {
            r.did: [s.skill_id for s in r.skills if skill_matches(s, checked.query)]
            for r in records
        }
    next_cursor = encode_cursor(records[-1].did) if more else None
    return SearchPage(agents=records, next_cursor=next_cursor, matched_skills=matched)


def schema_skills(
    checked: CheckedQuery, records: list[AgentRecord]
) -> list[tuple[str, SkillEntry]]:
    """Pick the skills with an input schema that satisfy the query's skill filters."""
    return [
        (r.did, s)
        for r in records
        for s in r.skills
        if s.input_schema is not None and skill_matches(s, checked.query)
    ]
