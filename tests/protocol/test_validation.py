from __future__ import annotations

from typing import Any

import pytest

from woa_protocol import (
    SchemaError,
    ValidationFailedError,
    check_schema,
    ensure_valid,
    validate_instance,
)
from woa_protocol.validation import validator_for

SCHEMA = {
    "type": "object",
    "properties": {
        "name": {"type": "string", "minLength": 1},
        "items": {
            "type": "array",
            "items": {"type": "object", "properties": {"qty": {"type": "integer", "minimum": 1}}},
        },
        "when": {"type": "string", "format": "date"},
        "pair": {"type": "array", "prefixItems": [{"type": "string"}, {"type": "number"}]},
    },
    "required": ["name"],
    "additionalProperties": False,
}


@pytest.mark.req("VAL-001")
def test_valid_payload_has_no_errors() -> None:
    payload = {"name": "x", "items": [{"qty": 1}], "when": "2026-01-31", "pair": ["a", 1.5]}
    assert validate_instance(SCHEMA, payload) == []
    ensure_valid(SCHEMA, payload)


@pytest.mark.req("VAL-001")
def test_each_failure_is_reported_with_its_json_path() -> None:
    payload = {"items": [{"qty": 1}, {"qty": 0}], "when": "31/01/2026", "pair": [1, "b"], "x": 1}
    errors = validate_instance(SCHEMA, payload)
    assert [e["path"] for e in errors] == [
        "$",
        "$",
        "$.items[1].qty",
        "$.pair[0]",
        "$.pair[1]",
        "$.when",
    ]
    messages = " ".join(e["message"] for e in errors)
    assert "'name' is a required property" in messages
    assert "Additional properties" in messages
    assert "is not a 'date'" in messages


@pytest.mark.req("VAL-001")
@pytest.mark.req("ERR-001")
def test_ensure_valid_raises_validation_failed_with_errors() -> None:
    with pytest.raises(ValidationFailedError) as info:
        ensure_valid(SCHEMA, {"name": ""}, what="input")
    error = info.value
    assert error.errors == [{"path": "$.name", "message": error.errors[0]["message"]}]
    assert "input fails its schema at $.name" in error.detail
    problem = error.to_problem(instance="/tasks/1")
    assert problem["type"] == "urn:woa:problem:validation-failed"
    assert problem["status"] == 422
    assert problem["errors"] == error.errors
    assert problem["instance"] == "/tasks/1"


@pytest.mark.req("VAL-002")
@pytest.mark.parametrize(
    "schema",
    [
        {"type": "strnig"},
        {"properties": {"a": {"minimum": "one"}}},
        {"required": [1]},
        ["not", "a", "schema"],
        "string",
        None,
    ],
    ids=repr,
)
def test_invalid_schema_is_invalid_schema_not_a_payload_failure(schema: Any) -> None:
    with pytest.raises(SchemaError) as info:
        check_schema(schema)
    assert info.value.problem.slug == "invalid-schema"
    assert info.value.problem.status == 422
    if isinstance(schema, dict):
        with pytest.raises(SchemaError):
            validate_instance(schema, {})
        with pytest.raises(SchemaError):
            ensure_valid(schema, {})
        assert not isinstance(info.value, ValidationFailedError)


@pytest.mark.req("VAL-002")
def test_boolean_schemas_are_valid() -> None:
    check_schema(True)
    check_schema(False)


def test_validators_are_cached_by_canonical_schema() -> None:
    first = validator_for({"type": "object", "required": ["a"]})
    assert validator_for({"required": ["a"], "type": "object"}) is first
