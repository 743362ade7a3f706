"""What the dashboard's templates show, computed from stored records (no I/O here).

Each view re-checks what it can offline: an agent's card signature against its DID, each
history entry's signed request (STATE-032), a trail's tree shape (STATE-051).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError

from woa_protocol import WoaError, verify_card
from woa_protocol.models import (
    AgentCard,
    CallTrail,
    SkillProfile,
    TrailError,
    TrailNode,
    read_extension,
    trail_tree,
)

from ..state.provenance import HistoryVerificationError, verify_history_entry
from ..storage.base import AgentRecord

__all__ = [
    "CardView",
    "HistoryRow",
    "SkillCard",
    "TrailView",
    "card_view",
    "history_rows",
    "pretty_json",
    "trail_view",
]


def pretty_json(value: Any) -> str:
    """Indented JSON for ``<pre>`` blocks (non-ASCII kept as is)."""
    return json.dumps(value, indent=2, ensure_ascii=False, sort_keys=False)


@dataclass
class SkillCard:
    """One skill as the card page shows it."""

    id: str
    name: str
    description: str
    tags: list[str]
    family: str | None
    input_modes: list[str]
    output_modes: list[str]
    input_schema: dict[str, Any] | None
    output_schema: dict[str, Any] | None
    hints: list[tuple[str, str]] = field(default_factory=list)


@dataclass
class CardView:
    """An agent's card with the outcome of re-verifying its signature now."""

    did: str
    name: str
    description: str
    url: str
    signature_ok: bool
    signature_note: str
    default_input_modes: list[str]
    default_output_modes: list[str]
    streaming: bool
    skills: list[SkillCard]
    lease_expires_at: str
    registered_at: str


def _hints(profile: SkillProfile | None) -> list[tuple[str, str]]:
    if profile is None:
        return []
    hints = [("idempotent", "yes" if profile.idempotent else "no")]
    if profile.latency is not None:
        p95 = f", p95 {profile.latency.p95_ms:g} ms" if profile.latency.p95_ms else ""
        hints.append(("latency", f"p50 {profile.latency.p50_ms:g} ms{p95}"))
    if profile.cost is not None:
        hints.append(("cost", f"{profile.cost.per_call:g} {profile.cost.currency} per call"))
    if profile.examples:
        hints.append(("examples", str(len(profile.examples))))
    return hints


def _signature(record: AgentRecord) -> tuple[bool, str]:
    if not record.verified:
        return False, "not verified: registered by URL, the registry could not check a signature"
    try:
        signatures = verify_card(record.card, expected_did=record.did)
    except WoaError as exc:
        return False, f"invalid: {exc.detail}"
    kids = ", ".join(sorted({s.kid for s in signatures}))
    return True, f"valid JWS by {kids}"


def card_view(record: AgentRecord) -> CardView:
    """The card page of ``record``: its signature re-verified, skills with schemas and hints."""
    ok, note = _signature(record)
    profiles: dict[str, SkillProfile] = {}
    default_in: list[str] = []
    default_out: list[str] = []
    streaming = False
    try:
        card = AgentCard.model_validate(record.card)
        default_in, default_out = list(card.default_input_modes), list(card.default_output_modes)
        streaming = bool(card.capabilities.streaming)
        extension = read_extension(card)
        if extension is not None:
            profiles = dict(extension.skills)
    except (ValidationError, ValueError):
        pass  # a URL-registered card may lack the extension; show what the index kept
    skills = [
        SkillCard(
            id=s.skill_id,
            name=s.name,
            description=s.description,
            tags=list(s.tags),
            family=s.family,
            input_modes=list(s.input_modes),
            output_modes=list(s.output_modes),
            input_schema=s.input_schema,
            output_schema=s.output_schema,
            hints=_hints(profiles.get(s.skill_id)),
        )
        for s in record.skills
    ]
    return CardView(
        did=record.did,
        name=record.name,
        description=record.description,
        url=record.url,
        signature_ok=ok,
        signature_note=note,
        default_input_modes=default_in,
        default_output_modes=default_out,
        streaming=streaming,
        skills=skills,
        lease_expires_at=record.lease_expires_at.isoformat(timespec="seconds"),
        registered_at=record.registered_at.isoformat(timespec="seconds"),
    )


@dataclass
class HistoryRow:
    """One history entry with its offline verification (STATE-032)."""

    rev: int
    version: int
    op: str
    writer: str | None
    at: str
    value: str
    verified: bool | None
    """True: the signed request vouches for it; False: it does not; None: server-made."""
    note: str


def history_rows(entries: list[dict[str, Any]]) -> list[HistoryRow]:
    """Verify each entry against its signed request and the value before it."""
    rows: list[HistoryRow] = []
    previous: Any = None
    has_previous = False
    for entry in entries:
        verified: bool | None
        if entry.get("op") == "expire":
            verified, note = None, "expired by the server (no signature)"
        else:
            try:
                message = verify_history_entry(
                    entry, previous_value=previous, has_previous=has_previous
                )
                verified, note = True, f"signature valid, signed by {message.did}"
            except (WoaError, HistoryVerificationError) as exc:
                detail = exc.detail if isinstance(exc, WoaError) else str(exc)
                verified, note = False, f"does not verify: {detail}"
        rows.append(
            HistoryRow(
                rev=int(entry["rev"]),
                version=int(entry["version"]),
                op=str(entry["op"]),
                writer=entry.get("writer"),
                at=str(entry.get("at")),
                value=pretty_json(entry.get("value")),
                verified=verified,
                note=note,
            )
        )
        previous, has_previous = entry.get("value"), True
    return rows


@dataclass
class TrailView:
    """A trail document drawn as a tree, or why it cannot be."""

    task: str | None
    roots: list[TrailNode]
    error: str | None


def trail_view(value: Any) -> TrailView | None:
    """The tree of a ``woa.trail/1`` value; None when the value is not a trail at all."""
    if not isinstance(value, dict) or value.get("kind") != "woa.trail/1":
        return None
    try:
        trail = CallTrail.model_validate(value)
    except ValidationError as exc:
        where = "; ".join(
            f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()[:3]
        )
        return TrailView(task=str(value.get("task")), roots=[], error=f"malformed trail: {where}")
    try:
        return TrailView(task=trail.task, roots=trail_tree(trail), error=None)
    except TrailError as exc:
        return TrailView(task=trail.task, roots=[], error=str(exc))
