"""From a received agent card to the stored :class:`AgentRecord` (validation included)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import ValidationError

from woa_protocol.models import AgentCard, WoaCardExtension, read_extension

from .body import pydantic_errors
from .problems import InvalidCardError
from .storage.base import AgentRecord, SkillEntry

__all__ = ["build_record", "parse_card"]


def parse_card(card: Any, *, require_extension: bool) -> tuple[AgentCard, WoaCardExtension | None]:
    """Validate ``card`` as an A2A AgentCard and read its Web of Agents extension.

    Raises :class:`InvalidCardError` listing each failing path.
    """
    if not isinstance(card, dict):
        raise InvalidCardError("the agent card must be a JSON object")
    try:
        model = AgentCard.model_validate(card)
    except ValidationError as exc:
        errors = pydantic_errors(exc)
        paths = ", ".join(e["path"] for e in errors)
        raise InvalidCardError(f"agent card is not a valid A2A card at {paths}", errors) from exc
    try:
        extension = read_extension(model)
    except ValidationError as exc:
        errors = pydantic_errors(exc)
        raise InvalidCardError("the Web of Agents card extension is invalid", errors) from exc
    except ValueError as exc:
        raise InvalidCardError(f"the Web of Agents card extension is invalid: {exc}") from exc
    if extension is None and require_extension:
        raise InvalidCardError(
            "the card carries no Web of Agents extension (urn:woa:ext:agent-card:v1) naming its DID"
        )
    return model, extension


def _skills(card: AgentCard, extension: WoaCardExtension | None) -> tuple[SkillEntry, ...]:
    profiles = extension.skills if extension else {}
    entries = []
    for skill in card.skills:
        profile = profiles.get(skill.id)
        entries.append(
            SkillEntry(
                skill_id=skill.id,
                name=skill.name,
                description=skill.description,
                tags=tuple(skill.tags),
                family=profile.family.value if profile else None,
                input_modes=tuple(skill.input_modes or card.default_input_modes),
                output_modes=tuple(skill.output_modes or card.default_output_modes),
                input_schema=dict(profile.input_schema) if profile else None,
                output_schema=dict(profile.output_schema) if profile else None,
            )
        )
    return tuple(entries)


def build_record(
    did: str,
    raw_card: dict[str, Any],
    card: AgentCard,
    extension: WoaCardExtension | None,
    *,
    now: datetime,
    lease_expires_at: datetime,
    verified: bool,
    source_url: str | None = None,
) -> AgentRecord:
    """Return the record to store: the card exactly as received plus indexed fields."""
    return AgentRecord(
        did=did,
        card=raw_card,
        name=card.name,
        description=card.description,
        url=card.supported_interfaces[0].url,
        skills=_skills(card, extension),
        verified=verified,
        registered_at=now,
        updated_at=now,
        lease_expires_at=lease_expires_at,
        source_url=source_url,
    )
