"""Every card the SDK builds verifies under a2a-sdk's signature verifier (CARD-005, AGT-016).

A matrix of skill declarations (no tags, optional fields, an empty model, nested models,
enums, examples, text and file skills) is built into signed cards, parsed by a2a-sdk into
its protobuf card and verified with its own verifier.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Any

import pytest
from a2a.types import AgentCard as ProtoAgentCard
from a2a.utils.signing import create_signature_verifier
from google.protobuf.json_format import ParseDict
from jwt import PyJWK
from pydantic import BaseModel, Field

from woa_agents import Agent, File, MediaTypes
from woa_agents.card import clean_empty
from woa_protocol import resolve_did, verify_card
from woa_protocol.models import AgentCard, read_extension

pytestmark = pytest.mark.interop


def _key(kid: str | None, jku: str | None) -> PyJWK:
    assert kid is not None
    return PyJWK(resolve_did(kid).to_jwk())


a2a_verify = create_signature_verifier(_key, ["EdDSA"])


class Empty(BaseModel):
    pass


class Optionals(BaseModel):
    text: str
    note: str | None = None
    label: str = ""
    tags: list[str] = []


class Colour(StrEnum):
    RED = "red"
    BLUE = "blue"


class Inner(BaseModel):
    colour: Colour
    weights: dict[str, float] = {}


class Nested(BaseModel):
    inner: Inner
    items: list[Inner] = Field(default_factory=list, description="")


class Out(BaseModel):
    ok: bool = False
    count: int = 0


class Picture(BaseModel):
    image: Annotated[File, MediaTypes("image/png", "image/jpeg")]
    prompt: str


def _declare(agent: Agent, case: str) -> None:
    if case == "no-tags":

        @agent.skill()
        async def plain(request: Optionals) -> Out:
            return Out()

    elif case == "empty-model":

        @agent.skill(tags=[])
        async def nothing(request: Empty) -> Empty:
            return Empty()

    elif case == "nested-enums":

        @agent.skill(tags=["a", "b"], description="nested")
        async def nested(request: Nested) -> Out:
            return Out()

    elif case == "examples":

        @agent.skill(examples=[(Optionals(text="hi"), Out()), Optionals(text="x", label="")])
        async def with_examples(request: Optionals) -> Out:
            return Out()

    elif case == "text":

        @agent.skill(examples=["hello"], default=True)
        async def chat(text: str) -> str:
            return text

        @agent.skill()
        async def picture(request: Picture) -> File:
            return request.image

    elif case == "hints":

        @agent.skill(latency_ms=0, cost_per_call=0, idempotent=False, family="llm")
        async def cheap(request: Empty) -> list[str]:
            return []


CASES = ["no-tags", "empty-model", "nested-enums", "examples", "text", "hints"]


@pytest.mark.req("CARD-005")
@pytest.mark.req("AGT-016")
@pytest.mark.parametrize("case", CASES)
def test_every_built_card_verifies_under_a2a_sdk(case: str) -> None:
    agent = Agent("matrix", f"case {case}")
    _declare(agent, case)
    card = agent.card("http://127.0.0.1:9/")
    assert clean_empty(card) == card  # no empty member anywhere
    a2a_verify(ParseDict(card, ProtoAgentCard(), ignore_unknown_fields=True))
    assert [v.did for v in verify_card(card)] == [agent.did]
    model = AgentCard.model_validate(card)
    assert all(skill.tags for skill in model.skills)  # A2A requires tags
    assert read_extension(model) is not None


@pytest.mark.req("AGT-016")
def test_card_modes_say_what_each_skill_accepts() -> None:
    agent = Agent("modes", "modes")
    _declare(agent, "text")
    card: dict[str, Any] = agent.card("http://127.0.0.1:9/")
    skills = {s["id"]: s for s in card["skills"]}
    assert skills["chat"]["inputModes"] == ["text/plain"]
    assert skills["chat"]["outputModes"] == ["text/plain"]
    assert skills["picture"]["inputModes"] == [
        "application/json",
        "text/plain",
        "image/png",
        "image/jpeg",
    ]
    assert card["defaultInputModes"] == [
        "text/plain",
        "application/json",
        "image/png",
        "image/jpeg",
    ]
    assert skills["chat"]["tags"] == ["classical"]  # no tags given: the family
    ext = read_extension(AgentCard.model_validate(card))
    assert ext is not None
    assert [m.value for m in ext.skills["picture"].input_modalities] == ["data", "text", "image"]


@pytest.mark.req("CARD-005")
def test_an_example_that_needs_an_empty_value_is_refused() -> None:
    agent = Agent("x", "y")
    with pytest.raises(ValueError, match="CARD-005"):

        @agent.skill(examples=[Optionals(text="")])
        async def empty_text(request: Optionals) -> Out:
            return Out()


def test_a_card_needs_a_description() -> None:
    with pytest.raises(ValueError, match="description"):
        Agent("x", "")


@pytest.mark.req("CARD-005")
def test_a_model_with_any_json_value_keeps_its_schema_whole() -> None:
    from typing import Any as AnyValue

    from pydantic import BaseModel, JsonValue

    from woa_protocol import validate_instance

    class Loose(BaseModel):
        value: JsonValue
        extra: dict[str, AnyValue] = {}

    agent = Agent("loose", "takes any JSON value")

    @agent.skill()
    async def echo(request: Loose) -> Loose:
        return request

    schema = agent.skills["echo"].input_schema
    assert validate_instance(schema, {"value": {"a": [1, None]}}) == []
    assert validate_instance(schema, {}) != []  # value is still required
