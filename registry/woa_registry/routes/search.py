"""``POST /v1/search/payload``: find the skills that accept a JSON instance."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from fastapi import APIRouter, Request

from woa_protocol import SchemaError
from woa_protocol.models import ModelFamily
from woa_protocol.validation import validator_for

from ..body import json_body, parse_json, parse_model, read_body
from ..context import RegistryContext, context_of
from ..models import PayloadMatch, PayloadSearchRequest, PayloadSearchResult, search_query
from ..storage.base import MAX_SEARCH_LIMIT, SearchQuery, SkillEntry
from .openapi import problem_responses

__all__ = ["payload_matches", "router"]

router = APIRouter(prefix="/v1/search", tags=["search"])

PAGE = MAX_SEARCH_LIMIT
"""Agents read from the store per page while scanning."""


def base_has_skill_filter(query: SearchQuery) -> bool:
    """Return True when the query filters skills (then only matching skills count)."""
    return any(
        v is not None
        for v in (query.skill, query.family, query.input_mode, query.output_mode, query.tag)
    )


def _accepts(schema: dict[str, Any], payload: Any) -> bool:
    try:
        return validator_for(schema).is_valid(payload)
    except SchemaError:  # a stored schema that no longer checks accepts nothing
        return False


def _match(did: str, skill: SkillEntry) -> PayloadMatch:
    return PayloadMatch(
        did=did,
        skill_id=skill.skill_id,
        skill_name=skill.name,
        family=ModelFamily(skill.family) if skill.family else None,
        output_schema=skill.output_schema,
    )


@router.post(
    "/payload",
    summary="Find the skills whose input schema accepts a payload",
    response_model=PayloadSearchResult,
    response_model_exclude_none=True,
    responses=problem_responses(400, 413, 422, 429),
    openapi_extra=json_body(PayloadSearchRequest),
)
async def search_payload(request: Request) -> PayloadSearchResult:
    """Validate the payload against each candidate skill's input schema (Draft 2020-12).

    Agents are scanned in DID order, a page at a time, up to ``payload_search_max_scan``
    agents; ``truncated`` says when the limit or the scan bound cut the answer short.
    """
    ctx = context_of(request)
    body = await read_body(request, ctx.settings.max_body_bytes)
    req = parse_model(parse_json(body), PayloadSearchRequest)
    return await payload_matches(ctx, req)


async def payload_matches(ctx: RegistryContext, req: PayloadSearchRequest) -> PayloadSearchResult:
    """The skills whose input schema accepts ``req.payload`` (the route's work, reused by /ui)."""
    cap = ctx.settings.payload_search_max_results
    limit = min(req.limit or cap, cap)
    base = search_query(req, limit=PAGE)
    matches: list[PayloadMatch] = []
    truncated = False
    cursor: str | None = None
    scanned = 0
    while not truncated:
        page = await ctx.store.search(replace(base, cursor=cursor))
        for record in page.agents:
            wanted = page.matched_skills.get(record.did) if base_has_skill_filter(base) else None
            for skill in record.skills:
                if skill.input_schema is None or (
                    wanted is not None and skill.skill_id not in wanted
                ):
                    continue
                if not _accepts(skill.input_schema, req.payload):
                    continue
                if len(matches) == limit:
                    truncated = True
                    break
                matches.append(_match(record.did, skill))
            if truncated:
                break
        scanned += len(page.agents)
        cursor = page.next_cursor
        if cursor is None:
            break
        if scanned >= ctx.settings.payload_search_max_scan:
            truncated = True
    return PayloadSearchResult(matches=matches, truncated=truncated)
