from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import pytest
import rfc8785
from hypothesis import given, settings
from hypothesis import strategies as st

from woa_protocol import MAX_DEPTH, MAX_SAFE_INTEGER, canonicalize, canonicalize_str
from woa_protocol.errors import CanonicalizationError

from ._support import json_values


def nested(depth: int, inner: Any, kind: str = "list") -> Any:
    value = inner
    for _ in range(depth):
        value = [value] if kind == "list" else {"k": value}
    return value


@pytest.mark.req("JCS-001")
def test_output_is_compact_sorted_utf8() -> None:
    value = {"b": [1, True, None], "a": "é", "A": {"z": 0, "y": -1}}
    assert canonicalize(value) == '{"A":{"y":-1,"z":0},"a":"é","b":[1,true,null]}'.encode()
    assert canonicalize_str(value) == canonicalize(value).decode("utf-8")


@pytest.mark.req("JCS-001")
@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (1.0, b"1"),
        (-0.0, b"0"),
        (1e21, b"1e+21"),
        (1e-7, b"1e-7"),
        (0.000001, b"0.000001"),
        (123.456, b"123.456"),
        ((1, "a"), b'[1,"a"]'),
        ({"a": (1.5,)}, b'{"a":[1.5]}'),
        (True, b"true"),
        ("\u2028\x7f", '"\u2028\x7f"'.encode()),
        ("\x00\x1f", b'"\\u0000\\u001f"'),
    ],
)
def test_scalars_and_tuples(value: Any, expected: bytes) -> None:
    assert canonicalize(value) == expected


@pytest.mark.req("JCS-001")
def test_keys_sort_by_utf16_code_units_not_code_points() -> None:
    # U+1F600 is D83D DE00 in UTF-16, so it sorts before U+E000 and U+FB33
    value = {"\ufb33": 1, "\U0001f600": 2, "\ue000": 3}
    assert canonicalize(value) == canonicalize_str(value).encode()
    assert list(json.loads(canonicalize(value))) == ["\U0001f600", "\ue000", "\ufb33"]


@pytest.mark.req("JCS-002")
@pytest.mark.parametrize(
    "value",
    [
        float("nan"),
        float("inf"),
        float("-inf"),
        [1.5, float("nan")],
        MAX_SAFE_INTEGER + 2,
        -(MAX_SAFE_INTEGER + 2),
        2**60,
        10**21,
        [0.5, 2**53 + 1],
        {"a": 10**400},
        "\ud800",
        ["ok", "\udc00"],
        {"\ud800": 1},
        {"\ud800": 1.5},
        {"x": 1.5, "y": "\udfff"},
        {1: "int key"},
        {None: "null key"},
        {True: "bool key"},
        {(1, 2): "tuple key"},
        {"a": {1, 2}},
        b"bytes",
        Decimal("1.5"),
        object(),
    ],
    ids=lambda value: "object()" if type(value) is object else repr(value),  # same on every worker
)
def test_unrepresentable_values_are_rejected(value: Any) -> None:
    with pytest.raises(CanonicalizationError) as info:
        canonicalize(value)
    assert info.value.problem.slug == "not-canonicalizable"
    assert info.value.to_problem()["status"] == 422


@pytest.mark.req("JCS-002")
def test_safe_integer_bounds_are_accepted() -> None:
    assert canonicalize([MAX_SAFE_INTEGER, -MAX_SAFE_INTEGER]) == (
        b"[9007199254740991,-9007199254740991]"
    )


@pytest.mark.req("JCS-002")
@pytest.mark.req("JCS-005")
@pytest.mark.parametrize("with_float", [False, True])
def test_integers_spelled_as_jcs_writes_a_double_are_accepted(with_float: bool) -> None:
    # JCS writes the doubles 2**53 and 1e20 as integer literals; Python reads them back as int
    value: list[Any] = [2**53, -(2**53), 10**20, 1152921504606847000]
    if with_float:
        value.append(0.5)
    expected = "[9007199254740992,-9007199254740992,100000000000000000000,1152921504606847000"
    assert canonicalize(value) == (expected + (",0.5]" if with_float else "]")).encode()
    assert canonicalize([2.0**53, 1e20]) == b"[9007199254740992,100000000000000000000]"


@pytest.mark.req("JCS-004")
@pytest.mark.parametrize("kind", ["list", "dict"])
def test_depth_limit_counts_containers(kind: str) -> None:
    assert MAX_DEPTH == 128
    canonicalize(nested(MAX_DEPTH, 1, kind))
    canonicalize(nested(MAX_DEPTH - 1, [], kind))
    canonicalize(nested(MAX_DEPTH, 1.5, kind))  # the float path shares the rule
    with pytest.raises(CanonicalizationError, match="depth"):
        canonicalize(nested(MAX_DEPTH + 1, 1, kind))
    with pytest.raises(CanonicalizationError, match="depth"):
        canonicalize(nested(MAX_DEPTH, [], kind))
    with pytest.raises(CanonicalizationError, match="depth"):
        canonicalize(nested(MAX_DEPTH + 1, 1.5, kind))


@pytest.mark.req("JCS-004")
def test_very_deep_input_fails_cleanly() -> None:
    with pytest.raises(CanonicalizationError):
        canonicalize(nested(10_000, 1))


@pytest.mark.req("JCS-005")
@settings(max_examples=300, deadline=None)
@given(json_values)
def test_idempotent_and_round_trips(value: Any) -> None:
    once = canonicalize(value)
    # round trip: the same numbers as doubles (JCS numbers are IEEE-754 doubles)
    assert json.loads(once, parse_int=float) == value
    # idempotence with Python's own parser, which reads 1e20 back as the int 10**20
    assert canonicalize(json.loads(once)) == once


@pytest.mark.req("JCS-001")
@pytest.mark.req("JCS-003")
@settings(max_examples=300, deadline=None)
@given(json_values)
def test_equals_rfc8785_package_byte_for_byte(value: Any) -> None:
    assert canonicalize(value) == rfc8785.dumps(value)


_high_keys = st.text(
    st.sampled_from(["a", "Z", "\u00e9", "\ue000", "\uffff", "\U00010000", "\U0001f600", "\ufb33"]),
    max_size=4,
)


@pytest.mark.req("JCS-003")
@settings(max_examples=200, deadline=None)
@given(st.dictionaries(_high_keys, st.integers(-5, 5) | st.text(max_size=3), max_size=8))
def test_key_order_around_the_surrogate_range_matches_rfc8785(value: dict[str, Any]) -> None:
    # integer/string values keep the fast path unless a key lies beyond U+FFFF
    assert canonicalize(value) == rfc8785.dumps(value)
