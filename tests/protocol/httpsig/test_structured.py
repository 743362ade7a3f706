from __future__ import annotations

from decimal import Decimal
from typing import Any

import http_sf
import pytest
from http_sf.types import Token as SfToken
from hypothesis import given, settings
from hypothesis import strategies as st

from woa_protocol.httpsig.fastparse import (
    parse_byte_sequence_member,
    parse_canonical_signature_input,
)
from woa_protocol.httpsig.structured import (
    InnerList,
    Item,
    StructuredFieldError,
    Token,
    parse_dictionary,
    serialize_dictionary,
    serialize_inner_list,
    serialize_item,
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", {}),
        ("a=1", {"a": Item(1)}),
        ("a=-42, b=?0", {"a": Item(-42), "b": Item(False)}),
        ("a", {"a": Item(True)}),
        ("a;x=1", {"a": Item(True, {"x": 1})}),
        ('s="he said \\"hi\\" \\\\o/"', {"s": Item('he said "hi" \\o/')}),
        ("t=foo/bar:baz*", {"t": Item(Token("foo/bar:baz*"))}),
        ("d=1.5, e=-0.250", {"d": Item(1.5), "e": Item(-0.25)}),
        ("b=:AQID:", {"b": Item(b"\x01\x02\x03")}),
        ("b=:AQI:", {"b": Item(b"\x01\x02")}),  # RFC 8941 4.2.7: padding may be missing
        (
            'l=("a" b;q=1 :AA==:);p',
            {"l": InnerList([Item("a"), Item(Token("b"), {"q": 1}), Item(b"\x00")], {"p": True})},
        ),
        ("l=()", {"l": InnerList([])}),
        ("  a=1 ,\tb=2  ", {"a": Item(1), "b": Item(2)}),
        ("a=1, b=2, a=3", {"a": Item(3), "b": Item(2)}),
    ],
)
def test_parse_dictionary(text: str, expected: dict[str, Any]) -> None:
    parsed = parse_dictionary(text)
    assert parsed == expected
    assert list(parsed) == list(expected)  # a repeated key keeps its first position


@pytest.mark.parametrize(
    "text",
    [
        "A=1",
        "a=",
        "a=1,",
        "a=1 b=2",
        "a=1234567890123456",
        "a=1.2345",
        "a=1234567890123.5",
        "a=1.",
        "a=-",
        'a="unterminated',
        'a="tab\tinside"',
        'a="bad \\escape"',
        "a=:not base64!:",
        "a=:AQ=D:",
        "a=?2",
        "a=(1 2",
        "a=(1,2)",
        "a=@date",
        "a=é",
        "a;=1",
    ],
)
def test_malformed_dictionaries_are_rejected(text: str) -> None:
    with pytest.raises(StructuredFieldError):
        parse_dictionary(text)


@pytest.mark.parametrize(
    ("item", "text"),
    [
        (Item(True), "?1"),
        (Item(False, {"a": True, "b": False}), "?0;a;b=?0"),
        (Item(0), "0"),
        (Item(-999_999_999_999_999), "-999999999999999"),
        (Item(2.0), "2.0"),
        (Item(1.23456), "1.235"),
        (Item('a"b\\c'), '"a\\"b\\\\c"'),
        (Item(Token("*tok")), "*tok"),
        (Item(b"\xff"), ":/w==:"),
    ],
)
def test_serialize_item(item: Item, text: str) -> None:
    assert serialize_item(item) == text


@pytest.mark.parametrize(
    "item",
    [
        Item(10**15),
        Item("line\nbreak"),
        Item("é"),
        Item(Token("1abc")),
        Item(None),  # type: ignore[arg-type]
    ],
    ids=repr,
)
def test_unserialisable_items_are_rejected(item: Item) -> None:
    with pytest.raises(StructuredFieldError):
        serialize_item(item)


# --- cross-check with http_sf, the RFC 8941 library http-message-signatures uses ----------

_keys = st.from_regex(r"[a-z*][a-z0-9_\-.*]{0,6}", fullmatch=True)
_bare = st.one_of(
    st.integers(-999_999_999_999_999, 999_999_999_999_999),
    st.decimals(
        min_value=Decimal("-999999999999.999"),
        max_value=Decimal("999999999999.999"),
        places=3,
        allow_nan=False,
        allow_infinity=False,
    ),
    st.text(st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=12),
    st.from_regex(r"[A-Za-z*][!#$%&'*+\-.^_`|~0-9A-Za-z:/]{0,8}", fullmatch=True).map(SfToken),
    st.binary(max_size=12),
    st.booleans(),
)
_params = st.dictionaries(_keys, _bare, max_size=3)
_items = st.tuples(_bare, _params)
_members = _items | st.tuples(st.lists(_items, max_size=4), _params)
sf_dictionaries = st.dictionaries(_keys, _members, min_size=1, max_size=4)


def _neutral_bare(value: Any) -> Any:
    if isinstance(value, bool):
        return ("bool", value)
    if isinstance(value, int):
        return ("int", value)
    if isinstance(value, Decimal | float):
        return ("dec", round(float(value), 3))
    if isinstance(value, SfToken | Token):
        return ("token", str(value))
    if isinstance(value, str):
        return ("str", value)
    if isinstance(value, bytes):
        return ("bytes", value)
    raise AssertionError(value)


def _neutral_params(params: dict[str, Any]) -> list[Any]:
    return [(k, _neutral_bare(v)) for k, v in params.items()]


def from_http_sf(parsed: dict[str, Any]) -> list[Any]:
    out = []
    for key, (value, params) in parsed.items():
        if isinstance(value, list):
            inner = [(_neutral_bare(v), _neutral_params(p)) for v, p in value]
            out.append((key, "inner", inner, _neutral_params(params)))
        else:
            out.append((key, "item", _neutral_bare(value), _neutral_params(params)))
    return out


def from_ours(parsed: dict[str, Item | InnerList]) -> list[Any]:
    out = []
    for key, member in parsed.items():
        if isinstance(member, InnerList):
            inner = [(_neutral_bare(i.value), _neutral_params(i.params)) for i in member.items]
            out.append((key, "inner", inner, _neutral_params(member.params)))
        else:
            out.append((key, "item", _neutral_bare(member.value), _neutral_params(member.params)))
    return out


@settings(max_examples=300, deadline=None)
@given(sf_dictionaries)
def test_parser_agrees_with_http_sf_and_serialises_canonically(native: dict[str, Any]) -> None:
    text = http_sf.ser(native)
    ours = parse_dictionary(text)
    assert from_ours(ours) == from_http_sf(http_sf.parse(text.encode(), tltype="dictionary"))
    assert serialize_dictionary(ours) == text  # http_sf writes the canonical form


@settings(max_examples=200, deadline=None)
@given(sf_dictionaries, st.sampled_from([" ", "  ", "\t", ""]))
def test_whitespace_around_members_is_ignored_like_http_sf(
    native: dict[str, Any], ows: str
) -> None:
    # whitespace goes between members only (a string value may itself hold ", ")
    text = ("," + ows).join(http_sf.ser({key: value}) for key, value in native.items())
    ours = parse_dictionary(" " + text + " ")
    assert from_ours(ours) == from_http_sf(http_sf.parse(text.encode(), tltype="dictionary"))


@settings(max_examples=200, deadline=None)
@given(st.text(st.sampled_from('a=1(")?:;, b*-.\\xAQ=/é\t'), max_size=20))
def test_arbitrary_text_parses_like_http_sf_or_fails_like_it(text: str) -> None:
    try:
        expected = from_http_sf(http_sf.parse(text.encode(), tltype="dictionary"))
    except Exception:  # http_sf raises ValueError subclasses and others for bad input
        with pytest.raises(StructuredFieldError):
            parse_dictionary(text)
        return
    assert from_ours(parse_dictionary(text)) == expected


# --- the fast paths used for signature fields agree with the general parser -------------

_component = st.from_regex(r"@?[a-z0-9\-_.]{1,10}", fullmatch=True)
_sig_params = st.dictionaries(
    _keys,
    st.integers(-999_999_999_999_999, 999_999_999_999_999)
    | st.text(st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=12),
    max_size=5,
)


@settings(max_examples=300, deadline=None)
@given(_keys, st.lists(_component, max_size=6, unique=True), _sig_params)
def test_fast_signature_input_parse_equals_general_parse(
    label: str, components: list[str], params: dict[str, Any]
) -> None:
    inner = InnerList([Item(c) for c in components], params)
    text = f"{label}={serialize_inner_list(inner)}"
    general = parse_dictionary(text)
    fast = parse_canonical_signature_input(text)
    if fast is None:  # only strings with escapes fall back
        assert any(isinstance(v, str) and ('"' in v or "\\" in v) for v in params.values())
        return
    assert fast == general
    fast_inner = fast[label]
    assert isinstance(fast_inner, InnerList)
    assert fast_inner.text == serialize_inner_list(InnerList(inner.items, inner.params))
    assert fast_inner.idents == tuple(serialize_item(item) for item in inner.items)


@settings(max_examples=300, deadline=None)
@given(st.text(st.sampled_from('a=("@method";)created=1-0\\ x?:'), max_size=40))
def test_fast_signature_input_parse_never_disagrees_with_the_general_parser(text: str) -> None:
    fast = parse_canonical_signature_input(text)
    if fast is None:
        return
    assert fast == parse_dictionary(text)
    (inner,) = fast.values()
    assert isinstance(inner, InnerList)
    assert inner.text == serialize_inner_list(InnerList(inner.items, inner.params))
    assert inner.idents == tuple(serialize_item(item) for item in inner.items)


def test_fast_parses_of_the_same_components_do_not_share_a_list() -> None:
    text = 'sig=("@method" "@path");created=1;keyid="k"'
    first = parse_canonical_signature_input(text)
    second = parse_canonical_signature_input(text.replace("created=1", "created=2"))
    assert first is not None
    assert second is not None
    one, two = first["sig"], second["sig"]
    assert isinstance(one, InnerList)
    assert isinstance(two, InnerList)
    assert one.items == two.items == [Item("@method"), Item("@path")]
    one.items.append(Item("@query"))
    assert two.items == [Item("@method"), Item("@path")]
    assert two.params == {"created": 2, "keyid": "k"}


@pytest.mark.parametrize(
    "text",
    [
        'a=("@method");created=-0',
        'a=("@method");created=007',
        'a=("@method");x=1;x=2',
        'a=("@method");created=1.5',
        'a=("@method" "content-digest";req)',
        'a=("@method"), b=("@path")',
        'a=("@method");created=?1',
        'a=("@method");created=1234567890123456',
        'a=("@method");nonce="x\\"y"',
        'a=("@method");nonce="unterminated',
        'a=("@method";req)',
        'a=("@method")created=1',
        'a=("@method");=1',
        'a=("@method");Created=1',
        'a=("@method");n="é"',
        "a=(@method)",
        'a=("@method"  "@path")',
    ],
)
def test_non_canonical_signature_input_takes_the_general_path(text: str) -> None:
    assert parse_canonical_signature_input(text) is None


@settings(max_examples=200, deadline=None)
@given(_keys, st.binary(max_size=80))
def test_fast_byte_sequence_parse_equals_general_parse(label: str, value: bytes) -> None:
    text = serialize_dictionary({label: Item(value)})
    assert parse_byte_sequence_member(text) == parse_dictionary(text) == {label: Item(value)}


@pytest.mark.parametrize("text", ["a=:AQI:", "a=:AQ==:, b=:AA==:", "a=:AQ==:;p", "a=:A=Q=:"])
def test_other_byte_fields_take_the_general_path(text: str) -> None:
    assert parse_byte_sequence_member(text) is None
