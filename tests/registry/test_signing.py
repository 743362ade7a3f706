"""The registry signs every response; bound to the request's signature when there is one."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest
from fastapi import FastAPI

from woa_protocol import (
    DigestMismatchError,
    HttpRequest,
    HttpResponse,
    InvalidSignatureError,
    MessageSigner,
    MessageVerifier,
    SigningKey,
)
from woa_protocol.httpsig import parse_signatures

from ._support import BASE, REGISTRY_KEY, make_card, put_agent, signed


def _response(r: httpx.Response, *, bind: bool) -> HttpResponse:
    message = HttpResponse(status=r.status_code, headers=dict(r.headers), body=r.content)
    if bind:
        message.request = HttpRequest(r.request.method, str(r.request.url), dict(r.request.headers))
    return message


@pytest.mark.req("REG-002")
async def test_unsigned_request_gets_an_unbound_signed_response(http: httpx.AsyncClient) -> None:
    response = await http.get("/v1/agents")
    message = _response(response, bind=False)
    verified = MessageVerifier().verify_response(message, expected_did=REGISTRY_KEY.did)
    assert verified.did == REGISTRY_KEY.did
    parsed = parse_signatures(message.headers)["woa"]
    assert parsed.component_ids == ['"@status"', '"content-digest"', '"content-type"']
    assert set(parsed.params) == {"created", "expires", "keyid", "alg"}
    assert parsed.params["alg"] == "ed25519"


@pytest.mark.req("REG-002")
async def test_tampered_response_fails(http: httpx.AsyncClient) -> None:
    response = await http.get("/healthz")
    message = _response(response, bind=False)
    message.body = message.body.replace(b"ok", b"no")
    with pytest.raises(DigestMismatchError):
        MessageVerifier().verify_response(message, expected_did=REGISTRY_KEY.did)
    message = _response(response, bind=False)
    message.status = 201
    with pytest.raises(InvalidSignatureError):
        MessageVerifier().verify_response(message, expected_did=REGISTRY_KEY.did)
    with pytest.raises(InvalidSignatureError):
        MessageVerifier().verify_response(
            _response(response, bind=False), expected_did=SigningKey.generate().did
        )


@pytest.mark.req("REG-003")
async def test_signed_request_gets_a_bound_response(http: httpx.AsyncClient) -> None:
    key = SigningKey.generate()
    response = await put_agent(http, key)
    assert response.status_code == 201
    message = _response(response, bind=True)
    verified = MessageVerifier().verify_response(message, "woa")
    assert verified.did == REGISTRY_KEY.did
    assert '"signature";req;key="woa"' in parse_signatures(message.headers)["woa"].component_ids
    # the same response does not verify as the answer to another request
    _, other = signed(key, "PUT", f"/v1/agents/{key.did}", {"card": {}})
    assert message.request is not None
    message.request.headers.update(other)
    with pytest.raises(InvalidSignatureError):
        MessageVerifier().verify_response(message, "woa")


@pytest.mark.req("REG-003")
async def test_refused_signed_request_is_still_bound(http: httpx.AsyncClient) -> None:
    key, other = SigningKey.generate(), SigningKey.generate()
    content, headers = signed(other, "PUT", f"/v1/agents/{key.did}", {"card": {}})
    response = await http.put(f"/v1/agents/{key.did}", content=content, headers=headers)
    assert response.status_code == 403
    assert MessageVerifier().verify_response(_response(response, bind=True), "woa").did == (
        REGISTRY_KEY.did
    )


@pytest.mark.req("REG-002")
def test_unbound_helper_round_trip() -> None:
    key = SigningKey.generate()
    message = HttpResponse(status=204)
    added = MessageSigner(key, clock=lambda: 1_700_000_000.0).sign_response(message)
    assert added["content-digest"].startswith("sha-256=:")
    assert "expires=1700000060" in added["signature-input"]
    with pytest.raises(Exception, match="expired"):
        MessageVerifier().verify_response(message, expected_did=key.did)


@pytest.mark.req("REG-010")
async def test_behind_a_proxy_signatures_cover_the_public_url(
    make_app: Callable[..., FastAPI],
) -> None:
    app = make_app(public_url="https://public.example")
    key = SigningKey.generate()
    path = f"/v1/agents/{key.did}"
    body = {"card": make_card(key)}
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=BASE) as http,
    ):
        content, headers = signed(key, "PUT", path, body)  # signed for the internal URL
        refused = await http.put(path, content=content, headers=headers)
        assert refused.json()["type"] == "urn:woa:problem:signature-invalid"
        content, headers = signed(key, "PUT", path, body, base="https://public.example")
        accepted = await http.put(path, content=content, headers=headers)
        assert accepted.status_code == 201, accepted.text
