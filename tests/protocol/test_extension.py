from __future__ import annotations

import json
from typing import Any

import jsonschema
import pytest
from pydantic import ValidationError

from woa_protocol.models import (
    WOA_EXTENSION_URI,
    AgentCard,
    AgentExtension,
    CostHint,
    LatencyHint,
    ModelFamily,
    SkillProfile,
    WoaCardExtension,
    attach_extension,
    read_extension,
)

from ._support import KEY1, SPEC_DIR

INPUT = {"type": "object", "properties": {"text": {"type": "string"}}, "required": ["text"]}
OUTPUT = {"type": "object", "properties": {"label": {"type": "string"}}, "required": ["label"]}


def profile(**changes: Any) -> dict[str, Any]:
    data: dict[str, Any] = {"inputSchema": INPUT, "outputSchema": OUTPUT, "family": "mlm"}
    data.update(changes)
    return data


def card(skill_ids: tuple[str, ...] = ("classify",)) -> AgentCard:
    return AgentCard.model_validate(
        {
            "name": "Classifier",
            "description": "Labels text",
            "supportedInterfaces": [{"url": "https://c.example/a2a", "protocolBinding": "JSONRPC"}],
            "version": "1",
            "capabilities": {
                "extensions": [{"uri": "urn:example:other", "params": {"keep": True}}]
            },
            "defaultInputModes": ["application/json"],
            "defaultOutputModes": ["application/json"],
            "skills": [
                {"id": sid, "name": sid, "description": sid, "tags": ["t"]} for sid in skill_ids
            ],
        }
    )


def extension(**skills: dict[str, Any]) -> WoaCardExtension:
    return WoaCardExtension.model_validate({"did": KEY1.did, "skills": skills})


def schema(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((SPEC_DIR / "schemas" / "v1" / name).read_text())
    return data


@pytest.mark.req("EXT-001")
def test_attach_and_read_extension() -> None:
    ext = extension(
        classify=profile(examples=[{"input": {"text": "hi"}, "output": {"label": "greeting"}}])
    )
    signed_card = attach_extension(card(), ext)
    uris = [e.uri for e in signed_card.capabilities.extensions or ()]
    assert uris == ["urn:example:other", WOA_EXTENSION_URI]
    assert WOA_EXTENSION_URI == "urn:woa:ext:agent-card:v1"
    assert read_extension(signed_card) == ext
    # attaching again replaces, never duplicates
    again = attach_extension(signed_card, extension())
    assert [e.uri for e in again.capabilities.extensions or ()] == uris
    assert read_extension(again) == extension()


@pytest.mark.req("EXT-001")
def test_params_follow_the_published_schemas() -> None:
    ext = extension(
        classify=profile(
            inputModalities=["text"],
            latency={"p50Ms": 7, "p95Ms": 20.5},
            cost={"perCall": 0.001, "currency": "EUR"},
            idempotent=True,
            examples=[{"input": {"text": "hi"}, "description": "greeting"}],
        )
    )
    params = attach_extension(card(), ext).to_json_dict()["capabilities"]["extensions"][1]["params"]
    assert params["skills"]["classify"]["latency"] == {"p50Ms": 7.0, "p95Ms": 20.5}
    validator = jsonschema.Draft202012Validator(schema("woa-card-extension.json"))
    validator.validate(params)
    assert not validator.is_valid({"skills": {}})
    assert not validator.is_valid({**params, "skills": {"classify": {"family": "mlm"}}})
    jsonschema.Draft202012Validator(schema("skill-profile.json")).validate(
        params["skills"]["classify"]
    )


def test_absent_extension_reads_as_none() -> None:
    assert read_extension(card()) is None


@pytest.mark.req("EXT-002")
@pytest.mark.parametrize(
    "did",
    [
        KEY1.did + "#" + KEY1.did[8:],
        "did:web:example.com",
        "did:key:z6LShs9GGnqk85isEBzzshkuVWrVKsRp24GnDuHk8QWkARMW",
        "",
    ],
    ids=["did-url", "did-web", "x25519", "empty"],
)
def test_did_must_be_a_bare_ed25519_did_key(did: str) -> None:
    with pytest.raises(ValidationError):
        WoaCardExtension.model_validate({"did": did})
    broken = card().model_copy(deep=True)
    assert broken.capabilities.extensions is not None
    broken.capabilities.extensions.append(
        AgentExtension(uri=WOA_EXTENSION_URI, params={"did": did})
    )
    with pytest.raises(ValidationError):
        read_extension(broken)


@pytest.mark.req("EXT-003")
@pytest.mark.parametrize(
    "changes",
    [
        {"inputSchema": {"type": "no-such-type"}},
        {"outputSchema": {"properties": {"a": {"minLength": -1}}}},
        {"inputSchema": {"required": "text"}},
        {"inputSchema": {"$ref": 5}},
    ],
    ids=["bad-type", "negative-minLength", "required-not-array", "ref-not-string"],
)
def test_schemas_must_be_valid_draft_2020_12(changes: dict[str, Any]) -> None:
    with pytest.raises(ValidationError, match="invalid JSON Schema"):
        SkillProfile.model_validate(profile(**changes))


@pytest.mark.req("EXT-003")
def test_examples_must_validate_against_the_schemas() -> None:
    SkillProfile.model_validate(
        profile(examples=[{"input": {"text": "a"}, "output": {"label": "b"}}])
    )
    with pytest.raises(ValidationError, match=r"examples\[0\]\.input"):
        SkillProfile.model_validate(profile(examples=[{"input": {"txt": "a"}}]))
    with pytest.raises(ValidationError, match=r"examples\[1\]\.output"):
        SkillProfile.model_validate(
            profile(
                examples=[
                    {"input": {"text": "a"}},
                    {"input": {"text": "b"}, "output": {"label": 3}},
                ]
            )
        )


@pytest.mark.req("EXT-004")
def test_family_is_the_closed_list() -> None:
    assert {f.value for f in ModelFamily} == {
        "llm", "slm", "vlm", "mlm", "sam", "lcm", "lam", "moe", "asr", "tts", "ocr", "classical",
    }  # fmt: skip
    for family in ModelFamily:
        assert SkillProfile.model_validate(profile(family=family.value)).family is family
    for bad in ("LLM", "cnn", "", "transformer"):
        with pytest.raises(ValidationError):
            SkillProfile.model_validate(profile(family=bad))
    published = schema("skill-profile.json")
    text = json.dumps(published)
    assert all(f'"{f.value}"' in text for f in ModelFamily)


@pytest.mark.req("EXT-005")
def test_skills_must_be_declared_by_the_card() -> None:
    ext = extension(classify=profile(), summarise=profile(family="slm"))
    with pytest.raises(ValueError, match="summarise"):
        read_extension(attach_extension(card(), ext))
    both = attach_extension(card(("classify", "summarise")), ext)
    parsed = read_extension(both)
    assert parsed is not None
    assert set(parsed.skills) == {"classify", "summarise"}


def test_hints_are_checked() -> None:
    with pytest.raises(ValidationError):
        LatencyHint(p50_ms=-1)
    with pytest.raises(ValidationError):
        CostHint(per_call=1, currency="euro")
    assert CostHint(per_call=0.5).currency == "USD"
    assert SkillProfile.model_validate(profile()).input_modalities == ["data"]
