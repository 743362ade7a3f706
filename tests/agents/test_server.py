"""The agent's HTTP surface: card with caching headers, health, metrics, signed responses."""

from __future__ import annotations

import json

import httpx
import pytest

from woa_protocol import HttpRequest, HttpResponse, MessageVerifier, verify_card
from woa_protocol.httpsig import normalize_headers

from .conftest import RawCaller, message

CARD = "http://agent.test/.well-known/agent-card.json"


def as_message(response: httpx.Response) -> HttpResponse:
    return HttpResponse(
        response.status_code, normalize_headers(response.headers.multi_items()), response.content
    )


@pytest.mark.req("AGT-002")
@pytest.mark.req("AGT-033")
async def test_card_is_signed_cached_and_answers_304(raw: RawCaller) -> None:
    response = await raw.http.get(CARD)
    assert response.status_code == 200
    assert "max-age" in response.headers["cache-control"]
    etag = response.headers["etag"]
    assert etag.startswith('"')
    assert etag.endswith('"')
    card = response.json()
    ext = next(
        e for e in card["capabilities"]["extensions"] if e["uri"] == "urn:woa:ext:agent-card:v1"
    )
    did = ext["params"]["did"]
    assert [v.did for v in verify_card(card, expected_did=did)] == [did]
    MessageVerifier().verify_response(as_message(response), expected_did=did)
    cached = await raw.http.get(CARD, headers={"if-none-match": etag})
    assert cached.status_code == 304
    assert cached.content == b""
    MessageVerifier().verify_response(as_message(cached), expected_did=did)
    other = await raw.http.get(CARD, headers={"if-none-match": '"other"'})
    assert other.status_code == 200


@pytest.mark.req("AGT-033")
async def test_health_and_metrics(raw: RawCaller) -> None:
    health = await raw.http.get("http://agent.test/healthz")
    assert health.json() == {"status": "ok"}
    assert "signature" in health.headers
    await raw.rpc("SendMessage", {"message": message("echo", {"text": "m"})})
    await raw.rpc("Nope", {})
    metrics = (await raw.http.get("http://agent.test/metrics")).text
    assert 'woa_agent_requests_total{method="SendMessage",outcome="ok"} 1.0' in metrics
    assert 'outcome="METHOD_NOT_FOUND"' in metrics
    assert "woa_agent_request_seconds_bucket" in metrics


@pytest.mark.req("AGT-033")
async def test_unknown_paths_and_methods_are_signed_problems(raw: RawCaller) -> None:
    card = (await raw.http.get(CARD)).json()
    did = next(e for e in card["capabilities"]["extensions"] if "woa" in e["uri"])["params"]["did"]
    missing = await raw.http.get("http://agent.test/nope")
    assert missing.status_code == 404
    assert missing.headers["content-type"] == "application/problem+json"
    MessageVerifier().verify_response(as_message(missing), expected_did=did)
    wrong = await raw.http.get("http://agent.test/")
    assert wrong.status_code == 405
    MessageVerifier().verify_response(as_message(wrong), expected_did=did)


@pytest.mark.req("MSG-011")
async def test_two_host_lines_are_refused_on_every_route(raw: RawCaller) -> None:
    card = (await raw.http.get(CARD)).json()
    did = next(e for e in card["capabilities"]["extensions"] if "woa" in e["uri"])["params"]["did"]
    body = json.dumps(
        {
            "jsonrpc": "2.0",
            "id": 7,
            "method": "SendMessage",
            "params": {"message": message("echo", {"text": "x"})},
        }
    ).encode()
    headers = raw.signed_headers(body)
    two = [*headers.items(), ("host", "agent.test"), ("host", "evil.test")]
    refused = await raw.http.post(raw.url, content=body, headers=two)
    assert refused.status_code == 400
    error = refused.json()["error"]
    assert error["code"] == -32600
    assert error["data"][0]["reason"] == "AMBIGUOUS_HOST"
    assert error["data"][0]["metadata"]["type"] == "urn:woa:problem:ambiguous-host"
    signed_request = HttpRequest("POST", raw.url, headers, body)
    answer = as_message(refused)
    answer.request = signed_request
    MessageVerifier().verify_response(answer, expected_did=did)  # a refusal is signed too
    problem = await raw.http.get(CARD, headers=[("host", "agent.test"), ("host", "evil.test")])
    assert problem.status_code == 400
    assert problem.headers["content-type"] == "application/problem+json"
    assert problem.json()["type"] == "urn:woa:problem:ambiguous-host"
    MessageVerifier().verify_response(as_message(problem), expected_did=did)
    served = await raw.rpc("SendMessage", {"message": message("echo", {"text": "y"})})
    assert served["result"]["task"]["status"]["state"] == "TASK_STATE_COMPLETED"
