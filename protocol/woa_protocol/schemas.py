"""JSON Schemas generated from the wire models (``spec/schemas/v1``).

``woa spec schemas --write`` regenerates the files; ``--check`` (run by ``make test``) fails
when the committed files differ from what the models generate.
"""

from __future__ import annotations

import json
from typing import Any

from pydantic import BaseModel
from pydantic.json_schema import GenerateJsonSchema, JsonSchemaValue
from pydantic_core import core_schema

from .models import (
    AgentCard,
    AgentSkill,
    Artifact,
    CallTrail,
    Message,
    Part,
    ProblemDetails,
    SkillProfile,
    Task,
    WoaCardExtension,
)

__all__ = [
    "SCHEMA_BASE_URI",
    "SCHEMA_MODELS",
    "WireJsonSchema",
    "generate_schemas",
    "render_schema",
]

SCHEMA_BASE_URI = "urn:woa:schema:v1:"
"""Prefix of every generated schema's ``$id``."""

SCHEMA_MODELS: dict[str, type[BaseModel]] = {
    "agent-card": AgentCard,
    "agent-skill": AgentSkill,
    "message": Message,
    "part": Part,
    "task": Task,
    "artifact": Artifact,
    "woa-card-extension": WoaCardExtension,
    "skill-profile": SkillProfile,
    "problem-details": ProblemDetails,
    "call-trail": CallTrail,
}
"""File stem -> model. Later layers add their request/response models here."""


class WireJsonSchema(GenerateJsonSchema):
    """Schemas of the wire form: optional members are omitted, never ``null``.

    The models accept ``null`` for an absent member (ProtoJSON readers do), but writers
    never send it, so the published schemas describe members without the ``null`` branch
    and without pydantic's auto-generated titles.
    """

    def nullable_schema(self, schema: core_schema.NullableSchema) -> JsonSchemaValue:
        """Describe ``X | None`` as ``X``."""
        return self.generate_inner(schema["schema"])

    def field_title_should_be_set(self, schema: Any) -> bool:
        """Leave out per-field titles (they only restate the member name)."""
        return False

    def default_schema(self, schema: core_schema.WithDefaultSchema) -> JsonSchemaValue:
        """Omit ``default: null`` (absent members are simply absent)."""
        value = super().default_schema(schema)
        if value.get("default", ...) is None:
            value.pop("default")
        return value


def _schema_for(model: type[BaseModel]) -> dict[str, Any]:
    return model.model_json_schema(
        by_alias=True, mode="validation", schema_generator=WireJsonSchema
    )


def generate_schemas() -> dict[str, dict[str, Any]]:
    """Return ``{file name: schema}`` for every model in :data:`SCHEMA_MODELS`."""
    out: dict[str, dict[str, Any]] = {}
    for stem, model in sorted(SCHEMA_MODELS.items()):
        schema = {
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "$id": f"{SCHEMA_BASE_URI}{stem}",
            **_schema_for(model),
        }
        out[f"{stem}.json"] = schema
    return out


def render_schema(schema: dict[str, Any]) -> str:
    """Serialise a schema the way it is committed (stable, diff-friendly)."""
    return json.dumps(schema, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
