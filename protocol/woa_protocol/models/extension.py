"""The Web of Agents card extension: identity and typed skills.

Carried in ``capabilities.extensions[]`` under :data:`WOA_EXTENSION_URI`, so that any A2A
reader (which ignores unknown extensions) still accepts the card, and the JWS over the card
covers it. ``params`` holds the agent's did:key and, per skill id, the skill's input and
output JSON Schemas (Draft 2020-12), model family, modalities, hints and examples.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from pydantic import Field, field_validator, model_validator

from ..errors import InvalidDidError
from ..identity import public_bytes_from_did
from ..validation import check_schema, validate_instance
from .a2a import AgentCard, AgentExtension
from .base import A2AModel, JsonValue

__all__ = [
    "WOA_EXTENSION_URI",
    "CostHint",
    "LatencyHint",
    "Modality",
    "ModelFamily",
    "SkillExample",
    "SkillProfile",
    "WoaCardExtension",
    "attach_extension",
    "read_extension",
]

WOA_EXTENSION_URI = "urn:woa:ext:agent-card:v1"
"""The URI naming this extension (spec: EXT-001)."""


class ModelFamily(StrEnum):
    """The kind of model behind a skill (closed list, spec EXT-004)."""

    LLM = "llm"
    """Large language model."""
    SLM = "slm"
    """Small language model."""
    VLM = "vlm"
    """Vision-language model."""
    MLM = "mlm"
    """Masked-language / encoder model (embeddings, similarity, classification)."""
    SAM = "sam"
    """Promptable segmentation model."""
    LCM = "lcm"
    """Latent-consistency / one-step distilled generative model."""
    LAM = "lam"
    """Large action model: plans and executes skill calls."""
    MOE = "moe"
    """Mixture-of-experts style router over other agents or models."""
    ASR = "asr"
    """Speech recognition."""
    TTS = "tts"
    """Speech synthesis."""
    OCR = "ocr"
    """Optical character recognition."""
    CLASSICAL = "classical"
    """Non-neural algorithm (rules, search, classical vision, ...)."""


class Modality(StrEnum):
    """Kinds of content a skill consumes or produces."""

    TEXT = "text"
    IMAGE = "image"
    AUDIO = "audio"
    VIDEO = "video"
    DATA = "data"


class LatencyHint(A2AModel):
    """Expected latency of one call, in milliseconds, as measured by the agent's author."""

    p50_ms: float = Field(ge=0)
    p95_ms: float | None = Field(default=None, ge=0)


class CostHint(A2AModel):
    """Expected price of one call."""

    per_call: float = Field(ge=0)
    currency: str = Field(default="USD", pattern=r"^[A-Z]{3}$")


class SkillExample(A2AModel):
    """A worked example: an input the skill accepts and, optionally, what it returns."""

    input: JsonValue
    output: JsonValue | None = None
    description: str | None = None


class SkillProfile(A2AModel):
    """What this project adds to an A2A skill: typed input and output, and hints."""

    input_schema: dict[str, JsonValue]
    output_schema: dict[str, JsonValue]
    family: ModelFamily
    input_modalities: list[Modality] = Field(default_factory=lambda: [Modality.DATA])
    output_modalities: list[Modality] = Field(default_factory=lambda: [Modality.DATA])
    latency: LatencyHint | None = None
    cost: CostHint | None = None
    idempotent: bool = False
    examples: list[SkillExample] | None = None

    @field_validator("input_schema", "output_schema")
    @classmethod
    def _valid_schema(cls, value: dict[str, Any]) -> dict[str, Any]:
        check_schema(value)
        return value

    @model_validator(mode="after")
    def _examples_match_schemas(self) -> SkillProfile:
        for index, example in enumerate(self.examples or ()):
            problems = validate_instance(self.input_schema, example.input)
            if problems:
                raise ValueError(f"examples[{index}].input fails the input schema: {problems}")
            if example.output is not None:
                problems = validate_instance(self.output_schema, example.output)
                if problems:
                    raise ValueError(
                        f"examples[{index}].output fails the output schema: {problems}"
                    )
        return self


class WoaCardExtension(A2AModel):
    """``params`` of the Web of Agents card extension."""

    did: str
    skills: dict[str, SkillProfile] = Field(default_factory=dict)

    @field_validator("did")
    @classmethod
    def _is_did_key(cls, value: str) -> str:
        if "#" in value:
            raise ValueError("did must be a bare did:key, without a fragment")
        try:
            public_bytes_from_did(value)
        except InvalidDidError as exc:
            raise ValueError(str(exc)) from exc
        return value


def read_extension(card: AgentCard) -> WoaCardExtension | None:
    """Return the card's Web of Agents extension, validated, or None when absent.

    Raises ``pydantic.ValidationError`` when present but malformed, and ``ValueError``
    when it describes a skill the card does not declare.
    """
    ext = card.extension(WOA_EXTENSION_URI)
    if ext is None:
        return None
    parsed = WoaCardExtension.model_validate(ext.params or {})
    declared = {skill.id for skill in card.skills}
    unknown = sorted(set(parsed.skills) - declared)
    if unknown:
        raise ValueError(f"extension describes skills the card does not declare: {unknown}")
    return parsed


def attach_extension(card: AgentCard, params: WoaCardExtension) -> AgentCard:
    """Return a copy of ``card`` carrying ``params`` as its Web of Agents extension."""
    others = [e for e in card.capabilities.extensions or () if e.uri != WOA_EXTENSION_URI]
    ext = AgentExtension(
        uri=WOA_EXTENSION_URI,
        description="Web of Agents: did:key identity and typed skills",
        params=params.to_json_dict(),  # no "required": false: a2a-sdk drops it (CARD-005)
    )
    capabilities = card.capabilities.model_copy(update={"extensions": [*others, ext]})
    return card.model_copy(update={"capabilities": capabilities})
