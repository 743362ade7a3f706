"""The try-it form generated from an input schema, and the payload read back from it."""

from __future__ import annotations

from typing import Any

import pytest

from woa_registry.ui.forms import JSON_FIELD, TEXT_FIELD, form_fields, payload_from_form

SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "name": {"type": "string", "title": "Name", "description": "who"},
        "times": {"type": "integer", "default": 1},
        "ratio": {"type": "number"},
        "loud": {"type": "boolean"},
        "lang": {"enum": ["en", "fr"]},
        "extra": {"type": "object"},
    },
    "required": ["name", "loud"],
}


def test_one_labelled_field_per_property() -> None:
    fields = {f.name: f for f in form_fields(SCHEMA)}
    assert {n: f.kind for n, f in fields.items()} == {
        "name": "text",
        "times": "integer",
        "ratio": "number",
        "loud": "checkbox",
        "lang": "select",
        "extra": "json",
    }
    assert fields["name"].label == "Name"
    assert fields["name"].required
    assert fields["times"].default == "1"
    assert fields["lang"].options == ["en", "fr"]


def test_a_text_skill_gets_a_plain_text_area() -> None:
    (only,) = form_fields({"type": "string"})
    assert only.name == TEXT_FIELD
    assert only.kind == "textarea"
    assert payload_from_form({"type": "string"}, {TEXT_FIELD: 'say "hi"'}) == 'say "hi"'


@pytest.mark.parametrize("schema", [None, {"type": "array"}, {"type": "object"}])
def test_other_schemas_get_one_json_area(schema: dict[str, Any] | None) -> None:
    (only,) = form_fields(schema)
    assert only.name == JSON_FIELD
    assert only.kind == "json"
    assert payload_from_form(schema, {JSON_FIELD: '"hi"'}) == "hi"


def test_values_are_converted_by_type() -> None:
    form = {"name": "Ada", "times": "3", "ratio": "0.5", "lang": "fr", "extra": '{"a": 1}'}
    assert payload_from_form(SCHEMA, form) == {
        "name": "Ada",
        "times": 3,
        "ratio": 0.5,
        "loud": False,  # required checkbox left unticked
        "lang": "fr",
        "extra": {"a": 1},
    }
    assert payload_from_form(SCHEMA, {"name": "Bo", "loud": "on", "times": ""}) == {
        "name": "Bo",
        "loud": True,
    }


@pytest.mark.parametrize(
    ("form", "message"),
    [
        ({"times": "x"}, "times: 'x' is not an integer"),
        ({"ratio": "1,5"}, "ratio: '1,5' is not a number"),
        ({"extra": "{"}, "extra: not JSON"),
    ],
)
def test_bad_values_name_their_field(form: dict[str, str], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        payload_from_form(SCHEMA, {"name": "A", **form})
