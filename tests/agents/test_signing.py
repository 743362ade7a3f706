"""The agent's signing policy, and the response forms it uses (unbound, stream head)."""

from __future__ import annotations

import time

import pytest

from woa_agents import RpcError, SignaturePolicy
from woa_agents.signing import RequestVerifier
from woa_protocol import (
    HttpRequest,
    HttpResponse,
    InvalidSignatureError,
    MessageSigner,
    MessageVerifier,
    SignatureExpiredError,
    SigningKey,
    WoaError,
)
from woa_protocol.httpsig import request_signature_label

AGENT, CALLER = SigningKey.generate(), SigningKey.generate()


def signed_request(key: SigningKey = CALLER) -> HttpRequest:
    request = HttpRequest("POST", "http://a.test/", {"content-type": "application/json"}, b"{}")
    MessageSigner(key).sign_request(request)
    return request


@pytest.mark.req("AGT-032")
def test_policy_matrix() -> None:
    SignaturePolicy().check(CALLER.did)
    SignaturePolicy(require_signatures=False).check(None)
    with pytest.raises(RpcError) as unsigned:
        SignaturePolicy().check(None)
    assert (unsigned.value.code, unsigned.value.http_status) == (-32050, 401)
    with pytest.raises(RpcError) as denied:
        SignaturePolicy(deny={CALLER.did}).check(CALLER.did)
    assert (denied.value.code, denied.value.http_status) == (-32051, 403)
    with pytest.raises(RpcError):
        SignaturePolicy(allow={AGENT.did}).check(CALLER.did)
    SignaturePolicy(allow={CALLER.did}).check(CALLER.did)


@pytest.mark.req("AGT-030")
def test_verifier_consumes_nonces_once() -> None:
    verifier = RequestVerifier()
    request = signed_request()
    verified = verifier.verify(request)
    assert verified is not None
    assert verified.did == CALLER.did
    with pytest.raises(RpcError) as replay:
        verifier.verify(request)
    assert replay.value.reason == "SIGNATURE_REPLAYED"
    assert request_signature_label(request.headers) == "woa"
    assert request_signature_label({}) is None


@pytest.mark.req("AGT-033")
def test_unbound_response_round_trip_and_tamper() -> None:
    response = HttpResponse(200, {"content-type": "application/json"}, b'{"ok":true}')
    MessageSigner(AGENT).sign_reply(response)
    MessageVerifier().verify_response(response, expected_did=AGENT.did)
    with pytest.raises(InvalidSignatureError, match="expected"):
        MessageVerifier().verify_response(response, expected_did=CALLER.did)
    tampered = HttpResponse(response.status, dict(response.headers), b'{"ok":false}')
    with pytest.raises(WoaError):
        MessageVerifier().verify_response(tampered, expected_did=AGENT.did)
    old = HttpResponse(200, {"content-type": "application/json"}, b"{}")
    MessageSigner(AGENT, clock=lambda: time.time() - 3600).sign_reply(old)
    with pytest.raises(SignatureExpiredError):
        MessageVerifier().verify_response(old, expected_did=AGENT.did)


@pytest.mark.req("AGT-034")
def test_stream_head_is_bound_to_its_request() -> None:
    request = signed_request()
    head = HttpResponse(200, {"content-type": "text/event-stream"}, request=request)
    MessageSigner(AGENT).sign_reply(head, stream=True)
    assert "content-digest" not in head.headers
    verifier = MessageVerifier()
    verifier.verify_response(head, "woa", expected_did=AGENT.did, stream=True)
    other = HttpResponse(200, dict(head.headers), request=signed_request())
    with pytest.raises(InvalidSignatureError):
        verifier.verify_response(other, "woa", expected_did=AGENT.did, stream=True)
    unbound = HttpResponse(200, {"content-type": "text/event-stream"})
    MessageSigner(AGENT).sign_reply(unbound, stream=True)
    unbound.request = request
    with pytest.raises(InvalidSignatureError, match="does not cover"):
        verifier.verify_response(unbound, "woa", expected_did=AGENT.did, stream=True)
