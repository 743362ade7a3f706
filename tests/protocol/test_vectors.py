"""Reproduce every file in spec/vectors: what another implementation must also reproduce."""

from __future__ import annotations

import base64
import json
import struct
from typing import Any

import pytest

from woa_protocol import (
    CanonicalizationError,
    CardSignatureError,
    HttpRequest,
    HttpResponse,
    InvalidDidError,
    MessageVerifier,
    SigningKey,
    VerifyingKey,
    WoaError,
    canonicalize,
    card_signing_payload,
    content_digest,
    did_url,
    sign_card,
    verify_card,
)
from woa_protocol.httpsig import (
    create_signature,
    parse_signatures,
    signature_base,
    verify_signature,
)
from woa_protocol.httpsig.signatures import parse_component_id
from woa_protocol.httpsig.structured import InnerList
from woa_protocol.identity import public_bytes_from_did

from ._support import VECTOR_DIR, Clock, load_vectors

JCS = load_vectors("jcs.json")
DID_KEY = load_vectors("did-key.json")
RFC9421 = load_vectors("rfc9421.json")
JWS_CARD = load_vectors("jws-card.json")


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def b64url_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def names(cases: list[dict[str, Any]], key: str = "name") -> list[str]:
    return [str(case[key]) for case in cases]


def test_every_vector_file_is_consumed_and_documented() -> None:
    assert sorted(p.name for p in VECTOR_DIR.glob("*.json")) == [
        "did-key.json",
        "jcs.json",
        "jws-card.json",
        "rfc9421.json",
    ]
    for data in (JCS, DID_KEY, RFC9421, JWS_CARD):
        assert data["description"]
        assert data["source"]


# --- jcs.json ----------------------------------------------------------------------------


@pytest.mark.req("JCS-003")
@pytest.mark.req("JCS-001")
@pytest.mark.parametrize("case", JCS["cases"], ids=names(JCS["cases"]))
def test_jcs_cases(case: dict[str, Any]) -> None:
    expected = case["expected"].encode("utf-8")
    assert canonicalize(json.loads(case["input"])) == expected
    # a parser that reads every number as a double gets the same bytes
    assert canonicalize(json.loads(case["input"], parse_int=float)) == expected
    assert canonicalize(json.loads(expected)) == expected  # JCS-005


@pytest.mark.req("JCS-003")
@pytest.mark.parametrize("case", JCS["numbers"], ids=names(JCS["numbers"], "ieee754"))
def test_jcs_number_serialisation(case: dict[str, Any]) -> None:
    (value,) = struct.unpack(">d", bytes.fromhex(case["ieee754"]))
    if "error" in case:
        with pytest.raises(CanonicalizationError) as info:
            canonicalize(value)
        assert info.value.problem.slug == case["error"]
        return
    assert canonicalize(value) == case["expected"].encode()
    assert canonicalize({"n": [value]}) == f'{{"n":[{case["expected"]}]}}'.encode()


@pytest.mark.req("JCS-002")
@pytest.mark.req("JCS-003")
@pytest.mark.parametrize("case", JCS["invalid"], ids=names(JCS["invalid"]))
def test_jcs_invalid(case: dict[str, Any]) -> None:
    with pytest.raises(WoaError) as info:
        canonicalize(json.loads(case["input"]))
    assert isinstance(info.value, CanonicalizationError)
    assert info.value.problem.slug == case["error"]


# --- did-key.json ------------------------------------------------------------------------


@pytest.mark.req("ID-005")
@pytest.mark.req("ID-001")
@pytest.mark.parametrize("case", DID_KEY["cases"], ids=names(DID_KEY["cases"], "did"))
def test_did_key_cases(case: dict[str, Any]) -> None:
    key = SigningKey.from_seed(bytes.fromhex(case["seed"]))
    assert key.public.raw.hex() == case["publicKeyHex"]
    assert key.did == case["did"]
    assert did_url(key.did) == case["didUrl"]
    assert public_bytes_from_did(case["did"]).hex() == case["publicKeyHex"]
    assert VerifyingKey.from_did(case["didUrl"]).did == case["did"]


@pytest.mark.req("ID-005")
@pytest.mark.req("ID-002")
@pytest.mark.parametrize("case", DID_KEY["invalid"], ids=names(DID_KEY["invalid"]))
def test_did_key_invalid(case: dict[str, Any]) -> None:
    with pytest.raises(InvalidDidError) as info:
        VerifyingKey.from_did(case["did"])
    assert info.value.problem.slug == case["error"]


# --- rfc9421.json ------------------------------------------------------------------------

RFC_KEYS = {
    name: SigningKey.from_jwk({k: v for k, v in jwk.items() if k != "did"})
    for name, jwk in RFC9421["keys"].items()
}
SIGNATURES = {case["name"]: case for case in RFC9421["signatures"]}


def test_rfc9421_keys() -> None:
    for name, jwk in RFC9421["keys"].items():
        assert b64url(RFC_KEYS[name].public.raw) == jwk["x"]
        if "did" in jwk:
            assert RFC_KEYS[name].did == jwk["did"]


def build_message(case: dict[str, Any]) -> HttpRequest | HttpResponse:
    if "request" in case:
        spec = case["request"]
        return HttpRequest(spec["method"], spec["url"], spec["headers"], spec["body"].encode())
    spec = case["response"]
    answered = SIGNATURES[case["answers"]]
    request = build_message(answered)
    request.headers["signature-input"] = answered["signature_input"]
    request.headers["signature"] = answered["signature"]
    assert isinstance(request, HttpRequest)
    return HttpResponse(spec["status"], spec["headers"], spec["body"].encode(), request=request)


@pytest.mark.req("MSG-007")
@pytest.mark.parametrize("case", RFC9421["signatures"], ids=names(RFC9421["signatures"]))
def test_rfc9421_signatures_are_reproduced(case: dict[str, Any]) -> None:
    message = build_message(case)
    params = dict(case["params"])
    covered = InnerList([parse_component_id(c) for c in case["components"]], params)
    assert signature_base(covered, message)[0] == case["signature_base"].encode()
    sig_input, signature = create_signature(
        message,
        key=RFC_KEYS[case["key"]],
        components=case["components"],
        params=params,
        label=case["label"],
    )
    assert sig_input == case["signature_input"]
    assert signature == case["signature"]


@pytest.mark.req("MSG-007")
@pytest.mark.parametrize("case", RFC9421["signatures"], ids=names(RFC9421["signatures"]))
def test_rfc9421_signatures_verify(case: dict[str, Any]) -> None:
    message = build_message(case)
    message.headers["signature-input"] = case["signature_input"]
    message.headers["signature"] = case["signature"]
    public = RFC_KEYS[case["key"]].public
    parsed = parse_signatures(message.headers)[case["label"]]
    verify_signature(message, parsed, lambda keyid: public if keyid == case["keyid"] else None)  # type: ignore[arg-type,return-value]
    if "did" not in case:
        return
    # the Web of Agents cases also pass the profile checks at their own time
    check = MessageVerifier(clock=Clock(case["now"]))
    if isinstance(message, HttpRequest):
        result = check.verify_request(message)
    else:
        result = check.verify_response(message, "woa")
    assert result.did == case["did"]
    flipped = bytes([parsed.signature[0] ^ 1]) + parsed.signature[1:]
    message.headers["signature"] = f"{case['label']}=:{base64.b64encode(flipped).decode()}:"
    with pytest.raises(WoaError):
        verify_signature(
            message, parse_signatures(message.headers)[case["label"]], lambda _: public
        )


@pytest.mark.req("MSG-004")
@pytest.mark.parametrize(
    "case", RFC9421["content_digests"], ids=names(RFC9421["content_digests"], "field")
)
def test_rfc9530_content_digests(case: dict[str, Any]) -> None:
    assert content_digest(case["body"].encode(), case["algorithm"]) == case["field"]


# --- jws-card.json -----------------------------------------------------------------------

CARD_KEYS = {
    name: SigningKey.from_seed(bytes.fromhex(k["seed"])) for name, k in JWS_CARD["keys"].items()
}


def test_card_keys() -> None:
    for name, spec in JWS_CARD["keys"].items():
        assert CARD_KEYS[name].did == spec["did"]


@pytest.mark.req("CARD-006")
@pytest.mark.req("CARD-001")
@pytest.mark.parametrize("case", JWS_CARD["cases"], ids=names(JWS_CARD["cases"]))
def test_card_vectors_are_reproduced(case: dict[str, Any]) -> None:
    key = CARD_KEYS[case["key"]]
    payload = card_signing_payload(case["card"])
    assert payload == case["canonical_payload"].encode()
    protected = b64url(
        json.dumps(case["protected_header"], separators=(",", ":"), ensure_ascii=False).encode()
    )
    assert protected == case["protected"]
    assert b64url(key.sign(f"{protected}.{b64url(payload)}".encode())) == case["signature"]
    if case["protected_header"]["alg"] == "EdDSA":  # what sign_card writes
        signed = sign_card(case["card"], key)
        assert signed == case["signed_card"]
        assert signed["signatures"][-1] == {
            "protected": case["protected"],
            "signature": case["signature"],
        }


@pytest.mark.req("CARD-006")
@pytest.mark.req("CARD-004")
@pytest.mark.parametrize("case", JWS_CARD["cases"], ids=names(JWS_CARD["cases"]))
def test_card_vectors_verify(case: dict[str, Any]) -> None:
    assert [v.did for v in verify_card(case["signed_card"])] == case["dids"]


@pytest.mark.req("CARD-006")
@pytest.mark.req("CARD-002")
@pytest.mark.parametrize("case", JWS_CARD["invalid"], ids=names(JWS_CARD["invalid"]))
def test_card_vectors_invalid(case: dict[str, Any]) -> None:
    with pytest.raises(CardSignatureError) as info:
        verify_card(case["card"])
    assert info.value.problem.slug == case["error"]


def test_card_protected_headers_decode_to_the_given_header() -> None:
    for case in JWS_CARD["cases"]:
        assert json.loads(b64url_decode(case["protected"])) == case["protected_header"]
