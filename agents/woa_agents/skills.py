"""A skill: an async handler, what it takes and returns, and its card entries.

A skill's input is a ``str`` (a text skill) or a pydantic model (a typed skill); its output
a pydantic model (a data artifact checked against the model), a ``str`` (text), a
:class:`~woa_agents.files.File`, a list of these (several artifacts), or a protocol
``Message`` (spec AGT-015..AGT-018).
"""

from __future__ import annotations

import inspect
import types
import typing
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, JsonValue, TypeAdapter, ValidationError

from woa_protocol import check_schema
from woa_protocol.models import (
    RESULT_ARTIFACT_ID,
    AgentSkill,
    Artifact,
    CostHint,
    LatencyHint,
    Message,
    Modality,
    ModelFamily,
    SkillExample,
    SkillProfile,
)
from woa_protocol.validation import validator_for

from .card import clean_empty
from .context import SkillContext
from .files import File
from .parts import JSON_MODE, InputSpec, input_spec, output_modes, output_parts

__all__ = ["RESULT_ARTIFACT_ID", "Handler", "Skill"]


Handler = Callable[..., Awaitable[Any] | AsyncIterator[Any]]
"""``async def f(input, ctx)`` returning the output, or an async generator yielding
:class:`~woa_agents.context.Progress` / :class:`~woa_agents.context.Partial` and finally
the output. The ``ctx`` parameter is optional."""

_SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"


def _schema(annotation: Any) -> dict[str, Any]:
    """The JSON Schema of an input or output annotation, as the card carries it (CARD-005)."""
    if annotation is str:
        schema: dict[str, Any] = {"type": "string"}
    elif isinstance(annotation, type) and issubclass(annotation, BaseModel):
        schema = annotation.model_json_schema(mode="validation")
    else:
        try:
            schema = TypeAdapter(annotation).json_schema(mode="serialization")
        except Exception:  # an annotation pydantic cannot describe: any value
            schema = {}
    schema.setdefault("$schema", _SCHEMA_DIALECT)
    cleaned: dict[str, Any] = clean_empty(_true_for_empty(schema)) or {"$schema": _SCHEMA_DIALECT}
    check_schema(cleaned)
    return cleaned


_SUBSCHEMA_MAPS = ("$defs", "definitions", "properties", "patternProperties", "dependentSchemas")
_SUBSCHEMA = (
    "items",
    "additionalProperties",
    "unevaluatedProperties",
    "unevaluatedItems",
    "contains",
    "propertyNames",
    "not",
    "if",
    "then",
    "else",
)
_SUBSCHEMA_LISTS = ("allOf", "anyOf", "oneOf", "prefixItems")


def _true_for_empty(schema: Any) -> Any:
    """``schema`` with every empty subschema ``{}`` written as its equal, ``true``.

    Signed cards drop empty objects (CARD-005), which would leave a ``$ref`` to an empty
    ``$defs`` entry (pydantic's ``JsonValue``, any value) dangling; ``true`` survives.
    Only schema positions change: ``default``, ``const``, ``enum`` and ``examples`` keep
    their data as written.
    """
    if not isinstance(schema, dict):
        return schema
    out: dict[str, Any] = {}
    for name, value in schema.items():
        if name in _SUBSCHEMA_MAPS and isinstance(value, dict):
            out[name] = {k: _true_for_empty(v) if v != {} else True for k, v in value.items()}
        elif name in _SUBSCHEMA:
            out[name] = True if value == {} else _true_for_empty(value)
        elif name in _SUBSCHEMA_LISTS and isinstance(value, list):
            out[name] = [True if v == {} else _true_for_empty(v) for v in value]
        else:
            out[name] = value
    return out


def _typed_model(annotation: Any) -> type[BaseModel] | None:
    """The pydantic model a result is checked against (not File, not Message), if any."""
    if (
        isinstance(annotation, type)
        and issubclass(annotation, BaseModel)
        and not issubclass(annotation, File | Message)
    ):
        return annotation
    return None


_MODALITIES = {"text": Modality.TEXT, "image": Modality.IMAGE, "audio": Modality.AUDIO}


def _modalities(modes: Sequence[str]) -> list[Modality]:
    out: list[Modality] = []
    for mode in modes:
        kind = mode.split("/")[0]
        modality = (
            Modality.DATA
            if mode == JSON_MODE or kind == "*"
            else _MODALITIES.get(kind, Modality.VIDEO if kind == "video" else Modality.DATA)
        )
        if modality not in out:
            out.append(modality)
    return out


@dataclass
class Skill:
    """One skill an agent offers.

    ``input_model`` is ``str`` or a pydantic model; ``output_model`` the handler's result
    annotation (a model, ``str``, ``File``, ``Message``, a list or union of them).
    """

    id: str
    name: str
    description: str
    handler: Handler
    input_model: Any
    output_model: Any
    family: ModelFamily
    tags: list[str] = field(default_factory=list)
    examples: list[tuple[Any, Any | None]] = field(default_factory=list)
    idempotent: bool = False
    latency_ms: float | None = None
    cost_per_call: float | None = None
    input_modalities: list[Modality] | None = None
    output_modalities: list[Modality] | None = None
    plain_text: bool = True
    """A plain text part may fill the input model's single required ``str`` field."""
    input_modes: list[str] | None = None
    """Accepted media types; None: derived from the input (spec AGT-016)."""
    output_modes: list[str] | None = None
    """Media types of the results; None: derived from the result annotation."""

    def __post_init__(self) -> None:
        self.inputs: InputSpec = input_spec(
            self.id, self.input_model, plain_text=self.plain_text, input_modes=self.input_modes
        )
        self.input_modes = self.inputs.modes
        self.output_modes = self.output_modes or output_modes(self.output_model)
        self.input_schema = _schema(self.input_model)
        self.output_schema = _schema(self.output_model)
        self._input_validator = validator_for(self.input_schema)
        for index, (example, _) in enumerate(self.examples):
            if self.input_errors(clean_empty(_json(example))):
                raise ValueError(
                    f'skill {self.id!r}: example {index} needs an empty value ("", [], {{}}) '
                    "that signed cards leave out (CARD-005); give a non-empty one"
                )
        self.typed_output = _typed_model(self.output_model)
        """The model a result must satisfy (AGT-013), or None for text, files, messages."""
        self.replies_with_message = isinstance(self.output_model, type) and issubclass(
            self.output_model, Message
        )
        """The handler answers with a Message instead of running a task (AGT-018)."""
        self.may_reply = self.replies_with_message or (
            any(
                isinstance(a, type) and issubclass(a, Message)
                for a in typing.get_args(self.output_model)
            )
            and typing.get_origin(self.output_model) in (typing.Union, types.UnionType)
        )
        """The result may be a Message: a blocking call then answers it without a task."""
        self.streaming = inspect.isasyncgenfunction(self.handler)
        if self.replies_with_message and self.streaming:
            raise TypeError(f"skill {self.id!r}: a Message reply comes from a plain coroutine")
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

    def parse_input(self, payload: Any) -> Any:
        """The handler's input from a payload that passed the schema (may raise ValidationError)."""
        if self.input_model is str:
            return payload
        return self.input_model.model_validate(payload)

    def invoke(self, value: Any, ctx: SkillContext | None) -> Any:
        """Call the handler: a coroutine, or an async iterator for a streaming skill.

        ``ctx`` is required when :attr:`wants_context`, and ignored otherwise.
        """
        if not self.wants_context:
            return self.handler(value)
        if ctx is None:
            raise TypeError(f"skill {self.id!r}: the handler takes a context")
        return self.handler(value, ctx)

    def results(self, output: Any) -> tuple[list[Artifact], Message | None]:
        """The artifacts (and completed-status message) for what the handler returned.

        Raises TypeError when a typed skill's result does not satisfy its model.
        """
        if isinstance(output, Message):
            return [], output
        if self.typed_output is not None:
            return [self._artifact(0, [self._checked(output)])], None
        items = list(output) if isinstance(output, list | tuple) else [output]
        status = next((i for i in items if isinstance(i, Message)), None)
        values = [i for i in items if i is not None and not isinstance(i, Message)]
        return [self._artifact(n, [v]) for n, v in enumerate(values)], status

    @staticmethod
    def _artifact(index: int, values: list[Any]) -> Artifact:
        artifact_id = RESULT_ARTIFACT_ID if index == 0 else f"{RESULT_ARTIFACT_ID}-{index}"
        parts = [p for v in values for p in output_parts(v)]
        return Artifact(artifact_id=artifact_id, name=artifact_id, parts=parts)

    def _checked(self, output: Any) -> BaseModel:
        model = self.typed_output
        assert model is not None
        if isinstance(output, model):
            return output
        try:
            return model.model_validate(
                output.model_dump() if isinstance(output, BaseModel) else output
            )
        except ValidationError as exc:
            raise TypeError(f"handler output does not match {model.__name__}: {exc}") from exc

    def card_skill(self) -> AgentSkill:
        """The A2A ``AgentSkill`` entry (tags default to the model family: A2A requires some)."""
        return AgentSkill(
            id=self.id,
            name=self.name,
            description=self.description,
            tags=self.tags or [self.family.value],
            examples=[_example_text(ex) for ex, _ in self.examples] or None,
            input_modes=self.input_modes,
            output_modes=self.output_modes,
        )

    def profile(self) -> SkillProfile:
        """The card extension's profile: schemas, family, modalities, hints, examples."""
        examples = [
            SkillExample(input=_json(ex), output=None if out is None else _json(out))
            for ex, out in self.examples
        ]
        return SkillProfile(
            input_schema=self.input_schema,
            output_schema=self.output_schema,
            family=self.family,
            input_modalities=self.input_modalities or _modalities(self.input_modes or []),
            output_modalities=self.output_modalities or _modalities(self.output_modes or []),
            latency=None if self.latency_ms is None else LatencyHint(p50_ms=self.latency_ms),
            cost=None if self.cost_per_call is None else CostHint(per_call=self.cost_per_call),
            idempotent=self.idempotent,
            examples=examples or None,
        )


def _example_text(example: Any) -> str:
    if isinstance(example, str):
        return example
    if isinstance(example, BaseModel):
        return example.model_dump_json()
    return TypeAdapter(Any).dump_json(example).decode()


def _json(value: Any) -> JsonValue:
    if isinstance(value, BaseModel):
        dumped: JsonValue = value.model_dump(mode="json")
        return dumped
    return TypeAdapter(Any).dump_python(value, mode="json")  # type: ignore[no-any-return]
