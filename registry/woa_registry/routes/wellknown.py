"""``/.well-known/woa-registry.json``: the registry describes itself."""

from __future__ import annotations

from fastapi import APIRouter, Request

from ..context import context_of
from ..mdns import REGISTRY_SERVICE_TYPE
from ..models import RegistryDescription

__all__ = ["WELL_KNOWN_PATH", "router"]

WELL_KNOWN_PATH = "/.well-known/woa-registry.json"

router = APIRouter(tags=["registry"])


@router.get(WELL_KNOWN_PATH, summary="Describe this registry", response_model=RegistryDescription)
async def describe(request: Request) -> RegistryDescription:
    """Return the version, the DID that signs every response, endpoints and limits."""
    ctx = context_of(request)
    s = ctx.settings
    return RegistryDescription(
        version=ctx.version,
        did=ctx.did,
        endpoints={
            "agents": "/v1/agents",
            "agent": "/v1/agents/{did}",
            "heartbeat": "/v1/agents/{did}/heartbeat",
            "payloadSearch": "/v1/search/payload",
            "fetch": "/v1/agents:fetch",
            "feed": "/v1/feed",
            "openapi": "/openapi.json",
            "health": "/healthz",
            "ready": "/readyz",
            "metrics": "/metrics",
        },
        lease={
            "min": s.lease_min_seconds,
            "max": s.lease_max_seconds,
            "default": s.lease_default_seconds,
        },
        max_body_bytes=s.max_body_bytes,
        url_registration=s.allow_url_registration,
        mdns_service_type=REGISTRY_SERVICE_TYPE,
    )
