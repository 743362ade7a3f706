from __future__ import annotations

import base64

import pytest

from woa_protocol import (
    HttpRequest,
    HttpResponse,
    InvalidSignatureError,
    MissingSignatureError,
    SigningKey,
    VerifyingKey,
)
from woa_protocol.httpsig import (
    ED25519_ALG,
    create_signature,
    normalize_headers,
    parse_signatures,
    signature_base,
    verify_signature,
)
from woa_protocol.httpsig.components import SignatureBaseError
from woa_protocol.httpsig.signatures import parse_component_id
from woa_protocol.httpsig.structured import InnerList, Item

from .._support import KEY1, KEY2

# RFC 9421 Appendix B.1.4 test-key-ed25519 and the Appendix B.2 test request
RFC_KEY = SigningKey.from_seed(
    base64.urlsafe_b64decode("n4Ni-HpISpVObnQMW0wOhCKROaIKqKtW_2ZYb2p9KcU=")
)
RFC_PUBLIC_X = "JrQLj5P_89iXES9-vFgrIy29clF9CC_oPPsw3c5D0bs"
B26_COMPONENTS = ["date", "@method", "@path", "@authority", "content-type", "content-length"]
B26_BASE = (
    '"date": Tue, 20 Apr 2021 02:07:55 GMT\n'
    '"@method": POST\n'
    '"@path": /foo\n'
    '"@authority": example.com\n'
    '"content-type": application/json\n'
    '"content-length": 18\n'
    '"@signature-params": ("date" "@method" "@path" "@authority" "content-type" '
    '"content-length");created=1618884473;keyid="test-key-ed25519"'
)
B26_INPUT = (
    'sig-b26=("date" "@method" "@path" "@authority" "content-type" "content-length")'
    ';created=1618884473;keyid="test-key-ed25519"'
)
B26_SIGNATURE = (
    "sig-b26=:wqcAqbmYJ2ji2glfAMaRy4gruYYnx2nEFN2HN6jrnDnQCK1u02Gb04v9EDgwUPiu4A0w6vuQv5lIp5WPp"
    "BKRCw==:"
)
B26_DIGEST = (
    "sha-512=:WZDPaVn/7XgHaAy8pmojAkGWoRx2UFChF41A2svX+TaPm+AbwAgBWnrIiYllu7BNNyealdVLvRwEmTHW"
    "XvJwew==:"
)


def rfc_request() -> HttpRequest:
    return HttpRequest(
        "POST",
        "http://example.com/foo?param=Value&Pet=dog",
        {
            "Host": "example.com",
            "Date": "Tue, 20 Apr 2021 02:07:55 GMT",
            "Content-Type": "application/json",
            "Content-Digest": B26_DIGEST,
            "Content-Length": "18",
        },
        b'{"hello": "world"}',
    )


def rfc_resolver(keyid: str) -> VerifyingKey:
    if keyid != "test-key-ed25519":
        raise InvalidSignatureError(f"unknown key {keyid}")
    return RFC_KEY.public


@pytest.mark.req("MSG-007")
def test_rfc9421_b26_is_reproduced_byte_for_byte() -> None:
    assert base64.urlsafe_b64encode(RFC_KEY.public.raw).rstrip(b"=").decode() == RFC_PUBLIC_X
    request = rfc_request()
    params = {"created": 1618884473, "keyid": "test-key-ed25519"}
    covered = InnerList([parse_component_id(c) for c in B26_COMPONENTS], params)
    assert signature_base(covered, request)[0] == B26_BASE.encode()
    sig_input, signature = create_signature(
        request, key=RFC_KEY, components=B26_COMPONENTS, params=params, label="sig-b26"
    )
    assert sig_input == B26_INPUT
    assert signature == B26_SIGNATURE


@pytest.mark.req("MSG-007")
def test_rfc9421_b26_verifies_and_fails_when_changed() -> None:
    request = rfc_request()
    request.headers["signature-input"] = B26_INPUT
    request.headers["signature"] = B26_SIGNATURE
    parsed = parse_signatures(request.headers)["sig-b26"]
    covered = verify_signature(request, parsed, rfc_resolver)
    assert covered['"@authority"'] == "example.com"
    assert parsed.params == {"created": 1618884473, "keyid": "test-key-ed25519"}
    assert parsed.component_ids == [f'"{c}"' for c in B26_COMPONENTS]
    request.headers["date"] = "Tue, 20 Apr 2021 02:07:56 GMT"
    with pytest.raises(InvalidSignatureError, match="does not verify"):
        verify_signature(request, parsed, rfc_resolver)


def test_verify_needs_keyid_and_ed25519() -> None:
    request = rfc_request()
    for params, match in [
        ({"created": 1}, "no keyid"),
        ({"keyid": "test-key-ed25519", "alg": "rsa-pss-sha512"}, "unsupported signature algorithm"),
    ]:
        sig_input, signature = create_signature(
            request, key=RFC_KEY, components=["@method"], params=params, label="s"
        )
        request.headers.update({"signature-input": sig_input, "signature": signature})
        with pytest.raises(InvalidSignatureError, match=match):
            verify_signature(request, parse_signatures(request.headers)["s"], rfc_resolver)


def test_explicit_ed25519_alg_verifies() -> None:
    request = rfc_request()
    params = {"keyid": "test-key-ed25519", "alg": ED25519_ALG}
    sig_input, signature = create_signature(
        request, key=RFC_KEY, components=["@method", "@target-uri"], params=params, label="s"
    )
    request.headers.update({"signature-input": sig_input, "signature": signature})
    verify_signature(request, parse_signatures(request.headers)["s"], rfc_resolver)
    with pytest.raises(InvalidSignatureError):
        verify_signature(
            request,
            parse_signatures(request.headers)["s"],
            lambda _: KEY2.public,  # another key
        )


@pytest.mark.parametrize(
    ("headers", "error", "match"),
    [
        ({}, MissingSignatureError, "no Signature-Input"),
        ({"signature-input": 's=("@method")'}, MissingSignatureError, "no Signature-Input"),
        ({"signature-input": "", "signature": ""}, MissingSignatureError, "empty"),
        (
            {"signature-input": 's=("@method")', "signature": "t=:AA==:"},
            InvalidSignatureError,
            "different labels",
        ),
        (
            {"signature-input": 's="x"', "signature": "s=:AA==:"},
            InvalidSignatureError,
            "not an inner list",
        ),
        (
            {"signature-input": 's=("@method")', "signature": 's="AA=="'},
            InvalidSignatureError,
            "not a byte sequence",
        ),
        ({"signature-input": "s=(", "signature": "s=:AA==:"}, InvalidSignatureError, "malformed"),
    ],
)
def test_parse_signatures_rejects_bad_fields(
    headers: dict[str, str], error: type[Exception], match: str
) -> None:
    with pytest.raises(error, match=match):
        parse_signatures(headers)


def test_several_labels_are_parsed() -> None:
    parsed = parse_signatures(
        {
            "signature-input": 'a=("@method");keyid="x", b=("@path");created=5',
            "signature": "a=:AQ==:, b=:Ag==:",
        }
    )
    assert {k: (v.component_ids, v.signature) for k, v in parsed.items()} == {
        "a": (['"@method"'], b"\x01"),
        "b": (['"@path"'], b"\x02"),
    }


@pytest.mark.parametrize(
    ("url", "component", "value"),
    [
        ("https://Example.COM:443/a/b?x=1&y", "@authority", "example.com"),
        ("http://example.com:8080/", "@authority", "example.com:8080"),
        ("http://[::1]:8080/p", "@authority", "[::1]:8080"),
        ("HTTPS://example.com/", "@scheme", "https"),
        ("https://example.com", "@path", "/"),
        ("https://example.com/a%20b", "@path", "/a%20b"),
        ("https://example.com/a?x=1&y=2", "@query", "?x=1&y=2"),
        ("https://example.com/a", "@query", "?"),
        ("https://example.com/a?q", "@request-target", "/a?q"),
        ("https://example.com", "@request-target", "/"),
        ("https://example.com/a?q=1", "@target-uri", "https://example.com/a?q=1"),
    ],
)
def test_derived_components(url: str, component: str, value: str) -> None:
    base, values, *_ = signature_base(InnerList([Item(component)]), HttpRequest("get", url))
    assert values[f'"{component}"'] == value
    assert base.startswith(f'"{component}": {value}\n'.encode())


def test_method_is_upper_cased_and_headers_normalised() -> None:
    request = HttpRequest("post", "https://x", [("X-A", " 1 "), ("x-a", "2\t"), ("X-B", "3")])
    assert request.method == "POST"
    assert request.headers == {"x-a": "1, 2", "x-b": "3"}
    assert normalize_headers({"A": "b"}) == {"a": "b"}


def test_response_components_and_request_binding() -> None:
    request = HttpRequest("POST", "https://x/p", {"signature": "woa=:AQ==:, other=:Ag==:"})
    response = HttpResponse(201, {"Content-Type": "text/plain"}, b"ok", request=request)
    covered = InnerList(
        [
            Item("@status"),
            Item("content-type"),
            Item("signature", {"req": True, "key": "woa"}),
            Item("@method", {"req": True}),
        ]
    )
    base, values, *_ = signature_base(covered, response)
    assert values == {
        '"@status"': "201",
        '"content-type"': "text/plain",
        '"signature";req;key="woa"': ":AQ==:",
        '"@method";req': "POST",
    }
    assert base.decode().endswith(
        '"@signature-params": ("@status" "content-type" "signature";req;key="woa" "@method";req)'
    )


@pytest.mark.parametrize(
    ("covered", "message", "match"),
    [
        ([Item("@status")], "request", "only to responses"),
        ([Item("@method")], "response", "only to requests"),
        ([Item("@method"), Item("@method")], "request", "covered twice"),
        ([Item("x-absent")], "request", "absent"),
        ([Item("X-Upper")], "request", "lower-case"),
        ([Item("X-Dict", {"key": "a"})], "request", "lower-case"),
        ([Item("x-dict", {"key": "missing"})], "request", "no member"),
        ([Item("x-text", {"key": "a"})], "request", "not a dictionary"),
        ([Item("x-dict", {"sf": True})], "request", "unsupported component parameters"),
        ([Item("x-dict", {"bs": True})], "request", "unsupported component parameters"),
        ([Item("@query-param", {"name": "a"})], "request", "unsupported component parameters"),
        ([Item("@unknown")], "request", "unsupported derived component"),
        ([Item("signature", {"req": True})], "request", "needs the request"),
        ([Item("x-newline")], "request", "newline"),
        ([Item("x-utf8")], "request", "ASCII"),
        ([Item(5)], "request", "strings"),  # type: ignore[arg-type]
    ],
)
def test_unresolvable_components_are_errors(covered: list[Item], message: str, match: str) -> None:
    request = HttpRequest(
        "GET",
        "https://x/",
        {"x-dict": "a=1", "x-text": "(((", "x-newline": "a\nb", "x-utf8": "é", "x-upper": "1"},
    )
    target: HttpRequest | HttpResponse = (
        request if message == "request" else HttpResponse(200, {}, b"", request=None)
    )
    with pytest.raises(SignatureBaseError, match=match):
        signature_base(InnerList(covered), target)
    with pytest.raises(ValueError, match=match):
        create_signature(target, key=KEY1, components=covered, params={}, label="s")


@pytest.mark.parametrize(
    ("text", "item"),
    [
        ("@method", Item("@method")),
        ('"content-digest"', Item("content-digest")),
        ('"signature";req;key="woa"', Item("signature", {"req": True, "key": "woa"})),
    ],
)
def test_parse_component_id(text: str, item: Item) -> None:
    assert parse_component_id(text) == item
    assert parse_component_id(item) is item


def test_parse_component_id_rejects_garbage() -> None:
    with pytest.raises(ValueError, match="invalid component identifier"):
        parse_component_id('"unterminated')
