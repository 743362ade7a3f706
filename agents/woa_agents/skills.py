"""A skill: an async handler with pydantic input and output models, and its card entries."""

from __future__ import annotations

import inspect
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, JsonValue

from woa_protocol import check_schema
from woa_protocol.models import (
    AgentSkill,
    CostHint,
    LatencyHint,
    Modality,
    ModelFamily,
    SkillExample,
    SkillProfile,
)
from woa_protocol.validation import validator_for

from .context import SkillContext

__all__ = ["Handler", "Skill"]

Handler = Callable[..., Awaitable[Any] | AsyncIterator[Any]]
"""``async def f(input, ctx)`` returning the output, or an async generator yielding
:class:`~woa_agents.context.Progress` / :class:`~woa_agents.context.Partial` and finally
the output. The ``ctx`` parameter is optional."""


def _schema(model: type[BaseModel]) -> dict[str, Any]:
    schema = model.model_json_schema(mode="validation")
    schema.setdefault("$schema", "https://json-schema.org/draft/2020-12/schema")
    check_schema(schema)
    return schema


@dataclass
class Skill:
    """One skill an agent offers."""

    id: str
    name: str
    description: str
    handler: Handler
    input_model: type[BaseModel]
    output_model: type[BaseModel]
    family: ModelFamily
    tags: list[str] = field(default_factory=list)
    examples: list[tuple[BaseModel, BaseModel | None]] = field(default_factory=list)
    idempotent: bool = False
    latency_ms: float | None = None
    cost_per_call: float | None = None
    input_modalities: list[Modality] = field(default_factory=lambda: [Modality.DATA])
    output_modalities: list[Modality] = field(default_factory=lambda: [Modality.DATA])

    def __post_init__(self) -> None:
        self.input_schema = _schema(self.input_model)
        self.output_schema = _schema(self.output_model)
        self._input_validator = validator_for(self.input_schema)
        self.streaming = inspect.isasyncgenfunction(self.handler)
        params = [
            p
            for p in inspect.signature(self.handler).parameters.values()
            if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)
        ]
        if not 1 <= len(params) <= 2:
            raise TypeError(f"skill {self.id!r}: handler takes (input) or (input, ctx)")
        self.wants_context = len(params) == 2
        """True when the handler takes ``(input, ctx)``."""

    def input_errors(self, payload: Any) -> list[dict[str, str]]:
        """Every way ``payload`` fails the input schema, as ``validate_instance`` reports it.

        Same result as :func:`woa_protocol.validate_instance`, with the schema compiled
        once per skill instead of looked up (by canonical schema text) on every call.
        """
        return self._input_validator.errors(payload)

    def invoke(self, value: BaseModel, ctx: SkillContext | None) -> Any:
        """Call the handler: a coroutine, or an async iterator for a streaming skill.

        ``ctx`` is required when :attr:`wants_context`, and ignored otherwise.
        """
        if not self.wants_context:
            return self.handler(value)
        if ctx is None:
            raise TypeError(f"skill {self.id!r}: the handler takes a context")
        return self.handler(value, ctx)

    def card_skill(self) -> AgentSkill:
        """The A2A ``AgentSkill`` entry."""
        return AgentSkill(
            id=self.id,
            name=self.name,
            description=self.description,
            tags=self.tags,
            examples=[ex.model_dump_json() for ex, _ in self.examples] or None,
            input_modes=["application/json"],
            output_modes=["application/json"],
        )

    def profile(self) -> SkillProfile:
        """The card extension's profile: schemas, family, modalities, hints, examples."""
        examples = [
            SkillExample(
                input=_json(ex),
                output=None if out is None else _json(out),
            )
            for ex, out in self.examples
        ]
        return SkillProfile(
            input_schema=self.input_schema,
            output_schema=self.output_schema,
            family=self.family,
            input_modalities=self.input_modalities,
            output_modalities=self.output_modalities,
            latency=None if self.latency_ms is None else LatencyHint(p50_ms=self.latency_ms),
            cost=None if self.cost_per_call is None else CostHint(per_call=self.cost_per_call),
            idempotent=self.idempotent,
            examples=examples or None,
        )


def _json(model: BaseModel) -> JsonValue:
    value: JsonValue = model.model_dump(mode="json")
    return value
