"""Policy and the two signature forms the profile leaves open (unbound, stream head)."""

from __future__ import annotations

import time

import pytest

from woa_agents import RpcError, SignaturePolicy
from woa_agents.signing import (
    RequestVerifier,
    request_label,
    sign_stream_head,
    sign_unbound,
    verify_stream_head,
    verify_unbound,
)
from woa_protocol import (
    HttpRequest,
    HttpResponse,
    InvalidSignatureError,
    MessageSigner,
    ReplayGuard,
    SignatureExpiredError,
    SigningKey,
    WoaError,
)

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
    assert request_label(request.headers) == "woa"
    assert request_label({}) is None


@pytest.mark.req("AGT-033")
def test_unbound_response_round_trip_and_tamper() -> None:
    response = HttpResponse(200, {"content-type": "application/json"}, b'{"ok":true}')
    sign_unbound(AGENT, response)
    verify_unbound(response, AGENT.did)
    with pytest.raises(InvalidSignatureError, match="expected"):
        verify_unbound(response, CALLER.did)
    tampered = HttpResponse(response.status, dict(response.headers), b'{"ok":false}')
    with pytest.raises(WoaError):
        verify_unbound(tampered, AGENT.did)
    old = HttpResponse(200, {"content-type": "application/json"}, b"{}")
    sign_unbound(AGENT, old, now=time.time() - 3600)
    with pytest.raises(SignatureExpiredError):
        verify_unbound(old, AGENT.did)


@pytest.mark.req("AGT-034")
def test_stream_head_is_bound_to_its_request() -> None:
    request = signed_request()
    head = HttpResponse(200, {"content-type": "text/event-stream"}, request=request)
    sign_stream_head(AGENT, head, "woa")
    verify_stream_head(head, AGENT.did, "woa", guard=ReplayGuard())
    other = HttpResponse(200, dict(head.headers), request=signed_request())
    with pytest.raises(InvalidSignatureError):
        verify_stream_head(other, AGENT.did, "woa", guard=ReplayGuard())
    unbound = HttpResponse(200, {"content-type": "text/event-stream"}, request=request)
    sign_stream_head(AGENT, unbound, None)
    with pytest.raises(InvalidSignatureError, match="does not cover"):
        verify_stream_head(unbound, AGENT.did, "woa", guard=ReplayGuard())
