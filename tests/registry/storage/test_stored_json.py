"""Stored JSON reads back exactly as :func:`json.loads` would read it, whichever parser runs."""

from __future__ import annotations

import json
import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from woa_registry.storage._shared import _dump_json, _loads, decode_json_object

JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**30), max_value=10**30)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),  # lone surrogates included: ensure_ascii escapes them
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=20,
)


@given(JSON)
def test_stored_json_reads_back_like_json_loads(value: object) -> None:
    text = _dump_json(value, "value")
    got = _loads(text)
    assert got == json.loads(text)
    assert json.dumps(got) == json.dumps(json.loads(text))  # same floats, same key order


def test_what_the_fast_parser_refuses_is_still_read() -> None:
    assert decode_json_object('{"odd": "\\ud800"}') == {"odd": "\ud800"}
    deep = "[" * 500 + "]" * 500  # deeper than pydantic-core parses
    assert _loads(deep) == json.loads(deep)
    assert _loads("1e400") == math.inf == json.loads("1e400")
    with pytest.raises(json.JSONDecodeError, match="Expecting value"):
        _loads("not json")
