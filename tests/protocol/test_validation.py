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
from woa_protocol.validation import CompiledSchema, json_path, validator_for

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
    assert '"name" is a required property' in messages
    assert "Additional properties" in messages
    assert '"31/01/2026" is not a "date"' in messages


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


@pytest.mark.req("VAL-001")
@pytest.mark.parametrize(
    ("fmt", "good", "bad"),
    [
        ("date-time", "2026-12-02T03:17:39Z", "2026-12-02 03:17"),
        ("uri", "https://example.org/a?b=1", "not a uri"),
        ("hostname", "agent.example.org", "-bad-.example"),
        ("email", "ada@example.org", "ada"),
        ("ipv4", "127.0.0.1", "300.1.1.1"),
        ("uuid", "0b7c7e30-6c1e-4c59-9b8e-3a1f4d1c2b9a", "0b7c7e30"),
        ("duration", "P3D", "3 days"),
    ],
)
def test_every_standard_format_is_asserted(fmt: str, good: str, bad: str) -> None:
    schema = {"type": "string", "format": fmt}
    assert validate_instance(schema, good) == []
    errors = validate_instance(schema, bad)
    assert [e["path"] for e in errors] == ["$"]
    assert fmt in errors[0]["message"]


@pytest.mark.req("VAL-001")
def test_unknown_formats_are_annotations_only() -> None:
    assert validate_instance({"type": "string", "format": "x-woa-colour"}, "teal") == []


@pytest.mark.req("VAL-003")
@pytest.mark.parametrize(
    "ref", ["http://127.0.0.1:9/schema.json", "https://example.org/s.json", "file:///etc/passwd"]
)
def test_a_ref_outside_the_schema_is_an_invalid_schema_and_fetches_nothing(ref: str) -> None:
    schema = {"type": "object", "properties": {"a": {"$ref": ref}}}
    with pytest.raises(SchemaError) as info:
        validate_instance(schema, {"a": 1})
    assert info.value.problem.slug == "invalid-schema"
    assert ref in info.value.detail


@pytest.mark.req("VAL-003")
def test_refs_inside_the_schema_resolve() -> None:
    schema = {
        "$defs": {"qty": {"type": "integer", "minimum": 1}},
        "type": "object",
        "properties": {"qty": {"$ref": "#/$defs/qty"}},
    }
    assert validate_instance(schema, {"qty": 2}) == []
    assert [e["path"] for e in validate_instance(schema, {"qty": 0})] == ["$.qty"]


def test_json_paths_quote_names_that_are_not_plain() -> None:
    assert json_path([]) == "$"
    assert json_path(["items", 2, "name"]) == "$.items[2].name"
    assert json_path(["a b", "it's", "x\\y", "_p", "n1"]) == (
        "$['a b']['it\\'s']['x\\\\y']['_p'].n1"
    )
    errors = validate_instance({"properties": {"a b": {"type": "string"}}}, {"a b": 1})
    assert errors[0]["path"] == "$['a b']"


def test_payload_integers_beyond_64_bits_are_compared_exactly() -> None:
    schema = {"type": "integer", "minimum": 2**53 - 1}
    assert validate_instance(schema, 2**70) == []
    assert [e["path"] for e in validate_instance(schema, -(2**70))] == ["$"]


def test_compiled_schema_answers_is_valid_and_errors_alike() -> None:
    compiled = CompiledSchema(SCHEMA)
    assert compiled.is_valid({"name": "x"})
    assert compiled.errors({"name": "x"}) == []
    assert not compiled.is_valid({})
    assert compiled.errors({}) == validate_instance(SCHEMA, {})
