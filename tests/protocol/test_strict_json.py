from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from woa_protocol import MAX_DEPTH, strict_json
from woa_protocol.errors import CanonicalizationError, DuplicateMemberError, MalformedJsonError
from woa_protocol.validation import json_path

from ._support import json_values


@pytest.mark.req("JCS-006")
@settings(max_examples=300, deadline=None)
@given(json_values, st.booleans())
def test_round_trip_of_valid_documents_equals_json_loads(value: Any, ascii_only: bool) -> None:
    text = json.dumps(value, ensure_ascii=ascii_only)
    assert strict_json.loads(text) == json.loads(text)
    assert strict_json.loads(text.encode("utf-8")) == json.loads(text)


def _objects(value: Any, location: list[str | int]) -> list[tuple[list[str | int], dict[str, Any]]]:
    """Every non-empty object in ``value`` with its location, in pre-order."""
    found: list[tuple[list[str | int], dict[str, Any]]] = []
    if isinstance(value, dict):
        if value:
            found.append((location, value))
        for name, child in value.items():
            found += _objects(child, [*location, name])
    elif isinstance(value, list):
        for index, child in enumerate(value):
            found += _objects(child, [*location, index])
    return found


def _dump_with_duplicate(value: Any, target: dict[str, Any], name: str) -> str:
    """Serialise ``value`` writing member ``name`` of the object ``target`` twice."""
    if isinstance(value, dict):
        members = [
            json.dumps(key) + ":" + _dump_with_duplicate(child, target, name)
            for key, child in value.items()
        ]
        if value is target:
            members.append(json.dumps(name) + ":" + json.dumps(value[name]))
        return "{" + ",".join(members) + "}"
    if isinstance(value, list):
        return "[" + ",".join(_dump_with_duplicate(c, target, name) for c in value) + "]"
    return json.dumps(value)


@pytest.mark.req("JCS-006")
@settings(max_examples=300, deadline=None)
@given(
    json_values.filter(lambda v: bool(_objects(v, []))),
    st.data(),
)
def test_any_duplicated_name_anywhere_is_refused_with_its_path(value: Any, data: Any) -> None:
    location, target = data.draw(st.sampled_from(_objects(value, [])))
    name = data.draw(st.sampled_from(sorted(target)))
    text = _dump_with_duplicate(value, target, name)
    assert json.loads(text) == value  # the stdlib would have taken it silently
    with pytest.raises(DuplicateMemberError) as info:
        strict_json.loads(text)
    assert info.value.extensions == {"path": json_path(location), "name": name}
    assert info.value.problem.slug == "duplicate-member-name"
    assert info.value.problem.status == 400


@pytest.mark.req("JCS-006")
def test_duplicate_error_names_the_path_precisely() -> None:
    with pytest.raises(DuplicateMemberError) as info:
        strict_json.loads(b'{"card":{"skills":[{"id":"a"},{"id":"b","id":"c"}]}}')
    assert info.value.extensions == {"path": "$.card.skills[1]", "name": "id"}
    assert "$.card.skills[1]" in info.value.detail
    with pytest.raises(DuplicateMemberError) as info:
        strict_json.loads('{"a b":{"x":1,"x":1}}')
    assert info.value.extensions["path"] == "$['a b']"
    # equal names spelled differently are the same name
    with pytest.raises(DuplicateMemberError):
        strict_json.loads('{"a":1,"\\u0061":2}')


@pytest.mark.req("JCS-004")
@pytest.mark.parametrize("depth", [MAX_DEPTH + 1, 200, 1_000, 100_000])
@pytest.mark.parametrize(("open_", "close"), [("[", "]"), ('{"k":', "}")])
def test_every_depth_past_the_limit_gets_one_answer(depth: int, open_: str, close: str) -> None:
    with pytest.raises(CanonicalizationError) as info:
        strict_json.loads(open_ * depth + "0" + close * depth)
    assert info.value.problem.slug == "not-canonicalizable"
    assert str(MAX_DEPTH) in info.value.detail


@pytest.mark.req("JCS-004")
def test_the_limit_itself_is_accepted() -> None:
    text = "[" * MAX_DEPTH + "0" + "]" * MAX_DEPTH
    assert strict_json.loads(text) == json.loads(text)
    wide = "[" + ",".join(["[[1]]"] * 200) + "]"  # many brackets, shallow
    assert strict_json.loads(wide) == json.loads(wide)


@pytest.mark.parametrize(
    "text",
    [b"", b" ", b"NaN", b"[Infinity]", b'{"a":1,}', b"\xff", b'"\xff"', b'"\\ud800"', b"{} x"],
)
def test_what_is_not_json_is_malformed(text: bytes) -> None:
    with pytest.raises(MalformedJsonError) as info:
        strict_json.loads(text)
    assert type(info.value) is MalformedJsonError
    assert info.value.problem.status == 400
