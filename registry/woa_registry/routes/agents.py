"""``/v1/agents``: register, read, heartbeat and deregister agents; search them."""

from __future__ import annotations

from dataclasses import replace
from typing import Annotated

from fastapi import APIRouter, Path, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from woa_protocol import VerifiedMessage, resolve_did, verify_card
from woa_protocol.identity import ED25519_DID_PATTERN
from woa_protocol.models import ModelFamily

from ..body import json_body, parse_json, parse_model, read_body
from ..context import RegistryContext, context_of, utcnow
from ..models import (
    AgentList,
    AgentView,
    HeartbeatRequest,
    LeaseView,
    RegisterRequest,
    RegistrationResult,
    agent_list_json,
    search_query,
)
from ..problems import AgentNotFoundError, DidMismatchError, InvalidCursorError
from ..records import build_record, parse_card
from ..storage.base import EventKind
from ..text import FILTER_SCHEMA, TEXT_SCHEMA
from .openapi import problem_responses, query_parameters

__all__ = ["URL_AGENT_PREFIX", "SearchParameters", "router"]

router = APIRouter(prefix="/v1/agents", tags=["agents"])

URL_AGENT_PREFIX = "urn:woa:url:"
_SEARCH_CURSOR = "agents"
"""Identifier prefix of agents registered by URL (they have no did:key of their own)."""

DidPath = Annotated[
    str,
    Path(
        description="The agent's Ed25519 did:key (else 400 invalid-did, REG-011).",
        min_length=1,
        max_length=256,
        # declared, not enforced by FastAPI: REG-011 answers 400 invalid-did, not 422
        json_schema_extra={"pattern": ED25519_DID_PATTERN},
    ),
]
AgentIdPath = Annotated[
    str,
    Path(
        description="The agent's did:key (or a urn:woa:url: id for agents registered by URL).",
        min_length=1,
        max_length=256,
        json_schema_extra={"pattern": f"{ED25519_DID_PATTERN}|^{URL_AGENT_PREFIX}[0-9a-f]{{32}}$"},
    ),
]


def _check_did(did: str, *, allow_url_id: bool = False) -> None:
    if allow_url_id and did.startswith(URL_AGENT_PREFIX):
        return
    resolve_did(did)  # raises InvalidDidError (400) for anything but an Ed25519 did:key


async def _signed(
    request: Request, ctx: RegistryContext, did: str
) -> tuple[bytes, VerifiedMessage]:
    """Read the body, verify the request signature, require ``did`` as signer."""
    _check_did(did)
    body = await read_body(request, ctx.settings.max_body_bytes)
    verified = await ctx.authenticator.verify(request.scope, body)
    ctx.authorize(verified, did)
    return body, verified


@router.put(
    "/{did}",
    summary="Register or update an agent",
    response_model=RegistrationResult,
    response_model_exclude_none=True,
    responses={
        200: {"description": "Updated", "model": RegistrationResult},
        201: {"description": "Registered", "model": RegistrationResult},
        **problem_responses(400, 401, 403, 413, 422, 429),
    },
    openapi_extra=json_body(RegisterRequest),
)
async def register_agent(did: DidPath, request: Request) -> JSONResponse:
    """Store the signed card of the agent that signed this request; start or renew its lease."""
    ctx = context_of(request)
    body, _ = await _signed(request, ctx, did)
    payload = parse_model(parse_json(body), RegisterRequest)
    now = utcnow()
    lease_until = ctx.lease_until(payload.lease_seconds, now)
    # The signature first (CARD-007): a card nobody vouches for is refused as such (401),
    # whatever else is wrong with it; then its schema (422).
    verify_card(payload.card, expected_did=did)
    card, extension = parse_card(payload.card, require_extension=True)
    assert extension is not None
    if extension.did != did:
        raise DidMismatchError(f"the card extension names {extension.did}, the path {did}")
    record = build_record(
        did, payload.card, card, extension, now=now, lease_expires_at=lease_until, verified=True
    )
    event = await ctx.store.put(record)
    ctx.metrics.events.labels(event.kind.value).inc()
    stored = await ctx.store.get(did) or record
    result = RegistrationResult(**AgentView.of(stored).model_dump(), event_seq=event.seq)
    status = 201 if event.kind is EventKind.REGISTERED else 200
    return JSONResponse(result.to_json_dict(), status_code=status)


@router.get(
    "/{did}",
    summary="Get one agent",
    response_model=AgentView,
    response_model_exclude_none=True,
    responses=problem_responses(400, 404, 429),
)
async def get_agent(did: AgentIdPath, request: Request) -> AgentView:
    """Return the registered agent."""
    _check_did(did, allow_url_id=True)
    record = await context_of(request).store.get(did)
    if record is None:
        raise AgentNotFoundError(f"no agent {did} is registered")
    return AgentView.of(record)


@router.delete(
    "/{did}",
    summary="Deregister an agent",
    status_code=204,
    response_class=Response,
    responses=problem_responses(400, 401, 403, 404, 413, 429),
)
async def deregister_agent(did: DidPath, request: Request) -> Response:
    """Remove the agent that signed this request and announce it on the feed."""
    ctx = context_of(request)
    await _signed(request, ctx, did)
    event = await ctx.store.delete(did)
    if event is None:
        raise AgentNotFoundError(f"no agent {did} is registered")
    ctx.metrics.events.labels(event.kind.value).inc()
    return Response(status_code=204)


@router.post(
    "/{did}/heartbeat",
    summary="Extend an agent's lease",
    response_model=LeaseView,
    responses=problem_responses(400, 401, 403, 404, 413, 422, 429),
    openapi_extra=json_body(HeartbeatRequest, required=False),
)
async def heartbeat(did: DidPath, request: Request) -> LeaseView:
    """Renew the lease of the agent that signed this request."""
    ctx = context_of(request)
    body, _ = await _signed(request, ctx, did)
    lease_seconds = None
    if body.strip():
        lease_seconds = parse_model(parse_json(body), HeartbeatRequest).lease_seconds
    lease_until = ctx.lease_until(lease_seconds, utcnow())
    record = await ctx.store.renew(did, lease_until)
    if record is None:
        raise AgentNotFoundError(f"no agent {did} is registered")
    return LeaseView(did=did, lease_expires_at=record.lease_expires_at)


class SearchParameters(BaseModel):
    """The query string of ``GET /v1/agents``."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    skill: str | None = Field(
        default=None, max_length=256, description="Skill id.", json_schema_extra=FILTER_SCHEMA
    )
    family: ModelFamily | None = Field(default=None, description="Model family of a skill.")
    input_mode: str | None = Field(
        default=None,
        alias="inputMode",
        max_length=256,
        description="Input media type.",
        json_schema_extra=FILTER_SCHEMA,
    )
    output_mode: str | None = Field(
        default=None,
        alias="outputMode",
        max_length=256,
        description="Output media type.",
        json_schema_extra=FILTER_SCHEMA,
    )
    tag: str | None = Field(
        default=None, max_length=256, description="Skill tag.", json_schema_extra=FILTER_SCHEMA
    )
    q: str | None = Field(
        default=None, max_length=256, description="Full-text query.", json_schema_extra=TEXT_SCHEMA
    )
    limit: int = Field(default=20, ge=1, le=1000, description="Page size (server-capped).")
    cursor: str | None = Field(default=None, max_length=1024, description="Opaque cursor.")

    @classmethod
    def of(cls, request: Request) -> SearchParameters:
        """Validate the request's query string (errors as FastAPI's, under ``query``)."""
        try:
            return cls.model_validate(request.query_params)
        except ValidationError as exc:
            errors = [{**e, "loc": ("query", *e["loc"])} for e in exc.errors(include_url=False)]
            raise RequestValidationError(errors) from None


@router.get(
    "",
    summary="Search agents",
    response_model=AgentList,
    response_model_exclude_none=True,
    responses=problem_responses(400, 422, 429),
    openapi_extra=query_parameters(SearchParameters),
)
async def search_agents(request: Request) -> Response:
    """Return one page of agents matching every given filter, ordered by DID.

    The page is written straight to JSON (:func:`agent_list_json`) rather than returned as
    an :class:`AgentList` for FastAPI to re-validate and serialise: on the registry's
    busiest route that round trip cost more than the store query.
    """
    # The query string is validated by one model in one call, not declared parameter by
    # parameter: FastAPI resolves declared parameters one at a time on every request,
    # about 0.1 ms of CPU for these eight. The OpenAPI document lists the same parameters.
    ctx = context_of(request)
    params = SearchParameters.of(request)
    inner = ctx.cursors.open(_SEARCH_CURSOR, params.cursor)  # forged: 400 invalid-cursor
    query = search_query(
        params, limit=min(params.limit, ctx.settings.search_max_limit), cursor=inner
    )
    try:
        page = await ctx.store.search(query)
    except ValueError as exc:
        if params.cursor is None:
            raise
        raise InvalidCursorError(
            f"cursor {params.cursor!r} was not issued by this registry"
        ) from exc
    page = replace(page, next_cursor=ctx.cursors.seal(_SEARCH_CURSOR, page.next_cursor))
    return Response(agent_list_json(page), media_type="application/json")
