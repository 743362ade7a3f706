from __future__ import annotations

import base64
import copy
import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from woa_protocol import (
    CardSignatureError,
    SigningKey,
    canonicalize,
    card_signing_payload,
    did_from_public_bytes,
    did_url,
    sign_card,
    verify_card,
)
from woa_protocol.cards import CARD_SIGNATURE_ALGORITHMS
from woa_protocol.models import (
    AgentCapabilities,
    AgentCard,
    AgentInterface,
    AgentSkill,
    SkillProfile,
    WoaCardExtension,
    attach_extension,
)

from ._support import KEY1, KEY2, json_values


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def b64url_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def sample_card() -> dict[str, Any]:
    return {
        "name": "Echo",
        "description": "Repeats what it hears",
        "supportedInterfaces": [
            {
                "url": "https://echo.example/a2a",
                "protocolBinding": "JSONRPC",
                "protocolVersion": "1.0",
            }
        ],
        "version": "1.0.0",
        "capabilities": {"streaming": True},
        "defaultInputModes": ["text/plain"],
        "defaultOutputModes": ["text/plain"],
        "skills": [{"id": "echo", "name": "Echo", "description": "echo", "tags": ["demo"]}],
    }


def with_signature(card: dict[str, Any], header: dict[str, Any], key: SigningKey) -> dict[str, Any]:
    """Sign by hand (raw Ed25519 over protected.payload), for headers sign_card never writes."""
    protected = b64url(json.dumps(header).encode())
    signing_input = f"{protected}.{b64url(card_signing_payload(card))}".encode()
    entry = {"protected": protected, "signature": b64url(key.sign(signing_input))}
    return {**card, "signatures": [*card.get("signatures", []), entry]}


@pytest.mark.req("CARD-001")
def test_signature_is_a_detached_jws_over_the_jcs_form_without_signatures() -> None:
    card = sample_card()
    signed = sign_card(card, KEY1)
    assert "signatures" not in card  # the input is not modified
    (entry,) = signed["signatures"]
    assert set(entry) == {"protected", "signature"}
    payload = canonicalize(card)
    assert card_signing_payload(signed) == payload
    signing_input = f"{entry['protected']}.{b64url(payload)}".encode()
    assert KEY1.public.verify(b64url_decode(entry["signature"]), signing_input)
    assert "=" not in entry["protected"] + entry["signature"]


@pytest.mark.req("CARD-001")
def test_unprotected_header_is_kept() -> None:
    signed = sign_card(sample_card(), KEY1, header={"note": "ci"})
    assert signed["signatures"][0]["header"] == {"note": "ci"}
    verify_card(signed)


@pytest.mark.req("CARD-002")
@pytest.mark.req("ID-003")
def test_protected_header_has_alg_typ_and_did_url_kid() -> None:
    signed = sign_card(sample_card(), KEY1)
    header = json.loads(b64url_decode(signed["signatures"][0]["protected"]))
    assert header == {"alg": "EdDSA", "kid": did_url(KEY1.did), "typ": "JOSE"}
    (verified,) = verify_card(signed)
    assert verified.did == KEY1.did
    assert verified.kid == did_url(KEY1.did)
    assert verified.protected_header == header


@pytest.mark.req("CARD-002")
@pytest.mark.parametrize("alg", CARD_SIGNATURE_ALGORITHMS)
def test_verifier_accepts_eddsa_and_ed25519(alg: str) -> None:
    signed = with_signature(sample_card(), {"alg": alg, "kid": did_url(KEY1.did)}, KEY1)
    assert [v.did for v in verify_card(signed)] == [KEY1.did]


@pytest.mark.req("ID-003")
def test_bare_did_kid_is_accepted() -> None:
    signed = with_signature(sample_card(), {"alg": "EdDSA", "kid": KEY1.did}, KEY1)
    assert [v.did for v in verify_card(signed)] == [KEY1.did]


@pytest.mark.req("ID-006")
def test_a_small_order_key_cannot_sign_a_card() -> None:
    # [S]B = R + [k]A holds for every payload when A and R are the identity and S = 0
    identity = bytes([1]) + bytes(31)
    kid = did_from_public_bytes(identity)
    protected = b64url(json.dumps({"alg": "EdDSA", "kid": kid}).encode())
    forged = {"protected": protected, "signature": b64url(identity + bytes(32))}
    with pytest.raises(CardSignatureError, match="small order"):
        verify_card({**sample_card(), "signatures": [forged]})


@pytest.mark.req("CARD-002")
@pytest.mark.parametrize(
    ("header", "match"),
    [
        ({"alg": "HS256", "kid": did_url(KEY1.did)}, "unsupported alg"),
        ({"alg": "none", "kid": did_url(KEY1.did)}, "unsupported alg"),
        ({"alg": "ES256", "kid": did_url(KEY1.did)}, "unsupported alg"),
        ({"kid": did_url(KEY1.did)}, "unsupported alg"),
        ({"alg": "EdDSA", "kid": did_url(KEY1.did), "crit": ["exp"], "exp": 1}, "critical"),
        ({"alg": "EdDSA", "kid": did_url(KEY1.did), "b64": False}, "critical"),
        ({"alg": "EdDSA"}, "no 'kid'"),
        ({"alg": "EdDSA", "kid": 7}, "no 'kid'"),
        ({"alg": "EdDSA", "kid": "https://example.com/key"}, "not a did:key"),
        ({"alg": "EdDSA", "kid": f"{KEY1.did}#{KEY2.did[8:]}"}, "fragment"),
    ],
)
def test_verifier_rejects_bad_headers(header: dict[str, Any], match: str) -> None:
    signed = with_signature(sample_card(), header, KEY1)
    with pytest.raises(CardSignatureError, match=match) as info:
        verify_card(signed)
    assert info.value.problem.slug == "invalid-card-signature"
    assert info.value.problem.status == 401


@pytest.mark.req("CARD-002")
@pytest.mark.parametrize(
    "entry",
    [
        "not an object",
        {"protected": "eyJhbGciOiJFZERTQSJ9"},
        {"signature": "AAAA"},
        {"protected": 1, "signature": "AAAA"},
        {"protected": "!!!!", "signature": "AAAA"},
        {"protected": b64url(b"[1, 2]"), "signature": "AAAA"},
        {"protected": b64url(b"\xff\xfe"), "signature": "AAAA"},
        {
            "protected": b64url(json.dumps({"alg": "EdDSA", "kid": KEY1.did}).encode()),
            "signature": "@@",
        },
        {
            "protected": b64url(json.dumps({"alg": "EdDSA", "kid": KEY1.did}).encode()),
            "signature": "",
        },
    ],
    ids=repr,
)
def test_malformed_signature_entries_are_rejected(entry: Any) -> None:
    with pytest.raises(CardSignatureError):
        verify_card({**sample_card(), "signatures": [entry]})


@pytest.mark.req("CARD-004")
@pytest.mark.parametrize("signatures", [None, [], "x", {"protected": "a"}])
def test_card_without_signatures_is_rejected(signatures: Any) -> None:
    card = sample_card()
    if signatures is not None:
        card["signatures"] = signatures
    with pytest.raises(CardSignatureError, match="no signatures"):
        verify_card(card)


def test_a_card_is_an_object() -> None:
    with pytest.raises(CardSignatureError):
        card_signing_payload(["not", "a", "card"])  # type: ignore[arg-type]
    with pytest.raises(CardSignatureError):
        verify_card(["not", "a", "card"])  # type: ignore[arg-type]


@pytest.mark.req("CARD-003")
def test_unknown_members_are_covered() -> None:
    card = {**sample_card(), "x-vendor": {"tier": "gold"}}
    signed = sign_card(card, KEY1)
    assert b'"x-vendor"' in card_signing_payload(signed)
    verify_card(signed)
    downgraded = {k: v for k, v in signed.items() if k != "x-vendor"}
    with pytest.raises(CardSignatureError):
        verify_card(downgraded)
    # re-serialising through the model drops the unknown member, so the signature no longer holds
    reparsed = AgentCard.model_validate(signed).to_json_dict()
    assert "x-vendor" not in reparsed
    with pytest.raises(CardSignatureError):
        verify_card(reparsed)


@pytest.mark.req("CARD-003")
def test_model_and_dict_forms_sign_the_same_bytes() -> None:
    model = AgentCard.model_validate(sample_card())
    signed = sign_card(model, KEY1)
    assert signed["signatures"] == sign_card(sample_card(), KEY1)["signatures"]
    verify_card(AgentCard.model_validate(signed))


@pytest.mark.req("CARD-004")
def test_several_signatures_each_verify() -> None:
    signed = sign_card(sign_card(sample_card(), KEY1), KEY2)
    assert len(signed["signatures"]) == 2
    assert [v.did for v in verify_card(signed)] == [KEY1.did, KEY2.did]
    assert verify_card(signed, expected_did=KEY2.did)
    other = SigningKey.from_seed(bytes(32))
    with pytest.raises(CardSignatureError, match="no valid card signature by"):
        verify_card(signed, expected_did=other.did)


@pytest.mark.req("CARD-004")
def test_one_valid_signature_is_enough_and_bad_ones_are_not_reported_valid() -> None:
    good = sign_card(sample_card(), KEY1)
    forged = with_signature(sample_card(), {"alg": "EdDSA", "kid": did_url(KEY2.did)}, KEY1)
    card = {**good, "signatures": [forged["signatures"][0], good["signatures"][0]]}
    assert [v.did for v in verify_card(card)] == [KEY1.did]
    with pytest.raises(CardSignatureError):
        verify_card(card, expected_did=KEY2.did)


def _leaf_paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    if isinstance(value, dict):
        return [p for k, v in value.items() for p in _leaf_paths(v, (*prefix, k))]
    if isinstance(value, list):
        return [p for i, v in enumerate(value) for p in _leaf_paths(v, (*prefix, i))]
    return [prefix]


def _replace(card: dict[str, Any], path: tuple[Any, ...], new: Any) -> dict[str, Any]:
    changed = copy.deepcopy(card)
    target: Any = changed
    for step in path[:-1]:
        target = target[step]
    target[path[-1]] = new
    return changed


@pytest.mark.req("CARD-004")
@settings(max_examples=100, deadline=None)
@given(st.data())
def test_any_change_to_a_covered_member_invalidates(data: st.DataObject) -> None:
    signed = sign_card(sign_card(sample_card(), KEY1), KEY2)
    unsigned = {k: v for k, v in signed.items() if k != "signatures"}
    path = data.draw(st.sampled_from(_leaf_paths(unsigned)))
    old: Any = unsigned
    for step in path:
        old = old[step]
    new = data.draw(json_values.filter(lambda v: canonicalize(v) != canonicalize(old)))
    with pytest.raises(CardSignatureError):
        verify_card(_replace(signed, path, new))


@pytest.mark.req("CARD-001")
@pytest.mark.req("CARD-004")
@settings(max_examples=100, deadline=None)
@given(st.dictionaries(st.text(min_size=1, max_size=8), json_values, max_size=4), json_values)
def test_sign_then_verify_holds_and_an_added_member_breaks_it(
    extra: dict[str, Any], added: Any
) -> None:
    card = {**sample_card(), **{f"x-{k}": v for k, v in extra.items()}}
    signed = sign_card(card, KEY1)
    assert [v.did for v in verify_card(signed)] == [KEY1.did]
    with pytest.raises(CardSignatureError):
        verify_card({**signed, "x-added-after-signing": added})


def _empty_or_false_members(value: Any, path: str = "$") -> list[str]:
    found: list[str] = []
    if isinstance(value, dict):
        for key, item in value.items():
            where = f"{path}.{key}"
            if key == "params":
                continue  # extension params are a free-form Struct a2a-sdk keeps as is
            if item in ("", [], {}, False, 0) and item is not True:
                found.append(where)
            found += _empty_or_false_members(item, where)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found += _empty_or_false_members(item, f"{path}[{index}]")
    return found


@pytest.mark.req("CARD-005")
def test_model_built_cards_carry_no_empty_or_false_defaults() -> None:
    card = AgentCard(
        name="Typed",
        description="A typed agent",
        supported_interfaces=[
            AgentInterface(url="https://t.example/a2a", protocol_binding="JSONRPC")
        ],
        version="1",
        capabilities=AgentCapabilities(),
        default_input_modes=["application/json"],
        default_output_modes=["application/json"],
        skills=[AgentSkill(id="s", name="S", description="d", tags=["t"])],
    )
    profile = SkillProfile(
        input_schema={"type": "object"}, output_schema={"type": "object"}, family="classical"
    )
    card = attach_extension(card, WoaCardExtension(did=KEY1.did, skills={"s": profile}))
    wire = card.to_json_dict()
    assert _empty_or_false_members(wire) == []
    verify_card(sign_card(card, KEY1))
