"""JSON Schema (Draft 2020-12) checks for skill payloads, with the JSON path of each failure.

Two well-kept libraries, each for what it does best:

* ``jsonschema`` (Python) checks that a schema itself is valid Draft 2020-12 against the
  meta-schema (:func:`check_schema`): rare, and its error names the failing path;
* ``jsonschema-rs`` (Rust) validates payloads against compiled schemas: ~30x faster than
  the Python validator on a typical skill input (a skill call validates its input on every
  call, a client its output), and it asserts every format Draft 2020-12 defines, where
  the Python validator asserts only those whose optional libraries happen to be installed.

Validation never touches the network: a ``$ref`` to anything outside the schema itself is
reported as an invalid schema (VAL-003), so validating a payload cannot be made to fetch
URLs.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from functools import lru_cache
from typing import Any

import jsonschema
import jsonschema_rs
from jsonschema import Draft202012Validator

from .canonical import canonicalize_str
from .errors import SchemaError, ValidationFailedError

__all__ = [
    "CompiledSchema",
    "check_schema",
    "ensure_valid",
    "json_path",
    "validate_instance",
    "validator_for",
]

_PLAIN_NAME = re.compile(r"[a-zA-Z][a-zA-Z0-9_]*")


def check_schema(schema: Any) -> None:
    """Raise :class:`SchemaError` unless ``schema`` is a valid Draft 2020-12 schema."""
    if not isinstance(schema, dict | bool):
        raise SchemaError("a JSON Schema is an object or a boolean")
    try:
        Draft202012Validator.check_schema(schema)
    except jsonschema.SchemaError as exc:
        raise SchemaError(f"invalid JSON Schema at {exc.json_path}: {exc.message}") from exc


def json_path(location: Sequence[str | int]) -> str:
    """Write an instance location as a JSON path: ``$``, ``$.items[2].name``, ``$['a b']``."""
    path = "$"
    for step in location:
        if isinstance(step, int):
            path += f"[{step}]"
        elif _PLAIN_NAME.fullmatch(step):
            path += "." + step
        else:
            path += "['" + step.replace("\\", "\\\\").replace("'", "\\'") + "']"
    return path


class CompiledSchema:
    """A Draft 2020-12 schema compiled once, with format assertions on and no network."""

    __slots__ = ("_validator", "schema")

    def __init__(self, schema: dict[str, Any] | bool) -> None:
        check_schema(schema)
        self.schema = schema
        try:
            self._validator = jsonschema_rs.Draft202012Validator(
                schema, validate_formats=True, offline=True
            )
        except jsonschema_rs.ValidationError as exc:  # e.g. an unresolvable $ref
            raise SchemaError(f"schema cannot be compiled: {exc.message}") from exc
        except ValueError as exc:  # e.g. a pattern that is no regular expression
            raise SchemaError(f"schema cannot be compiled: {exc}") from exc

    def is_valid(self, instance: Any) -> bool:
        """Return True when ``instance`` satisfies the schema."""
        return bool(self._validator.is_valid(instance))

    def errors(self, instance: Any) -> list[dict[str, str]]:
        """Return every failure as ``{"path": JSONPath, "message": ...}``, sorted by path."""
        if self._validator.is_valid(instance):
            return []
        found = [
            {"path": json_path(error.instance_path), "message": error.message}
            for error in self._validator.iter_errors(instance)
        ]
        return sorted(found, key=lambda e: (e["path"], e["message"]))


@lru_cache(maxsize=1024)
def _compiled(schema_text: str) -> CompiledSchema:
    return CompiledSchema(json.loads(schema_text))


def validator_for(schema: dict[str, Any] | bool) -> CompiledSchema:
    """Return the (cached) compiled ``schema``; raises :class:`SchemaError` if invalid."""
    return _compiled(canonicalize_str(schema))


def validate_instance(schema: dict[str, Any], instance: Any) -> list[dict[str, str]]:
    """Return every failure as ``{"path": JSONPath, "message": ...}``, sorted by path."""
    return validator_for(schema).errors(instance)


def ensure_valid(schema: dict[str, Any], instance: Any, *, what: str = "payload") -> None:
    """Raise :class:`ValidationFailedError` listing the failing paths, if any."""
    errors = validate_instance(schema, instance)
    if errors:
        paths = ", ".join(e["path"] for e in errors)
        raise ValidationFailedError(f"{what} fails its schema at {paths}", errors)
