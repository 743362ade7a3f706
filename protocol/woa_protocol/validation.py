"""JSON Schema (Draft 2020-12) checks for skill payloads, with the JSON path of each failure."""

from __future__ import annotations

import json
from functools import lru_cache
from typing import Any

import jsonschema
from jsonschema import Draft202012Validator

from .canonical import canonicalize_str
from .errors import SchemaError, ValidationFailedError

__all__ = ["check_schema", "ensure_valid", "validate_instance", "validator_for"]


def check_schema(schema: Any) -> None:
    """Raise :class:`SchemaError` unless ``schema`` is a valid Draft 2020-12 schema."""
    if not isinstance(schema, dict | bool):
        raise SchemaError("a JSON Schema is an object or a boolean")
    try:
        Draft202012Validator.check_schema(schema)
    except jsonschema.SchemaError as exc:
        raise SchemaError(f"invalid JSON Schema at {exc.json_path}: {exc.message}") from exc


@lru_cache(maxsize=1024)
def _validator(schema_text: str) -> Draft202012Validator:
    schema = json.loads(schema_text)
    check_schema(schema)
    return Draft202012Validator(schema, format_checker=Draft202012Validator.FORMAT_CHECKER)


def validator_for(schema: dict[str, Any]) -> Draft202012Validator:
    """Return a (cached) validator for ``schema``; raises :class:`SchemaError` if invalid."""
    return _validator(canonicalize_str(schema))


def validate_instance(schema: dict[str, Any], instance: Any) -> list[dict[str, str]]:
    """Return every failure as ``{"path": JSONPath, "message": ...}``, sorted by path."""
    errors = [
        {"path": error.json_path, "message": error.message}
        for error in validator_for(schema).iter_errors(instance)
    ]
    return sorted(errors, key=lambda e: (e["path"], e["message"]))


def ensure_valid(schema: dict[str, Any], instance: Any, *, what: str = "payload") -> None:
    """Raise :class:`ValidationFailedError` listing the failing paths, if any."""
    errors = validate_instance(schema, instance)
    if errors:
        paths = ", ".join(e["path"] for e in errors)
        raise ValidationFailedError(f"{what} fails its schema at {paths}", errors)
