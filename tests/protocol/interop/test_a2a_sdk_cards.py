"""Cross-check signed cards with a2a-sdk 1.3 (``a2a.utils.signing``), both directions.

a2a-sdk holds a card as a protobuf message. Before canonicalising it converts the message to
JSON with ``MessageToDict`` (which omits proto3 fields at their default, such as
``required: false``) and then removes every empty string, empty array, empty object and
null, recursively, including inside extension ``params``. RFC 8785 keeps all of those, so
a card carrying one is signed over different bytes by the two implementations. The tests
below pin down exactly which members do that (spec CARD-005).
"""

from __future__ import annotations

import copy
from typing import Any

import pytest
from a2a.types import AgentCard as ProtoAgentCard
from a2a.utils.signing import (
    InvalidSignaturesError,
    _canonicalize_agent_card,  # private: used only to show the bytes a2a-sdk signs
    create_agent_card_signer,
    create_signature_verifier,
)
from google.protobuf.json_format import MessageToDict, ParseDict
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from jwt import PyJWK

from woa_protocol import (
    CardSignatureError,
    SigningKey,
    canonicalize,
    card_signing_payload,
    did_url,
    resolve_did,
    sign_card,
    verify_card,
)
from woa_protocol.models import (
    AgentCapabilities,
    AgentCard,
    AgentInterface,
    AgentSkill,
    SkillExample,
    SkillProfile,
    WoaCardExtension,
    attach_extension,
)

from .._support import KEY1, KEY2, load_vectors

pytestmark = pytest.mark.interop

VECTOR_CARD: dict[str, Any] = load_vectors("jws-card.json")["cases"][0]["card"]


def to_proto(card: dict[str, Any]) -> ProtoAgentCard:
    return ParseDict(card, ProtoAgentCard(), ignore_unknown_fields=True)


def a2a_key_provider(kid: str | None, jku: str | None) -> PyJWK:
    assert kid is not None
    assert jku is None
    return PyJWK(resolve_did(kid).to_jwk())


a2a_verify = create_signature_verifier(a2a_key_provider, ["EdDSA"])


def a2a_sign(card: dict[str, Any], key: SigningKey) -> ProtoAgentCard:
    signer = create_agent_card_signer(
        PyJWK(key.to_jwk()), {"alg": "EdDSA", "kid": did_url(key.did), "typ": "JOSE"}
    )
    return signer(to_proto(card))


def published(card: ProtoAgentCard) -> dict[str, Any]:
    """The JSON an a2a-sdk server serves for a card."""
    return MessageToDict(card)


def model_card() -> dict[str, Any]:
    card = AgentCard(
        name="Summariser",
        description="Short summaries, in French or English",
        supported_interfaces=[
            AgentInterface(
                url="https://s.example/a2a", protocol_binding="JSONRPC", protocol_version="1.0"
            )
        ],
        version="0.3.1",
        capabilities=AgentCapabilities(streaming=True),
        default_input_modes=["text/plain"],
        default_output_modes=["application/json"],
        skills=[AgentSkill(id="summarise", name="Summarise", description="d", tags=["nlp"])],
    )
    profile = SkillProfile(
        input_schema={"type": "object", "properties": {"text": {"type": "string"}}},
        output_schema={"type": "object", "required": ["summary"]},
        family="slm",
        idempotent=True,
        examples=[SkillExample(input={"text": "Bonjour à tous"}, output={"summary": "Salut"})],
    )
    return attach_extension(
        card, WoaCardExtension(did=KEY1.did, skills={"summarise": profile})
    ).to_json_dict()


CARDS = {"vector": VECTOR_CARD, "model-built": model_card()}


@pytest.mark.req("CARD-005")
@pytest.mark.req("CARD-001")
@pytest.mark.parametrize("name", CARDS)
def test_a2a_sdk_accepts_our_signatures(name: str) -> None:
    signed = sign_card(sign_card(CARDS[name], KEY1), KEY2)
    a2a_verify(to_proto(signed))
    # and each of our signatures on its own
    for entry in signed["signatures"]:
        a2a_verify(to_proto({**signed, "signatures": [entry]}))


@pytest.mark.req("CARD-005")
@pytest.mark.req("CARD-004")
@pytest.mark.parametrize("name", CARDS)
def test_we_accept_a2a_sdk_signatures(name: str) -> None:
    signed = published(a2a_sign(CARDS[name], KEY1))
    assert [v.did for v in verify_card(signed)] == [KEY1.did]
    assert verify_card(signed, expected_did=KEY1.did)


@pytest.mark.req("CARD-005")
@pytest.mark.req("CARD-006")
@pytest.mark.parametrize("name", CARDS)
def test_both_sign_the_same_bytes(name: str) -> None:
    card = CARDS[name]
    assert _canonicalize_agent_card(to_proto(card)).encode() == card_signing_payload(card)
    theirs = a2a_sign(card, KEY1).signatures[0]
    ours = sign_card(card, KEY1)["signatures"][0]
    assert (theirs.protected, theirs.signature) == (ours["protected"], ours["signature"])


@pytest.mark.req("CARD-005")
def test_a2a_sdk_rejects_a_signature_of_another_card() -> None:
    signed = sign_card(VECTOR_CARD, KEY1)
    changed = {**signed, "version": "9.9.9"}
    with pytest.raises(InvalidSignaturesError):
        a2a_verify(to_proto(changed))


_text = st.text(st.characters(exclude_categories=("Cs", "Cc")), min_size=1, max_size=10)
_leaf = (
    _text
    | st.booleans()
    | st.integers(-(2**53 - 1), 2**53 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
)
_params = st.recursive(
    _leaf,
    lambda inner: (
        st.lists(inner, min_size=1, max_size=3)
        | st.dictionaries(_text, inner, min_size=1, max_size=3)
    ),
    max_leaves=10,
)
"""Extension params a2a-sdk leaves alone: no empty strings, containers or nulls."""


@pytest.mark.req("CARD-005")
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    name=_text,
    description=_text,
    tags=st.lists(_text, min_size=1, max_size=3),
    streaming=st.booleans(),
    params=st.dictionaries(_text, _params, min_size=1, max_size=3),
)
def test_cards_following_card_005_verify_both_ways(
    name: str, description: str, tags: list[str], streaming: bool, params: dict[str, Any]
) -> None:
    card = copy.deepcopy(VECTOR_CARD)
    card.update(name=name, description=description)
    card["skills"][0]["tags"] = tags
    card["capabilities"]["streaming"] = streaming
    card["capabilities"]["extensions"].append({"uri": "urn:example:generated", "params": params})
    assert _canonicalize_agent_card(to_proto(card)).encode() == card_signing_payload(card)
    a2a_verify(to_proto(sign_card(card, KEY2)))
    assert [v.did for v in verify_card(published(a2a_sign(card, KEY2)))] == [KEY2.did]


def _with(card: dict[str, Any], path: tuple[Any, ...], value: Any) -> dict[str, Any]:
    changed = copy.deepcopy(card)
    target: Any = changed
    for step in path[:-1]:
        target = target[step]
    target[path[-1]] = value
    return changed


EXTENSION = ("capabilities", "extensions", 0)
PARAMS = (*EXTENSION, "params")

DEPARTURES = [
    # (member, value, does a2a-sdk's own published JSON still verify with RFC 8785?)
    pytest.param((*EXTENSION, "required"), False, True, id="proto-default-false"),
    pytest.param(("skills", 0, "examples"), [], True, id="empty-repeated-field"),
    pytest.param((*EXTENSION, "description"), "", True, id="empty-string-field"),
    pytest.param(("defaultInputModes",), [], True, id="empty-required-array"),
    pytest.param((*PARAMS, "note"), "", False, id="params-empty-string"),
    pytest.param((*PARAMS, "tags"), [], False, id="params-empty-array"),
    pytest.param((*PARAMS, "meta"), {}, False, id="params-empty-object"),
    pytest.param((*PARAMS, "fallback"), None, False, id="params-null"),
    pytest.param(
        (*PARAMS, "skills", "extract", "inputSchema", "properties"),
        {},
        False,
        id="schema-empty-properties",
    ),
]


@pytest.mark.req("CARD-005")
@pytest.mark.parametrize(("path", "value", "a2a_json_verifies"), DEPARTURES)
def test_where_a2a_sdk_departs_from_rfc8785(
    path: tuple[Any, ...], value: Any, a2a_json_verifies: bool
) -> None:
    card = _with(VECTOR_CARD, path, value)
    ours = card_signing_payload(card)
    theirs = _canonicalize_agent_card(to_proto(card)).encode()
    # the two canonical forms differ, and only by the member under test: a2a-sdk left it out
    assert ours != theirs
    without = copy.deepcopy(card)
    target: Any = without
    for step in path[:-1]:
        target = target[step]
    del target[path[-1]]
    assert theirs == canonicalize(without)
    # so a2a-sdk rejects our signature over the card as it is ...
    with pytest.raises(InvalidSignaturesError):
        a2a_verify(to_proto(sign_card(card, KEY1)))
    # ... and the card a2a-sdk signs and publishes verifies for us only when its JSON
    # output also leaves the member out (proto3 defaults do; Struct params keep it)
    served = published(a2a_sign(card, KEY1))
    if a2a_json_verifies:
        assert [v.did for v in verify_card(served)] == [KEY1.did]
    else:
        with pytest.raises(CardSignatureError):
            verify_card(served)


@pytest.mark.req("CARD-005")
def test_false_with_field_presence_is_kept_by_a2a_sdk() -> None:
    # capabilities.streaming is `optional bool`: false survives MessageToDict, so no departure
    card = _with(VECTOR_CARD, ("capabilities", "streaming"), False)
    assert _canonicalize_agent_card(to_proto(card)).encode() == card_signing_payload(card)
    a2a_verify(to_proto(sign_card(card, KEY1)))
    assert verify_card(published(a2a_sign(card, KEY1)))


@pytest.mark.req("CARD-003")
def test_a2a_sdk_drops_unknown_members_before_verifying() -> None:
    # a2a-sdk verifies its protobuf model, not the JSON received: members it does not know
    # are gone, so a card signed with one fails there while it verifies under CARD-003
    card = {**VECTOR_CARD, "x-vendor": {"tier": "gold"}}
    signed = sign_card(card, KEY1)
    assert verify_card(signed)
    assert b"x-vendor" not in _canonicalize_agent_card(to_proto(card)).encode()
    with pytest.raises(InvalidSignaturesError):
        a2a_verify(to_proto(signed))
