"""Parameters and covered fields the profile requires, refused when absent (MSG-003, MSG-012)."""

from __future__ import annotations

from typing import Any

import pytest

from woa_protocol import HttpResponse, InvalidSignatureError, MessageSigner
from woa_protocol.httpsig import SEMANTIC_REQUEST_FIELDS, parse_signatures

from .._support import KEY1, Clock
from .test_profile import (
    NOW,
    REQUEST_COMPONENTS,
    full_params,
    hand_signed,
    new_request,
    signed_request,
    verifier,
)


@pytest.mark.req("MSG-003")
@pytest.mark.parametrize(
    ("changes", "match"),
    [
        ({"alg": None}, "'alg'"),
        ({"expires": None}, "'expires'"),
        ({"nonce": "x"}, "128 bits"),
        ({"nonce": "0123456789abcdef"}, "128 bits"),  # 64 bits of hex
        ({"nonce": "a" * 21}, "128 bits"),
        ({"nonce": "a" * 257}, "128 bits"),
        ({"nonce": "has spaces in it, 22+ chars"}, "128 bits"),
    ],
)
def test_missing_alg_or_expires_and_short_nonces_are_refused(
    changes: dict[str, Any], match: str
) -> None:
    request = hand_signed(new_request(), REQUEST_COMPONENTS, full_params(**changes))
    with pytest.raises(InvalidSignatureError, match=match):
        verifier().verify_request(request)  # type: ignore[arg-type]


@pytest.mark.req("MSG-003")
@pytest.mark.parametrize("nonce", ["a" * 22, "A-_" * 10, "q9rYPRKnz4CJizK0DW7lfg==", "a" * 256])
def test_nonces_of_128_bits_or_more_are_accepted(nonce: str) -> None:
    request = hand_signed(new_request(), REQUEST_COMPONENTS, full_params(nonce=nonce))
    assert verifier().verify_request(request).nonce == nonce  # type: ignore[arg-type]


@pytest.mark.req("MSG-003")
def test_unbound_responses_need_expires_and_alg() -> None:
    for changes in ({"expires": None}, {"alg": None}):
        response = HttpResponse(200, {"content-type": "text/plain"}, b"ok")
        params = full_params(nonce=None, **changes)
        hand_signed(response, ["@status", "content-digest", "content-type"], params)
        with pytest.raises(InvalidSignatureError, match="has no"):
            verifier().verify_response(response, expected_did=KEY1.did)


@pytest.mark.req("MSG-012")
@pytest.mark.parametrize("field", SEMANTIC_REQUEST_FIELDS)
def test_semantic_fields_are_covered_by_the_signer_and_required_by_the_verifier(
    field: str,
) -> None:
    for body in (b"", b'{"a":1}'):
        request = signed_request(body, **{field.replace("-", "_"): '"1"'})
        parsed = parse_signatures(request.headers)["woa"]
        assert field in [item.value for item in parsed.covered.items]
        assert verifier().verify_request(request).covered[f'"{field}"'] == '"1"'
        changed = signed_request(body, **{field.replace("-", "_"): '"1"'})
        changed.headers[field] = "*"  # changed in transit
        with pytest.raises(InvalidSignatureError):
            verifier().verify_request(changed)
    omitted = hand_signed(
        new_request(**{field.replace("-", "_"): "*"}), REQUEST_COMPONENTS, full_params()
    )
    with pytest.raises(InvalidSignatureError, match=f"does not cover {field}"):
        verifier().verify_request(omitted)  # type: ignore[arg-type]


@pytest.mark.req("MSG-012")
def test_a_request_without_those_fields_needs_no_more_coverage() -> None:
    request = new_request()
    MessageSigner(KEY1, clock=Clock(NOW)).sign_request(request)
    covered = [i.value for i in parse_signatures(request.headers)["woa"].covered.items]
    assert not set(covered) & set(SEMANTIC_REQUEST_FIELDS)
    assert verifier().verify_request(request).did == KEY1.did
