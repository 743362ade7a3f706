from __future__ import annotations

import base64
import hashlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from woa_protocol import DigestMismatchError, InvalidSignatureError, content_digest
from woa_protocol.httpsig import verify_content_digest
from woa_protocol.httpsig.digest import DIGEST_ALGORITHMS

BODY = b'{"hello": "world"}'
SHA256 = "sha-256=:X48E9qOokqqrvdts8nOJRJN3OWDUoyWxBf7kbu9DBPE=:"  # RFC 9530 Appendix B
SHA512 = (
    "sha-512=:WZDPaVn/7XgHaAy8pmojAkGWoRx2UFChF41A2svX+TaPm+AbwAgBWnrIiYllu7BNNyealdVLvRwEmTHW"
    "XvJwew==:"
)


@pytest.mark.req("MSG-004")
def test_rfc9530_example_digests() -> None:
    assert content_digest(BODY) == SHA256
    assert content_digest(BODY, "sha-512") == SHA512
    assert set(DIGEST_ALGORITHMS) == {"sha-256", "sha-512"}


@pytest.mark.req("MSG-004")
@pytest.mark.parametrize(
    "field",
    [
        SHA256,
        SHA512,
        f"{SHA256}, {SHA512}",
        f"md5=:AAAA:, {SHA256}",  # an unknown algorithm is ignored
        f"  {SHA256}  ",
        SHA256.replace("=:", "=:", 1).replace("E=:", "E:"),  # unpadded byte sequence
    ],
)
def test_matching_digests_are_accepted(field: str) -> None:
    verify_content_digest(field, BODY)


@pytest.mark.req("MSG-004")
@pytest.mark.parametrize(
    "field",
    [content_digest(b"other"), f"{SHA256}, {content_digest(b'x', 'sha-512')}", content_digest(b"")],
)
def test_mismatch_is_content_digest_mismatch(field: str) -> None:
    with pytest.raises(DigestMismatchError) as info:
        verify_content_digest(field, BODY)
    assert info.value.problem.slug == "content-digest-mismatch"


@pytest.mark.req("MSG-004")
@pytest.mark.parametrize(
    ("field", "match"),
    [
        ("", "no supported algorithm"),
        ("md5=:AAAA:", "no supported algorithm"),
        ("sha-256=1", "not a byte sequence"),
        ('sha-256=("a")', "not a byte sequence"),
        ("sha-256=:%%%:", "malformed"),
        ("SHA-256=:AAAA:", "malformed"),
    ],
)
def test_unusable_digest_fields_are_signature_invalid(field: str, match: str) -> None:
    with pytest.raises(InvalidSignatureError, match=match) as info:
        verify_content_digest(field, BODY)
    assert not isinstance(info.value, DigestMismatchError)
    assert info.value.problem.slug == "signature-invalid"


@pytest.mark.req("MSG-004")
@settings(max_examples=100, deadline=None)
@given(st.binary(max_size=300), st.sampled_from(["sha-256", "sha-512"]))
def test_digest_of_any_body(body: bytes, algorithm: str) -> None:
    field = content_digest(body, algorithm)
    expected = getattr(hashlib, algorithm.replace("-", ""))(body).digest()
    assert field == f"{algorithm}=:{base64.b64encode(expected).decode()}:"
    verify_content_digest(field, body)
    with pytest.raises(DigestMismatchError):
        verify_content_digest(field, body + b"\x00")
