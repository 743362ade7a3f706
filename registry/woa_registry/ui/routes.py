"""``/ui``: the registry's dashboard, server-rendered HTML over the registry's own stores.

Read-only and public (REG-100): it shows what an unsigned ``GET`` of the REST API would
show (agents, namespaces with public read), nothing more. The one write, the try-it panel,
is off unless the operator names a key (REG-102). The live agent list is a small script
listening on the registry's own change feed (``/v1/feed``), every asset ships in the
package (REG-101).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from jinja2 import Environment, PackageLoader, select_autoescape
from pydantic import ValidationError

from woa_protocol import SigningKey, WoaError
from woa_protocol.keyfile import load_key
from woa_protocol.models import TRAIL_KEY_PREFIX

from ..context import RegistryContext, context_of
from ..models import PayloadSearchRequest
from ..routes.search import payload_matches
from ..state.runtime import runtime_of
from ..storage.base import MAX_SEARCH_LIMIT, AgentRecord, SearchQuery, StoreInputError
from .forms import form_fields, payload_from_form
from .views import card_view, history_rows, pretty_json, trail_view

__all__ = [
    "STATIC_PATH",
    "agent_page",
    "agent_rows",
    "agents_page",
    "document_page",
    "documents_page",
    "home",
    "install_ui",
    "namespaces_page",
    "router",
    "try_skill",
]

STATIC_PATH = Path(__file__).parent / "static"
"""The dashboard's CSS and script, served at ``/ui/static``."""

router = APIRouter(prefix="/ui", include_in_schema=False)

_env = Environment(
    loader=PackageLoader("woa_registry.ui", "templates"),
    autoescape=select_autoescape(default=True),
    trim_blocks=True,
    lstrip_blocks=True,
)
_env.filters["json"] = pretty_json
templates = Jinja2Templates(env=_env)

PAGE_SIZE = MAX_SEARCH_LIMIT


def _page(request: Request, name: str, status: int = 200, **context: Any) -> HTMLResponse:
    ctx = context_of(request)
    context.setdefault("registry_did", ctx.did)
    context.setdefault("version", ctx.version)
    return templates.TemplateResponse(request, name, context, status_code=status)


def _error(request: Request, status: int, title: str, message: str) -> HTMLResponse:
    return _page(request, "error.html", status, title=title, message=message)


def _search_form(request: Request) -> dict[str, str]:
    params = request.query_params
    return {k: params.get(k, "").strip() for k in ("q", "skill", "tag", "payload")}


async def _agents(
    ctx: RegistryContext, form: dict[str, str]
) -> tuple[list[AgentRecord], dict[str, list[str]]]:
    """Agents matching the form, and for a payload search the skills that accept it."""
    filters = {"skill": form["skill"] or None, "tag": form["tag"] or None, "q": form["q"] or None}
    if form["payload"]:
        try:
            payload = json.loads(form["payload"])
        except json.JSONDecodeError as exc:
            raise ValueError(f"payload is not JSON: {exc.msg} at column {exc.colno}") from None
        result = await payload_matches(ctx, PayloadSearchRequest(payload=payload, **filters))
        skills: dict[str, list[str]] = {}
        for match in result.matches:
            skills.setdefault(match.did, []).append(match.skill_id)
        records = [r for did in skills if (r := await ctx.store.get(did)) is not None]
        return records, skills
    query = SearchQuery(
        skill=filters["skill"], tag=filters["tag"], text=filters["q"], limit=PAGE_SIZE
    )
    page = await ctx.store.search(query)
    return page.agents, page.matched_skills


async def _agent_rows(request: Request) -> tuple[dict[str, Any], int]:
    ctx = context_of(request)
    form = _search_form(request)
    try:
        agents, matched = await _agents(ctx, form)
        error = None
    except (ValueError, StoreInputError, ValidationError, WoaError) as exc:
        agents, matched = [], {}
        error = exc.detail if isinstance(exc, WoaError) else str(exc)
    searching = any(form.values())
    context = {"agents": agents, "matched": matched, "form": form, "error": error}
    return context | {"searching": searching}, 400 if error else 200


@router.get("", response_class=HTMLResponse)
async def home() -> Response:
    """The dashboard starts at the agent list."""
    return RedirectResponse("/ui/agents", status_code=307)


@router.get("/agents", response_class=HTMLResponse)
async def agents_page(request: Request) -> HTMLResponse:
    """Registered agents (kept live by the change feed), with search."""
    context, status = await _agent_rows(request)
    return _page(request, "agents.html", status, **context)


@router.get("/agents/rows", response_class=HTMLResponse)
async def agent_rows(request: Request) -> HTMLResponse:
    """The agent table alone: the live list re-reads it after each feed event."""
    context, status = await _agent_rows(request)
    return _page(request, "_agent_rows.html", status, **context)


async def _record(request: Request, did: str) -> AgentRecord | HTMLResponse:
    record = await context_of(request).store.get(did)
    if record is None:
        return _error(request, 404, "No such agent", f"no agent {did} is registered")
    return record


def _call_key(request: Request) -> SigningKey | None:
    settings = context_of(request).settings
    if settings.ui_call_key_file is None:
        return None
    cached: SigningKey | None = getattr(request.app.state, "ui_call_key", None)
    if cached is None:
        cached = load_key(settings.ui_call_key_file)
        request.app.state.ui_call_key = cached
    return cached


def _card_page(
    request: Request, record: AgentRecord, status: int = 200, **extra: Any
) -> HTMLResponse:
    view = card_view(record)
    forms = {s.id: form_fields(s.input_schema) for s in view.skills}
    key = _call_key(request)
    return _page(
        request,
        "agent.html",
        status,
        card=view,
        forms=forms,
        caller=key.did if key else None,
        raw_card=record.card,
        **extra,
    )


@router.get("/agents/{did}", response_class=HTMLResponse)
async def agent_page(did: str, request: Request) -> HTMLResponse:
    """One agent's verified card: DID, signature status, skills, schemas, hints."""
    record = await _record(request, did)
    if isinstance(record, HTMLResponse):
        return record
    return _card_page(request, record)


def _same_origin(request: Request) -> bool:
    """A form post from this page: browsers send Origin on POST; refuse a foreign one."""
    origin = request.headers.get("origin")
    return origin is None or urlsplit(origin).netloc == request.headers.get("host")


@router.post("/agents/{did}/call", response_class=HTMLResponse)
async def try_skill(did: str, request: Request) -> HTMLResponse:
    """Call one skill of the agent, signed with the operator's key (REG-102)."""
    record = await _record(request, did)
    if isinstance(record, HTMLResponse):
        return record
    key = _call_key(request)
    if key is None:
        return _error(
            request,
            403,
            "Try-it is disabled",
            "set WOA_REGISTRY_UI_CALL_KEY_FILE to a key file to let this page call agents",
        )
    if not _same_origin(request):
        return _error(request, 403, "Refused", "the form was posted from another site")
    ctx = context_of(request)
    body = await request.body()
    if len(body) > ctx.settings.max_body_bytes:
        return _error(request, 413, "Too large", "the form is larger than the registry accepts")
    form = dict(parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True))
    skill = next((s for s in record.skills if s.skill_id == form.get("skill")), None)
    if skill is None:
        return _error(request, 400, "No such skill", f"{did} has no skill {form.get('skill')!r}")
    outcome: dict[str, Any] = {"skill": skill.skill_id}
    try:
        payload = payload_from_form(skill.input_schema, form)
    except ValueError as exc:
        outcome["error"] = str(exc)
        return _card_page(request, record, 400, outcome=outcome)
    outcome["input"] = payload
    from woa_agents import AgentClient  # the SDK's client: signed call, checked answer

    async with AgentClient(key, timeout=30.0) as client:
        try:
            outcome["output"] = await client.call(skill.skill_id, payload, agent=record.url)
        except Exception as exc:  # shown to the operator, who asked for this call
            outcome["error"] = f"{type(exc).__name__}: {exc}"
    return _card_page(request, record, 200 if "output" in outcome else 502, outcome=outcome)


@router.get("/state", response_class=HTMLResponse)
async def namespaces_page(request: Request, after: str = "") -> HTMLResponse:
    """Namespaces anyone may read."""
    store = runtime_of(request).store
    namespaces = await store.public_namespaces(after=after, limit=PAGE_SIZE)
    more = namespaces[-1].name if len(namespaces) == PAGE_SIZE else None
    return _page(request, "namespaces.html", namespaces=namespaces, more=more)


@router.get("/state/{ns}", response_class=HTMLResponse)
async def documents_page(request: Request, ns: str, prefix: str = "") -> HTMLResponse:
    """A public namespace: its ACL and its live documents."""
    service = runtime_of(request).service
    try:
        namespace = await service.namespace(ns, None)
        docs, next_cursor = await service.list_documents(
            ns, None, prefix=prefix, cursor=None, limit=PAGE_SIZE
        )
    except WoaError as exc:
        return _error(request, exc.problem.status, exc.problem.title, exc.detail)
    return _page(
        request,
        "documents.html",
        namespace=namespace,
        docs=docs,
        prefix=prefix,
        truncated=next_cursor is not None,
        trail_prefix=TRAIL_KEY_PREFIX,
    )


@router.get("/state/{ns}/docs/{key:path}", response_class=HTMLResponse)
async def document_page(request: Request, ns: str, key: str) -> HTMLResponse:
    """A document, its signed history re-verified entry by entry, its trail as a tree."""
    service = runtime_of(request).service
    try:
        entries = [
            change.to_json() for change in await service.history(ns, key, None, after=0, limit=1000)
        ]
    except WoaError as exc:
        return _error(request, exc.problem.status, exc.problem.title, exc.detail)
    try:
        document: Any = await service.get(ns, key, None)
    except WoaError:
        document = None  # deleted or expired: its history still shows
    value = document.value if document is not None else None
    return _page(
        request,
        "document.html",
        ns=ns,
        key=key,
        document=document,
        rows=history_rows(entries),
        trail=trail_view(value),
    )


def install_ui(app: FastAPI) -> None:
    """Mount the dashboard and its static files on ``app``."""
    app.include_router(router)
    app.mount("/ui/static", StaticFiles(directory=STATIC_PATH), name="ui-static")
