"""Request and response bodies of the registry's REST API (camelCase on the wire)."""

from __future__ import annotations

from datetime import datetime
from functools import lru_cache
from typing import Any, Protocol

from pydantic import Field
from pydantic_core import to_json

from woa_protocol.models import A2AModel, ModelFamily, UtcTimestamp, format_timestamp
from woa_protocol.models.base import JsonValue

from .storage.base import AgentRecord, ChangeEvent, EventKind, SearchPage, SearchQuery
from .text import FILTER_SCHEMA, TEXT_SCHEMA

__all__ = [
    "AgentList",
    "AgentView",
    "FeedEvent",
    "FetchRequest",
    "HealthView",
    "HeartbeatRequest",
    "LeaseView",
    "PayloadMatch",
    "PayloadSearchRequest",
    "PayloadSearchResult",
    "RegisterRequest",
    "RegistrationResult",
    "RegistryDescription",
    "SearchFilters",
    "SkillView",
    "agent_list_json",
    "search_query",
]


@lru_cache(maxsize=8192)
def _timestamp(value: datetime) -> str:
    """``format_timestamp``, memoised: a record's timestamps repeat on every page it is on."""
    return format_timestamp(value)


class RegisterRequest(A2AModel):
    """Body of ``PUT /v1/agents/{did}``: a signed A2A card and the lease asked for."""

    card: dict[str, Any] = Field(
        description="A2A 1.0 AgentCard with the Web of Agents extension and a JWS by the DID."
    )
    lease_seconds: int | None = Field(
        default=None, description="Requested lease; the server default when absent."
    )


class HeartbeatRequest(A2AModel):
    """Body of ``POST /v1/agents/{did}/heartbeat`` (optional)."""

    lease_seconds: int | None = None


class FetchRequest(A2AModel):
    """Body of ``POST /v1/agents:fetch``: where a plain A2A agent serves its card."""

    url: str = Field(min_length=1, max_length=2048, description="Base URL of the agent.")
    lease_seconds: int | None = None


class SkillView(A2AModel):
    """One skill of a registered agent, as indexed."""

    id: str
    name: str
    description: str
    tags: list[str]
    family: ModelFamily | None = None
    input_modes: list[str]
    output_modes: list[str]
    input_schema: dict[str, JsonValue] | None = None
    output_schema: dict[str, JsonValue] | None = None


class AgentView(A2AModel):
    """A registered agent: the card as received plus the registry's bookkeeping."""

    did: str
    name: str
    description: str
    url: str
    verified: bool = Field(description="True when the agent registered itself (signed).")
    registered_at: UtcTimestamp
    updated_at: UtcTimestamp
    lease_expires_at: UtcTimestamp
    source_url: str | None = None
    skills: list[SkillView]
    card: dict[str, Any]

    @classmethod
    def of(cls, record: AgentRecord) -> AgentView:
        """Render a stored record."""
        return cls(
            did=record.did,
            name=record.name,
            description=record.description,
            url=record.url,
            verified=record.verified,
            registered_at=record.registered_at,
            updated_at=record.updated_at,
            lease_expires_at=record.lease_expires_at,
            source_url=record.source_url,
            skills=[
                SkillView(
                    id=s.skill_id,
                    name=s.name,
                    description=s.description,
                    tags=list(s.tags),
                    family=ModelFamily(s.family) if s.family else None,
                    input_modes=list(s.input_modes),
                    output_modes=list(s.output_modes),
                    input_schema=s.input_schema,
                    output_schema=s.output_schema,
                )
                for s in record.skills
            ],
            card=record.card,
        )

    @staticmethod
    def wire(record: AgentRecord) -> dict[str, Any]:
        """Return ``AgentView.of(record).to_json_dict()`` without building and re-validating.

        The record's fields were validated when the card was registered, so the hot search
        path writes the wire form directly (same keys, same order, ``None`` omitted);
        a test holds it equal to the model's own serialisation.
        """
        out: dict[str, Any] = {
            "did": record.did,
            "name": record.name,
            "description": record.description,
            "url": record.url,
            "verified": record.verified,
            "registeredAt": _timestamp(record.registered_at),
            "updatedAt": _timestamp(record.updated_at),
            "leaseExpiresAt": _timestamp(record.lease_expires_at),
        }
        if record.source_url is not None:
            out["sourceUrl"] = record.source_url
        skills = []
        for s in record.skills:
            skill: dict[str, Any] = {
                "id": s.skill_id,
                "name": s.name,
                "description": s.description,
                "tags": list(s.tags),
            }
            if s.family:
                skill["family"] = ModelFamily(s.family).value
            skill["inputModes"] = list(s.input_modes)
            skill["outputModes"] = list(s.output_modes)
            if s.input_schema is not None:
                skill["inputSchema"] = s.input_schema
            if s.output_schema is not None:
                skill["outputSchema"] = s.output_schema
            skills.append(skill)
        out["skills"] = skills
        out["card"] = record.card
        return out


class RegistrationResult(AgentView):
    """Answer to a registration: the stored agent and the change-feed event it caused."""

    event_seq: int = Field(description="Sequence number of the registered/updated event.")


class LeaseView(A2AModel):
    """Answer to a heartbeat."""

    did: str
    lease_expires_at: UtcTimestamp


class AgentList(A2AModel):
    """One page of search results."""

    agents: list[AgentView]
    next_cursor: str | None = Field(
        default=None, description="Opaque cursor of the next page; absent on the last page."
    )
    matched_skills: dict[str, list[str]] = Field(
        default_factory=dict, description="Per DID, the skill ids that matched the filters."
    )


def agent_list_json(page: SearchPage) -> bytes:
    """Serialise a search page as :class:`AgentList` JSON in one pass (see ``AgentView.wire``)."""
    body: dict[str, Any] = {"agents": [AgentView.wire(r) for r in page.agents]}
    if page.next_cursor is not None:
        body["nextCursor"] = page.next_cursor
    body["matchedSkills"] = page.matched_skills
    return to_json(body)


class PayloadSearchRequest(A2AModel):
    """Body of ``POST /v1/search/payload``: a JSON instance and optional filters."""

    payload: JsonValue = Field(description="Any JSON value; skills whose input schema accepts it.")
    skill: str | None = Field(default=None, max_length=256, json_schema_extra=FILTER_SCHEMA)
    family: ModelFamily | None = None
    input_mode: str | None = Field(default=None, max_length=256, json_schema_extra=FILTER_SCHEMA)
    output_mode: str | None = Field(default=None, max_length=256, json_schema_extra=FILTER_SCHEMA)
    tag: str | None = Field(default=None, max_length=256, json_schema_extra=FILTER_SCHEMA)
    q: str | None = Field(default=None, max_length=256, json_schema_extra=TEXT_SCHEMA)
    limit: int | None = Field(default=None, ge=1, le=1000)


class SearchFilters(Protocol):
    """The filters a search request names (its query string or its body)."""

    @property
    def skill(self) -> str | None: ...  # noqa: D102
    @property
    def family(self) -> ModelFamily | None: ...  # noqa: D102
    @property
    def input_mode(self) -> str | None: ...  # noqa: D102
    @property
    def output_mode(self) -> str | None: ...  # noqa: D102
    @property
    def tag(self) -> str | None: ...  # noqa: D102
    @property
    def q(self) -> str | None: ...  # noqa: D102


def search_query(filters: SearchFilters, *, limit: int, cursor: str | None = None) -> SearchQuery:
    """The store query for a request's filters (empty text means no text filter)."""
    return SearchQuery(
        skill=filters.skill,
        family=filters.family.value if filters.family else None,
        input_mode=filters.input_mode,
        output_mode=filters.output_mode,
        tag=filters.tag,
        text=filters.q or None,
        limit=limit,
        cursor=cursor,
    )


class PayloadMatch(A2AModel):
    """A skill whose input schema accepts the payload."""

    did: str
    skill_id: str
    skill_name: str
    family: ModelFamily | None = None
    output_schema: dict[str, JsonValue] | None = None


class PayloadSearchResult(A2AModel):
    """Every matching skill (ordered by DID, then skill id), up to the limit."""

    matches: list[PayloadMatch]
    truncated: bool = Field(description="True when more skills matched than returned.")


class FeedEvent(A2AModel):
    """One change-feed message (sent as a WebSocket text frame)."""

    seq: int
    kind: EventKind
    did: str
    at: UtcTimestamp
    card: dict[str, Any] | None = None

    @classmethod
    def of(cls, event: ChangeEvent) -> FeedEvent:
        """Render a stored event."""
        return cls(seq=event.seq, kind=event.kind, did=event.did, at=event.at, card=event.card)


class RegistryDescription(A2AModel):
    """``/.well-known/woa-registry.json``: what this registry is and where its parts live."""

    name: str = "woa-registry"
    version: str
    did: str = Field(description="The did:key whose signature every response carries.")
    api_version: str = "v1"
    endpoints: dict[str, str]
    lease: dict[str, int]
    max_body_bytes: int
    url_registration: bool
    mdns_service_type: str


class HealthView(A2AModel):
    """Liveness / readiness answer."""

    status: str
    detail: str | None = None
