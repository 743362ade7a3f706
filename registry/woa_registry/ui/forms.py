"""The try-it form: fields generated from a skill's input schema, and the payload back.

An object schema with ``properties`` gets one labelled field per property (text, number,
checkbox, a select for ``enum``, a JSON text area for anything nested); any other schema
gets one JSON text area. The payload is then checked against the schema by the agent (and
by the client, which validates before sending), so this module only converts types.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

__all__ = ["JSON_FIELD", "TEXT_FIELD", "FormField", "form_fields", "payload_from_form"]

JSON_FIELD = "__json__"
"""Name of the single text area used when a schema has no simple properties."""
TEXT_FIELD = "__text__"
"""Name of the single text area of a skill whose input is a string (a text skill)."""


@dataclass
class FormField:
    """One input of the try-it form."""

    name: str
    label: str
    kind: str
    """``text``, ``textarea``, ``number``, ``integer``, ``checkbox``, ``select`` or ``json``."""
    required: bool = False
    description: str = ""
    options: list[str] = field(default_factory=list)
    default: str = ""


def _kind(schema: dict[str, Any]) -> str:
    if "enum" in schema and all(isinstance(v, str) for v in schema["enum"]):
        return "select"
    kind = schema.get("type")
    if kind == "string":
        return "text"
    if kind in ("number", "integer"):
        return str(kind)
    if kind == "boolean":
        return "checkbox"
    return "json"


def form_fields(schema: dict[str, Any] | None) -> list[FormField]:
    """The inputs for ``schema`` (one JSON text area unless it is an object of properties)."""
    if (schema or {}).get("type") == "string":
        return [FormField(TEXT_FIELD, "Text", "textarea", required=True)]
    properties = (schema or {}).get("properties")
    if (schema or {}).get("type") != "object" or not isinstance(properties, dict) or not properties:
        return [FormField(JSON_FIELD, "Input (JSON)", "json", required=True)]
    required = set((schema or {}).get("required", []))
    fields = []
    for name, sub in properties.items():
        sub = sub if isinstance(sub, dict) else {}
        default = sub.get("default")
        fields.append(
            FormField(
                name=name,
                label=str(sub.get("title") or name),
                kind=_kind(sub),
                required=name in required,
                description=str(sub.get("description", "")),
                options=[str(v) for v in sub.get("enum", [])],
                default="" if default is None else str(default),
            )
        )
    return fields


def payload_from_form(schema: dict[str, Any] | None, form: dict[str, str]) -> Any:
    """Build the JSON payload from submitted values; raise ValueError naming the field."""
    fields = form_fields(schema)
    if fields[0].name == TEXT_FIELD:
        return form.get(TEXT_FIELD, "")
    if fields[0].name == JSON_FIELD:
        return _json(JSON_FIELD, form.get(JSON_FIELD, ""))
    payload: dict[str, Any] = {}
    for f in fields:
        raw = form.get(f.name)
        if f.kind == "checkbox":
            if raw is not None or f.required:
                payload[f.name] = raw is not None
            continue
        if raw is None or (raw == "" and f.kind != "text"):
            continue  # left empty: the agent's schema decides whether that is allowed
        if f.kind == "integer":
            try:
                payload[f.name] = int(raw)
            except ValueError:
                raise ValueError(f"{f.label}: {raw!r} is not an integer") from None
        elif f.kind == "number":
            try:
                payload[f.name] = float(raw)
            except ValueError:
                raise ValueError(f"{f.label}: {raw!r} is not a number") from None
        elif f.kind == "json":
            payload[f.name] = _json(f.label, raw)
        else:
            payload[f.name] = raw
    return payload


def _json(label: str, raw: str) -> Any:
    try:
        return json.loads(raw)
    except json.JSONDecodeError as exc:
        raise ValueError(f"{label}: not JSON ({exc.msg} at column {exc.colno})") from None
