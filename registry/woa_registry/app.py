"""The registry app factory: ``create_app(settings)`` returns a ready FastAPI application."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from importlib.metadata import PackageNotFoundError
from importlib.metadata import version as package_version
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.utils import get_openapi
from fastapi.responses import JSONResponse
from fastapi_offline import FastAPIOffline
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match
from starlette.types import Scope

from woa_protocol import SigningKey, WoaError
from woa_protocol.models import ProblemDetails

from .context import RegistryContext, utcnow
from .db.urls import shared_database
from .limits import TokenBucketLimiter
from .mdns import RegistryAdvertiser
from .metrics import MetricsMiddleware, RegistryMetrics
from .middleware import (
    AddressRateLimitMiddleware,
    BodyLimitMiddleware,
    HeaderLimitMiddleware,
    HostCheckMiddleware,
    InternalErrorMiddleware,
    problem_response,
)
from .models import FetchRequest, HeartbeatRequest, PayloadSearchRequest, RegisterRequest
from .problems import InvalidRequestError, MethodNotAllowedError, NotFoundError
from .replay import ReplayPruner, open_replay_store
from .routes import agents, feed, fetch, health, search, wellknown
from .routes.openapi import problem_responses
from .settings import RegistrySettings, load_or_create_key
from .signing import RequestAuthenticator, ResponseSigningMiddleware
from .state import StateRuntime, install_state
from .storage.base import AgentStore, StoreInputError
from .sweeper import LeaseSweeper
from .ui import PagePolicyMiddleware, install_ui

__all__ = ["REGISTRY_VERSION", "create_app"]

log = logging.getLogger(__name__)

try:
    REGISTRY_VERSION = package_version("web-of-agents")
except PackageNotFoundError:  # running from a source tree that was not installed
    REGISTRY_VERSION = "0.0.0"

_BODY_MODELS = (RegisterRequest, HeartbeatRequest, FetchRequest, PayloadSearchRequest)


def _methods_on(routes: list[Any], scope: Scope) -> set[str]:
    methods: set[str] = set()
    for route in routes:
        nested = getattr(route, "effective_candidates", None)  # a router FastAPI included
        if nested is not None:
            methods |= _methods_on(nested(), scope)
            continue
        match, _ = route.matches(scope)
        if match is not Match.NONE:
            methods.update(getattr(route, "methods", None) or ())
    return methods


def _allowed_methods(request: Request) -> list[str]:
    """Every method some route accepts on the request's path (REG-006)."""
    return sorted(_methods_on(request.app.router.routes, request.scope))


def _install_problem_handlers(app: FastAPI) -> None:
    @app.exception_handler(WoaError)
    async def woa_error(request: Request, exc: WoaError) -> JSONResponse:
        return problem_response(exc, request.url.path)

    @app.exception_handler(StoreInputError)
    async def store_input(request: Request, exc: StoreInputError) -> JSONResponse:
        return problem_response(InvalidRequestError(str(exc)), request.url.path)

    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = []
        for error in exc.errors():
            loc = [str(p) for p in error.get("loc", ())]
            errors.append({"path": ".".join(loc), "message": str(error.get("msg", ""))})
        where = ", ".join(e["path"] for e in errors)
        return problem_response(
            InvalidRequestError(f"request does not match its schema at {where}", errors),
            request.url.path,
        )

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        error: WoaError
        if exc.status_code == 404:
            error = NotFoundError(f"no resource at {request.url.path}")
        elif exc.status_code == 405:
            error = MethodNotAllowedError(f"{request.method} is not allowed on {request.url.path}")
            allowed = _allowed_methods(request)
            if allowed:  # every route on the path, not only the first one Starlette tried
                response = problem_response(error, request.url.path)
                response.headers["allow"] = ", ".join(allowed)
                return response
        else:
            return JSONResponse(
                {"type": "about:blank", "status": exc.status_code, "detail": str(exc.detail)},
                status_code=exc.status_code,
                media_type="application/problem+json",
            )
        response = problem_response(error, request.url.path)
        if exc.headers:
            response.headers.update(exc.headers)
        return response


def _openapi(app: FastAPI) -> dict[str, Any]:
    if app.openapi_schema:
        return app.openapi_schema
    schema = get_openapi(
        title=app.title, version=app.version, description=app.description, routes=app.routes
    )
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    # Every operation may answer 400 (two Host lines, MSG-011), 422 (parameters off their
    # schema), 429 (per-address rate) and 500, always as problem+json; FastAPI's own 422
    # (application/json) is replaced.
    common = problem_responses(422, 429, 500)
    for path_item in schema.get("paths", {}).values():
        for operation in path_item.values():
            responses = operation.setdefault("responses", {})
            for status, response in common.items():
                responses[str(status)] = response
            responses.setdefault("400", problem_responses(400)[400])  # ambiguous-host at least
            if "requestBody" in operation:
                responses.setdefault("413", problem_responses(413)[413])
    for unused in ("HTTPValidationError", "ValidationError"):
        components.pop(unused, None)
    for model in (*_BODY_MODELS, ProblemDetails):
        definition = model.model_json_schema(
            by_alias=True, ref_template="#/components/schemas/{model}"
        )
        for name, sub in definition.pop("$defs", {}).items():
            components.setdefault(name, sub)
        components[model.__name__] = definition
    app.openapi_schema = schema
    return schema


def create_app(
    settings: RegistrySettings | None = None,
    *,
    store: AgentStore | None = None,
    key: SigningKey | None = None,
) -> FastAPI:
    """Build the registry app.

    ``store``: use this store (the caller opens and closes it); by default the lifespan
    opens ``settings.database_url`` and closes it on shutdown. ``key``: the registry's
    signing key; by default loaded from (or created at) ``settings.key_file``.
    """
    settings = settings or RegistrySettings()
    key = key or load_or_create_key(settings.key_file)
    owns_store = store is None
    database = shared_database(settings.database_url)  # one pool + listener per replica
    if store is None:
        from .storage import open_store

        store = open_store(settings.database_url, database=database)
    replay_store = open_replay_store(settings.database_url, database=database)
    metrics = RegistryMetrics()
    ctx = RegistryContext(
        settings=settings,
        key=key,
        store=store,
        authenticator=RequestAuthenticator(
            max_age=settings.signature_max_age_seconds,
            clock_skew=settings.clock_skew_seconds,
            public_url=settings.public_url,
            replay_store=replay_store,
        ),
        metrics=metrics,
        did_limiter=TokenBucketLimiter(settings.rate_per_did, settings.burst_per_did),
        address_limiter=TokenBucketLimiter(settings.rate_per_address, settings.burst_per_address),
        version=REGISTRY_VERSION,
    )
    state = StateRuntime.for_registry(settings, ctx.authenticator, key=key, database=database)
    pruner = ReplayPruner(replay_store, settings.sweep_interval_seconds)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if owns_store:
            await ctx.store.open()
        await replay_store.open()
        await state.open()
        pruner.start()
        sweeper = LeaseSweeper(
            ctx.store,
            settings.sweep_interval_seconds,
            clock=utcnow,
            metrics=metrics,
            feed_retention=settings.feed_retention_seconds,
        )
        sweeper.start()
        advertiser: RegistryAdvertiser | None = None
        if settings.mdns_enabled:
            advertiser = RegistryAdvertiser(
                did=ctx.did,
                version=REGISTRY_VERSION,
                host=settings.host,
                port=settings.port,
                interfaces=settings.mdns_interfaces,
            )
            await advertiser.start()
        ctx.ready = True
        try:
            yield
        finally:
            ctx.ready = False
            if advertiser is not None:
                await advertiser.close()
            await sweeper.stop()
            await pruner.stop()
            await state.close()
            await replay_store.close()
            if owns_store:
                await ctx.store.close()

    # /docs and /redoc load Swagger UI and ReDoc from the fastapi-offline package, not a CDN.
    app = FastAPIOffline(
        title="Web of Agents registry",
        version=REGISTRY_VERSION,
        description=(
            "Discovery of signed A2A agents: leases, search, a change feed. Every response "
            f"is signed (RFC 9421) by the registry's did:key; see {wellknown.WELL_KNOWN_PATH}."
        ),
        lifespan=lifespan,
    )
    app.state.registry = ctx
    app.state.settings = settings
    for module in (agents, fetch, search, feed, wellknown, health):
        app.include_router(module.router)
    install_state(app, state)
    if settings.ui_enabled:
        install_ui(app)
    _install_problem_handlers(app)
    app.openapi = lambda: _openapi(app)  # type: ignore[method-assign]
    # Added innermost first: Starlette wraps each new middleware around the previous ones.
    app.add_middleware(PagePolicyMiddleware)
    app.add_middleware(AddressRateLimitMiddleware, limiter=ctx.address_limiter)
    app.add_middleware(BodyLimitMiddleware, max_bytes=settings.max_body_bytes)
    app.add_middleware(HostCheckMiddleware)
    app.add_middleware(InternalErrorMiddleware)
    app.add_middleware(MetricsMiddleware, metrics=metrics)
    app.add_middleware(
        HeaderLimitMiddleware,
        max_bytes=settings.max_header_bytes,
        max_fields=settings.max_header_fields,
    )
    app.add_middleware(
        ResponseSigningMiddleware, key=key, lifetime=settings.response_signature_lifetime_seconds
    )
    return app
