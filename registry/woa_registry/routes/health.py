"""``/healthz``, ``/readyz`` and ``/metrics``."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST

from ..context import context_of
from ..models import HealthView

__all__ = ["router"]

router = APIRouter(tags=["operations"])


@router.get(
    "/healthz", summary="Liveness", response_model=HealthView, response_model_exclude_none=True
)
async def healthz() -> HealthView:
    """Answer while the process serves requests."""
    return HealthView(status="ok")


@router.get(
    "/readyz",
    summary="Readiness: the store answers",
    response_model=HealthView,
    responses={503: {"description": "Store unreachable", "model": HealthView}},
)
async def readyz(request: Request) -> Response:
    """Answer 200 when the store answers a query, 503 otherwise."""
    ctx = context_of(request)
    if not ctx.ready:
        return JSONResponse(HealthView(status="starting").to_json_dict(), status_code=503)
    try:
        await ctx.store.last_seq()
    except Exception as exc:  # any store failure means not ready
        body = HealthView(status="unavailable", detail=type(exc).__name__)
        return JSONResponse(body.to_json_dict(), status_code=503)
    return JSONResponse(HealthView(status="ok").to_json_dict())


@router.get(
    "/metrics",
    summary="Prometheus metrics",
    response_class=Response,
    responses={200: {"content": {CONTENT_TYPE_LATEST.split(";")[0]: {}}}},
)
async def metrics(request: Request) -> Response:
    """Return the metrics in the Prometheus text format."""
    ctx = context_of(request)
    ctx.metrics.agents.set(await ctx.store.count())
    return Response(ctx.metrics.render(), media_type=CONTENT_TYPE_LATEST)
