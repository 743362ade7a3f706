from __future__ import annotations

import base64
from collections.abc import Sequence
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from woa_protocol import (
    DigestMismatchError,
    HttpRequest,
    HttpResponse,
    InvalidSignatureError,
    MessageSigner,
    MessageVerifier,
    MissingSignatureError,
    SignatureExpiredError,
    SignatureNotYetValidError,
    SignatureReplayedError,
    SigningKey,
    content_digest,
    did_url,
)
from woa_protocol.httpsig import (
    DEFAULT_LABEL,
    REQUIRED_REQUEST_COMPONENTS,
    REQUIRED_RESPONSE_COMPONENTS,
    create_signature,
    parse_signatures,
)
from woa_protocol.httpsig.structured import InnerList, Item, serialize_inner_list

from .._support import KEY1, KEY2, Clock

NOW = 1_800_000_000
TRACEPARENT = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
BODY = b'{"jsonrpc":"2.0","id":1,"method":"SendMessage","params":{}}'


def new_request(body: bytes = BODY, **headers: str) -> HttpRequest:
    fields = {"content-type": "application/json"} if body else {}
    fields.update({k.replace("_", "-"): v for k, v in headers.items()})
    return HttpRequest("POST", "https://agent.example/a2a", fields, body)


def signed_request(body: bytes = BODY, key: SigningKey = KEY1, **headers: str) -> HttpRequest:
    request = new_request(body, **headers)
    MessageSigner(key, clock=Clock(NOW)).sign_request(request)
    return request


def verifier(now: float = NOW + 5) -> MessageVerifier:
    return MessageVerifier(clock=Clock(now))


def hand_signed(
    message: HttpRequest | HttpResponse,
    components: Sequence[str | Item],
    params: dict[str, Any],
    *,
    key: SigningKey = KEY1,
    label: str = "woa",
) -> HttpRequest | HttpResponse:
    message.headers.setdefault("content-digest", content_digest(message.body))
    sig_input, signature = create_signature(
        message, key=key, components=components, params=params, label=label
    )
    message.headers["signature-input"] = sig_input
    message.headers["signature"] = signature
    return message


def full_params(key: SigningKey = KEY1, **changes: Any) -> dict[str, Any]:
    params: dict[str, Any] = {
        "created": NOW,
        "expires": NOW + 60,
        "nonce": "n-" + base64.urlsafe_b64encode(key.public.raw[:18]).decode(),
        "keyid": key.did,
        "alg": "ed25519",
    }
    params.update(changes)
    return {k: v for k, v in params.items() if v is not None}


REQUEST_COMPONENTS = ["@method", "@target-uri", "content-digest", "content-type"]


@pytest.mark.req("MSG-001")
@pytest.mark.req("MSG-003")
@pytest.mark.req("ID-003")
def test_request_signature_shape() -> None:
    request = signed_request(traceparent=TRACEPARENT)
    (label, parsed), *_ = parse_signatures(request.headers).items()
    assert label == DEFAULT_LABEL == "woa"
    assert list(parsed.params) == ["created", "expires", "nonce", "keyid", "alg"]
    assert parsed.params["created"] == NOW
    assert parsed.params["expires"] == NOW + 60
    assert parsed.params["keyid"] == KEY1.did  # the bare DID
    assert parsed.params["alg"] == "ed25519"
    nonce = parsed.params["nonce"]
    assert isinstance(nonce, str)
    assert len(base64.urlsafe_b64decode(nonce + "==")) == 16
    # the signer writes its Signature-Input directly; it equals the general serialiser's output
    general = serialize_inner_list(InnerList(parsed.covered.items, parsed.covered.params))
    assert request.headers["signature-input"] == f"woa={general}"


@pytest.mark.req("MSG-001")
def test_nonces_differ_between_requests() -> None:
    first = parse_signatures(signed_request().headers)["woa"].params["nonce"]
    second = parse_signatures(signed_request().headers)["woa"].params["nonce"]
    assert first != second


@pytest.mark.req("MSG-002")
@pytest.mark.parametrize(
    ("body", "headers", "expected"),
    [
        (BODY, {}, [*REQUIRED_REQUEST_COMPONENTS, "content-type"]),
        (
            BODY,
            {"traceparent": TRACEPARENT},
            [*REQUIRED_REQUEST_COMPONENTS, "content-type", "traceparent"],
        ),
        (b"", {"content-type": "text/plain"}, list(REQUIRED_REQUEST_COMPONENTS)),
        (b"", {"traceparent": TRACEPARENT}, [*REQUIRED_REQUEST_COMPONENTS, "traceparent"]),
    ],
)
def test_request_covers_the_required_components(
    body: bytes, headers: dict[str, str], expected: list[str]
) -> None:
    request = signed_request(body, **headers)
    assert REQUIRED_REQUEST_COMPONENTS == ("@method", "@target-uri", "content-digest")
    parsed = parse_signatures(request.headers)["woa"]
    assert parsed.component_ids == [f'"{c}"' for c in expected]
    assert verifier().verify_request(request).did == KEY1.did


@pytest.mark.req("MSG-002")
@pytest.mark.parametrize("left_out", REQUEST_COMPONENTS)
def test_signature_covering_too_little_is_rejected(left_out: str) -> None:
    components = [c for c in REQUEST_COMPONENTS if c != left_out]
    request = hand_signed(new_request(), components, full_params())
    with pytest.raises(InvalidSignatureError, match=f"does not cover {left_out}"):
        verifier().verify_request(request)  # type: ignore[arg-type]


@pytest.mark.req("MSG-002")
def test_components_with_parameters_do_not_count_as_covered() -> None:
    request = new_request()
    request.headers["content-digest"] = content_digest(request.body)
    components = ["@method", "@target-uri", '"content-digest";key="sha-256"', "content-type"]
    hand_signed(request, components, full_params())
    with pytest.raises(InvalidSignatureError, match="does not cover content-digest"):
        verifier().verify_request(request)


@pytest.mark.req("MSG-003")
@pytest.mark.parametrize(
    ("changes", "match"),
    [
        ({"nonce": None}, "nonce"),
        ({"nonce": ""}, "nonce"),
        ({"nonce": 7}, "'nonce' must be a string"),
        ({"created": None}, "created"),
        ({"created": str(NOW)}, "created"),
        ({"created": True}, "created"),
        ({"expires": "later"}, "'expires' must be an integer"),
        ({"keyid": None}, "keyid"),
        ({"alg": "hmac-sha256"}, "unsupported signature algorithm"),
    ],
)
def test_request_parameters_are_checked(changes: dict[str, Any], match: str) -> None:
    request = hand_signed(new_request(), REQUEST_COMPONENTS, full_params(**changes))
    with pytest.raises((InvalidSignatureError, MissingSignatureError), match=match):
        verifier().verify_request(request)  # type: ignore[arg-type]


@pytest.mark.req("MSG-001")
@pytest.mark.req("ID-003")
def test_keyid_may_be_the_dids_own_key_url_but_nothing_else() -> None:
    own = hand_signed(new_request(), REQUEST_COMPONENTS, full_params(keyid=did_url(KEY1.did)))
    assert verifier().verify_request(own).did == KEY1.did  # type: ignore[arg-type]
    for keyid in (f"{KEY1.did}#{KEY2.did[8:]}", f"{KEY1.did}#key-1"):
        other = hand_signed(new_request(), REQUEST_COMPONENTS, full_params(keyid=keyid))
        with pytest.raises(InvalidSignatureError, match="fragment"):
            verifier().verify_request(other)  # type: ignore[arg-type]
    for keyid in ("test-key-ed25519", "did:web:x.example"):
        woa_labelled = hand_signed(new_request(), REQUEST_COMPONENTS, full_params(keyid=keyid))
        with pytest.raises(InvalidSignatureError, match="keyid must be a did:key"):
            verifier().verify_request(woa_labelled)  # type: ignore[arg-type]
        other_label = hand_signed(
            new_request(), REQUEST_COMPONENTS, full_params(keyid=keyid), label="sig1"
        )
        with pytest.raises(MissingSignatureError, match="expected one signature by a did:key"):
            verifier().verify_request(other_label)  # type: ignore[arg-type]


@pytest.mark.req("MSG-001")
def test_label_woa_is_selected_among_several() -> None:
    request = new_request()
    hand_signed(request, ["@method"], full_params(key=KEY2), key=KEY2, label="aaa")
    first = (request.headers["signature-input"], request.headers["signature"])
    del request.headers["signature-input"], request.headers["signature"]
    hand_signed(request, REQUEST_COMPONENTS, full_params())
    request.headers["signature-input"] = f"{first[0]}, {request.headers['signature-input']}"
    request.headers["signature"] = f"{first[1]}, {request.headers['signature']}"
    result = verifier().verify_request(request)
    assert (result.label, result.did) == ("woa", KEY1.did)


@pytest.mark.req("MSG-001")
def test_the_only_did_signature_is_selected_without_label_woa() -> None:
    request = new_request()
    MessageSigner(KEY2, label="sig1", clock=Clock(NOW)).sign_request(request)
    result = verifier().verify_request(request)
    assert (result.label, result.did) == ("sig1", KEY2.did)


@pytest.mark.req("MSG-001")
def test_two_did_signatures_without_label_woa_are_ambiguous() -> None:
    request = new_request()
    hand_signed(request, REQUEST_COMPONENTS, full_params(), label="a")
    first = (request.headers["signature-input"], request.headers["signature"])
    hand_signed(request, REQUEST_COMPONENTS, full_params(key=KEY2), key=KEY2, label="b")
    request.headers["signature-input"] = f"{first[0]}, {request.headers['signature-input']}"
    request.headers["signature"] = f"{first[1]}, {request.headers['signature']}"
    with pytest.raises(MissingSignatureError, match="expected one signature") as info:
        verifier().verify_request(request)
    assert info.value.problem.slug == "signature-missing"


def test_unsigned_request_is_signature_missing() -> None:
    with pytest.raises(MissingSignatureError) as info:
        verifier().verify_request(new_request())
    assert info.value.problem.status == 401


@pytest.mark.req("MSG-004")
def test_content_digest_is_sha256_and_sha512_is_accepted() -> None:
    request = signed_request()
    assert request.headers["content-digest"] == content_digest(BODY)
    assert request.headers["content-digest"].startswith("sha-256=:")
    other = new_request()
    other.headers["content-digest"] = content_digest(BODY, "sha-512")
    hand_signed(other, REQUEST_COMPONENTS, full_params())
    assert verifier().verify_request(other).did == KEY1.did


@pytest.mark.req("MSG-004")
@pytest.mark.req("MSG-006")
def test_changed_body_is_content_digest_mismatch() -> None:
    request = signed_request()
    request.body = BODY.replace(b"SendMessage", b"CancelTask")
    with pytest.raises(DigestMismatchError) as info:
        verifier().verify_request(request)
    assert info.value.problem.slug == "content-digest-mismatch"


@pytest.mark.req("MSG-008")
@pytest.mark.req("RPL-003")
def test_verification_yields_the_did_and_consumes_the_nonce() -> None:
    request = signed_request()
    check = verifier()
    result = check.verify_request(request)
    parsed = parse_signatures(request.headers)["woa"]
    assert result.did == KEY1.did
    assert (result.created, result.expires, result.nonce) == (NOW, NOW + 60, parsed.params["nonce"])
    assert result.signature == parsed.signature
    assert result.covered['"@target-uri"'] == "https://agent.example/a2a"
    with pytest.raises(SignatureReplayedError):
        check.verify_request(request)


@pytest.mark.req("MSG-008")
@pytest.mark.req("RPL-005")
def test_a_forgery_cannot_burn_a_nonce() -> None:
    genuine = hand_signed(new_request(), REQUEST_COMPONENTS, full_params())
    forged = hand_signed(new_request(), REQUEST_COMPONENTS, full_params(), key=KEY2)  # claims KEY1
    check = verifier()
    with pytest.raises(InvalidSignatureError, match="does not verify"):
        check.verify_request(forged)  # type: ignore[arg-type]
    assert len(check.replay_guard) == 0
    assert check.verify_request(genuine).did == KEY1.did  # type: ignore[arg-type]
    assert len(check.replay_guard) == 1


@pytest.mark.req("RPL-005")
def test_a_body_mismatch_does_not_burn_the_nonce() -> None:
    request = signed_request()
    check = verifier()
    request.body = b"tampered"
    with pytest.raises(DigestMismatchError):
        check.verify_request(request)
    request.body = BODY
    check.verify_request(request)


@pytest.mark.req("RPL-001")
@pytest.mark.req("RPL-002")
def test_time_window_is_enforced() -> None:
    request = signed_request()
    with pytest.raises(SignatureNotYetValidError):
        verifier(now=NOW - 31).verify_request(request)
    verifier(now=NOW - 30).verify_request(request)
    verifier(now=NOW + 60 + 30).verify_request(request)
    with pytest.raises(SignatureExpiredError):
        verifier(now=NOW + 60 + 31).verify_request(request)


def response_for(
    request: HttpRequest, body: bytes = b'{"result":{}}', status: int = 200
) -> HttpResponse:
    fields = {"content-type": "application/json"} if body else {}
    return HttpResponse(status, fields, body, request=request)


@pytest.mark.req("MSG-005")
def test_response_is_bound_to_its_request() -> None:
    request = signed_request()
    response = response_for(request)
    added = MessageSigner(KEY2, clock=Clock(NOW + 1)).sign_response(response, "woa")
    assert set(added) == {"content-digest", "signature-input", "signature"}
    parsed = parse_signatures(response.headers)["woa"]
    assert REQUIRED_RESPONSE_COMPONENTS == ("@status", "content-digest")
    assert parsed.component_ids == [
        '"@status"',
        '"content-digest"',
        '"signature";req;key="woa"',
        '"content-type"',
    ]
    assert "nonce" not in parsed.params
    result = verifier().verify_response(response, "woa")
    assert result.did == KEY2.did
    assert result.covered['"signature";req;key="woa"'] == (
        f":{base64.b64encode(parse_signatures(request.headers)['woa'].signature).decode()}:"
    )


@pytest.mark.req("MSG-005")
@pytest.mark.parametrize("label", ["woa", "sig-b21", "x*.y"])
def test_one_signer_binds_to_any_request_label_with_canonical_text(label: str) -> None:
    # the signer caches each covered list it writes; every label gets its own, correctly
    signer = MessageSigner(KEY2, clock=Clock(NOW + 1))
    for _ in range(2):
        request = signed_request()
        request.headers["signature-input"] = request.headers["signature-input"].replace(
            "woa=", f"{label}=", 1
        )
        request.headers["signature"] = request.headers["signature"].replace("woa=", f"{label}=")
        response = response_for(request)
        signer.sign_response(response, label)
        parsed = parse_signatures(response.headers)["woa"]
        general = serialize_inner_list(InnerList(parsed.covered.items, parsed.covered.params))
        assert response.headers["signature-input"] == f"woa={general}"
        assert f'"signature";req;key="{label}"' in parsed.component_ids
        assert verifier().verify_response(response, label).did == KEY2.did


@pytest.mark.req("MSG-005")
def test_response_bound_to_another_request_fails() -> None:
    request = signed_request()
    response = response_for(request)
    MessageSigner(KEY2, clock=Clock(NOW)).sign_response(response, "woa")
    response.request = signed_request()  # same content, another signature (fresh nonce)
    with pytest.raises(InvalidSignatureError, match="does not verify"):
        verifier().verify_response(response, "woa")
    response.request = new_request()  # unsigned
    with pytest.raises(InvalidSignatureError):
        verifier().verify_response(response, "woa")


@pytest.mark.req("MSG-005")
def test_response_must_cover_status_digest_type_and_binding() -> None:
    request = signed_request()
    binding = Item("signature", {"req": True, "key": "woa"})
    complete: list[str | Item] = ["@status", "content-digest", binding, "content-type"]
    for left_out in complete:
        response = response_for(request)
        components = [c for c in complete if c is not left_out]
        hand_signed(response, components, full_params(key=KEY2, nonce=None), key=KEY2)
        with pytest.raises(InvalidSignatureError, match="does not cover"):
            verifier().verify_response(response, "woa")
    response = response_for(request)
    MessageSigner(KEY2, clock=Clock(NOW)).sign_response(response, "woa")
    with pytest.raises(InvalidSignatureError, match="does not cover"):
        verifier().verify_response(response, "other-label")


@pytest.mark.req("MSG-005")
def test_empty_response_body_and_missing_request() -> None:
    request = signed_request()
    response = response_for(request, body=b"", status=204)
    MessageSigner(KEY2, clock=Clock(NOW)).sign_response(response, "woa")
    assert parse_signatures(response.headers)["woa"].component_ids == [
        '"@status"',
        '"content-digest"',
        '"signature";req;key="woa"',
    ]
    assert verifier().verify_response(response, "woa").did == KEY2.did
    with pytest.raises(ValueError, match="signed request"):
        MessageSigner(KEY2).sign_response(HttpResponse(200), "woa")
    with pytest.raises(ValueError, match="signed request"):
        MessageSigner(KEY2).sign_response(HttpResponse(200, request=new_request()), "woa")
    with pytest.raises(ValueError, match=r"response\.request"):
        verifier().verify_response(HttpResponse(200, response.headers), "woa")


@pytest.mark.req("MSG-006")
@pytest.mark.req("MSG-005")
def test_changed_status_fails() -> None:
    request = signed_request()
    response = response_for(request)
    MessageSigner(KEY2, clock=Clock(NOW)).sign_response(response, "woa")
    response.status = 500
    with pytest.raises(InvalidSignatureError):
        verifier().verify_response(response, "woa")


def _flip(text: str, index: int, replacement: str) -> str:
    return text[:index] + replacement + text[index + 1 :]


_visible = st.characters(min_codepoint=0x21, max_codepoint=0x7E)


@pytest.mark.req("MSG-006")
@pytest.mark.req("RPL-005")
@settings(max_examples=60, deadline=None)
@given(
    body=st.binary(max_size=200),
    content_type=st.text(_visible, min_size=1, max_size=20),
    data=st.data(),
)
def test_sign_verify_holds_and_any_one_byte_change_fails(
    body: bytes, content_type: str, data: st.DataObject
) -> None:
    request = signed_request(body, content_type=content_type, traceparent=TRACEPARENT)
    check = verifier()

    def rebuilt(**changes: Any) -> HttpRequest:
        fields = {"method": request.method, "url": request.url, "body": request.body}
        headers = dict(request.headers)
        for name, value in changes.pop("headers", {}).items():
            headers[name] = value
        fields.update(changes)
        return HttpRequest(fields["method"], fields["url"], headers, fields["body"])

    # one byte of the body
    if body:
        index = data.draw(st.integers(0, len(body) - 1))
        new_byte = data.draw(st.integers(0, 255).filter(lambda b: b != body[index]))
        with pytest.raises(DigestMismatchError):
            check.verify_request(rebuilt(body=body[:index] + bytes([new_byte]) + body[index + 1 :]))
    else:  # content-type was not covered (no body): now it must be, so coverage fails first
        with pytest.raises(InvalidSignatureError):
            check.verify_request(rebuilt(body=b"\x00"))
    # one character of a covered header, of the target URI, of the method
    covered = parse_signatures(request.headers)["woa"].component_ids
    fields = [n for n in ("content-type", "traceparent", "content-digest") if f'"{n}"' in covered]
    assert ("content-type" in fields) == bool(body)
    name = data.draw(st.sampled_from(fields))
    value = request.headers[name]
    index = data.draw(st.integers(0, len(value) - 1))
    char = data.draw(_visible.filter(lambda c: c != value[index]))
    with pytest.raises(InvalidSignatureError):
        check.verify_request(rebuilt(headers={name: _flip(value, index, char)}))
    index = data.draw(st.integers(len("https://"), len(request.url) - 1))
    char = data.draw(st.sampled_from("abz/9").filter(lambda c: c != request.url[index]))
    with pytest.raises(InvalidSignatureError):
        check.verify_request(rebuilt(url=_flip(request.url, index, char)))
    with pytest.raises(InvalidSignatureError):
        check.verify_request(rebuilt(method="PUT"))
    # one byte of the signature
    signature = parse_signatures(request.headers)["woa"].signature
    index = data.draw(st.integers(0, len(signature) - 1))
    new_byte = data.draw(st.integers(0, 255).filter(lambda b: b != signature[index]))
    forged = signature[:index] + bytes([new_byte]) + signature[index + 1 :]
    with pytest.raises(InvalidSignatureError, match="does not verify"):
        check.verify_request(
            rebuilt(headers={"signature": f"woa=:{base64.b64encode(forged).decode()}:"})
        )
    # none of the failures burnt the nonce: the untouched request still verifies, once
    assert check.verify_request(rebuilt()).did == KEY1.did
    with pytest.raises(SignatureReplayedError):
        check.verify_request(rebuilt())


def test_verifier_uses_the_replay_guard_it_is_given_even_when_empty() -> None:
    """An empty ReplayGuard is falsy (it has __len__); it must still be the one used."""
    from woa_protocol import ReplayGuard, ReplayPolicy
    from woa_protocol.httpsig import MessageVerifier

    guard = ReplayGuard(ReplayPolicy(max_age=7, clock_skew=1))
    verifier = MessageVerifier(replay_guard=guard)
    assert verifier.replay_guard is guard


@pytest.mark.req("MSG-009")
def test_unbound_response_to_an_unsigned_request() -> None:
    from woa_protocol import HttpRequest, HttpResponse, MessageSigner, MessageVerifier, SigningKey
    from woa_protocol.errors import InvalidSignatureError, SignatureExpiredError
    from woa_protocol.httpsig import parse_signatures

    server = SigningKey.generate()
    request = HttpRequest("GET", "http://registry.test/v1/agents")
    response = HttpResponse(200, {"content-type": "application/json"}, b"[]", request=request)
    MessageSigner(server).sign_reply(response)
    assert response.request is None  # nothing to bind to
    parsed = parse_signatures(response.headers)["woa"]
    assert parsed.component_ids == ['"@status"', '"content-digest"', '"content-type"']
    assert "nonce" not in parsed.params
    assert MessageVerifier().verify_response(response, expected_did=server.did).did == server.did
    with pytest.raises(InvalidSignatureError, match="expected"):
        MessageVerifier().verify_response(response, expected_did=SigningKey.generate().did)
    with pytest.raises(ValueError, match="expected DID"):
        MessageVerifier().verify_response(response)
    stale = HttpResponse(204)
    MessageSigner(server, clock=lambda: 1_000_000_000.0).sign_response(stale)
    with pytest.raises(SignatureExpiredError):
        MessageVerifier().verify_response(stale, expected_did=server.did)


@pytest.mark.req("MSG-009")
def test_reply_to_a_request_with_uncoverable_signature_fields_is_signed_unbound() -> None:
    from woa_protocol import HttpRequest, HttpResponse, MessageSigner, MessageVerifier, SigningKey

    server = SigningKey.generate()
    request = HttpRequest(
        "POST",
        "http://a.test/",
        {"signature-input": 'woa=("@method");keyid="did:key:z6Mk"', "signature": "woa=?1"},
        b"{}",
    )
    response = HttpResponse(
        401, {"content-type": "application/problem+json"}, b"{}", request=request
    )
    MessageSigner(server).sign_reply(response)
    assert MessageVerifier().verify_response(response, expected_did=server.did).did == server.did


@pytest.mark.req("MSG-010")
def test_stream_head_signature_binds_without_a_digest() -> None:
    from woa_protocol import HttpRequest, HttpResponse, MessageSigner, MessageVerifier, SigningKey
    from woa_protocol.errors import InvalidSignatureError
    from woa_protocol.httpsig import parse_signatures

    caller, agent = SigningKey.generate(), SigningKey.generate()
    request = HttpRequest("POST", "http://a.test/", {"content-type": "application/json"}, b"{}")
    MessageSigner(caller).sign_request(request)
    head = HttpResponse(200, {"content-type": "text/event-stream"}, request=request)
    MessageSigner(agent).sign_reply(head, stream=True)
    assert "content-digest" not in head.headers
    ids = parse_signatures(head.headers)["woa"].component_ids
    assert ids == ['"@status"', '"content-type"', '"signature";req;key="woa"']
    verified = MessageVerifier().verify_response(head, "woa", expected_did=agent.did, stream=True)
    assert verified.did == agent.did
    other = HttpRequest("POST", "http://a.test/", {"content-type": "application/json"}, b"{}")
    MessageSigner(caller).sign_request(other)
    head.request = other
    with pytest.raises(InvalidSignatureError):
        MessageVerifier().verify_response(head, "woa", expected_did=agent.did, stream=True)
