"""Self-description, health, readiness, metrics and the OpenAPI document."""

from __future__ import annotations

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from woa_protocol import SigningKey
from woa_registry import REGISTRY_VERSION

from ._support import REGISTRY_KEY, put_agent


@pytest.mark.req("REG-001")
async def test_well_known_description(http: httpx.AsyncClient) -> None:
    response = await http.get("/.well-known/woa-registry.json")
    assert response.status_code == 200
    body = response.json()
    assert body["did"] == REGISTRY_KEY.did
    assert body["version"] == REGISTRY_VERSION
    assert body["apiVersion"] == "v1"
    assert body["endpoints"]["feed"] == "/v1/feed"
    assert body["endpoints"]["agents"] == "/v1/agents"
    assert body["lease"] == {"min": 10, "max": 3600, "default": 60}
    assert body["maxBodyBytes"] == 256 * 1024
    assert body["urlRegistration"] is False
    assert body["mdnsServiceType"] == "_woa-registry._tcp.local."


@pytest.mark.req("REG-080")
async def test_health_and_readiness(http: httpx.AsyncClient) -> None:
    assert (await http.get("/healthz")).json() == {"status": "ok"}
    ready = await http.get("/readyz")
    assert ready.status_code == 200
    assert ready.json() == {"status": "ok"}


@pytest.mark.req("REG-081")
async def test_metrics(http: httpx.AsyncClient) -> None:
    for _ in range(2):
        assert (await put_agent(http, SigningKey.generate())).status_code == 201
    assert (await http.get("/v1/agents/did:key:nope")).status_code == 400
    response = await http.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    families = {f.name: f for f in text_string_to_metric_families(response.text)}
    requests = {
        (s.labels["route"], s.labels["method"], s.labels["status"]): s.value
        for s in families["woa_registry_requests"].samples
        if s.name == "woa_registry_requests_total"
    }
    assert requests[("/v1/agents/{did}", "PUT", "201")] == 2
    assert requests[("/v1/agents/{did}", "GET", "400")] == 1
    assert families["woa_registry_agents"].samples[0].value == 2
    events = {
        s.labels["kind"]: s.value
        for s in families["woa_registry_events"].samples
        if s.name == "woa_registry_events_total"
    }
    assert events == {"registered": 2}
    latency = [
        s for s in families["woa_registry_request_seconds"].samples if s.name.endswith("_count")
    ]
    assert any(s.labels["route"] == "/v1/agents/{did}" for s in latency)


@pytest.mark.req("REG-004")
async def test_openapi_describes_every_endpoint(http: httpx.AsyncClient) -> None:
    doc = (await http.get("/openapi.json")).json()
    paths = doc["paths"]
    assert set(paths["/v1/agents/{did}"]) == {"put", "get", "delete"}
    assert "post" in paths["/v1/agents/{did}/heartbeat"]
    assert "get" in paths["/v1/agents"]
    assert "post" in paths["/v1/search/payload"]
    assert "post" in paths["/v1/agents:fetch"]
    put = paths["/v1/agents/{did}"]["put"]
    body_ref = put["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    assert body_ref == "#/components/schemas/RegisterRequest"
    schemas = doc["components"]["schemas"]
    assert set(schemas["RegisterRequest"]["properties"]) == {"card", "leaseSeconds"}
    problem = put["responses"]["401"]["content"]["application/problem+json"]["schema"]
    assert problem == {"$ref": "#/components/schemas/ProblemDetails"}
    assert "urn:woa:problem:signature-replayed" in put["responses"]["401"]["description"]
    assert "Retry-After" in put["responses"]["429"]["headers"]
    assert {"201", "200"} <= set(put["responses"])
