"""``POST /v1/agents:fetch``: register a plain A2A agent by URL (operator opt-in, unverified)."""

from __future__ import annotations

import hashlib

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from woa_protocol import verify_card

from ..body import json_body, parse_json, parse_model, read_body
from ..context import context_of, utcnow
from ..fetcher import fetch_agent_card
from ..models import AgentView, FetchRequest, RegistrationResult
from ..problems import AgentConflictError, UrlRegistrationDisabledError
from ..records import build_record, parse_card
from ..storage.base import EventKind
from .agents import URL_AGENT_PREFIX
from .openapi import problem_responses

__all__ = ["router", "url_agent_id"]

router = APIRouter(tags=["agents"])


def url_agent_id(card_url: str) -> str:
    """Return the identifier of an agent known only by its card URL."""
    return URL_AGENT_PREFIX + hashlib.sha256(card_url.encode("utf-8")).hexdigest()[:32]


@router.post(
    "/v1/agents:fetch",
    summary="Register a plain A2A agent by URL (unverified)",
    response_model=RegistrationResult,
    response_model_exclude_none=True,
    responses={
        200: {"description": "Updated", "model": RegistrationResult},
        201: {"description": "Registered", "model": RegistrationResult},
        **problem_responses(400, 401, 403, 409, 413, 422, 429, 502),
    },
    openapi_extra=json_body(FetchRequest),
)
async def fetch_agent(request: Request) -> JSONResponse:
    """Fetch ``<url>/.well-known/agent-card.json`` and store the card as unverified.

    A card carrying the Web of Agents extension is stored under its DID, and only when its
    JWS by that DID verifies; any other card is stored under ``urn:woa:url:<hash>``. An agent
    that registered itself (verified) is never overwritten this way.
    """
    ctx = context_of(request)
    s = ctx.settings
    if not s.allow_url_registration:
        raise UrlRegistrationDisabledError("this registry does not accept registration by URL")
    body = await read_body(request, s.max_body_bytes)
    req = parse_model(parse_json(body), FetchRequest)
    now = utcnow()
    lease_until = ctx.lease_until(req.lease_seconds, now)
    raw_card, source = await fetch_agent_card(
        req.url,
        allowlist=s.url_fetch_allowlist,
        timeout=s.url_fetch_timeout_seconds,
        max_bytes=s.max_body_bytes,
    )
    card, extension = parse_card(raw_card, require_extension=False)
    if extension is not None:
        verify_card(raw_card, expected_did=extension.did)
        agent_id = extension.did
    else:
        agent_id = url_agent_id(source)
    existing = await ctx.store.get(agent_id)
    if existing is not None and existing.verified:
        raise AgentConflictError(
            f"{agent_id} registered itself; a URL registration cannot replace it"
        )
    record = build_record(
        agent_id,
        raw_card,
        card,
        extension,
        now=now,
        lease_expires_at=lease_until,
        verified=False,
        source_url=source,
    )
    event = await ctx.store.put(record)
    ctx.metrics.events.labels(event.kind.value).inc()
    stored = await ctx.store.get(agent_id) or record
    result = RegistrationResult(**AgentView.of(stored).model_dump(), event_seq=event.seq)
    status = 201 if event.kind is EventKind.REGISTERED else 200
    return JSONResponse(result.to_json_dict(), status_code=status)
