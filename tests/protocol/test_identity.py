from __future__ import annotations

import re

import base58
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from hypothesis import given, settings
from hypothesis import strategies as st

from woa_protocol import (
    InvalidDidError,
    InvalidKeyError,
    SigningKey,
    VerifyingKey,
    did_from_public_bytes,
    did_url,
    resolve_did,
)
from woa_protocol.identity import (
    DID_KEY_PREFIX,
    ED25519_DID_PATTERN,
    ED25519_MULTICODEC,
    public_bytes_from_did,
)

from ._support import KEY1

RFC8032_TEST1_PUBLIC = bytes.fromhex(
    "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a"
)


@pytest.mark.req("ID-001")
def test_did_is_base58btc_of_multicodec_and_key() -> None:
    assert KEY1.public.raw == RFC8032_TEST1_PUBLIC
    expected = "did:key:z" + base58.b58encode(b"\xed\x01" + RFC8032_TEST1_PUBLIC).decode()
    assert KEY1.did == expected == did_from_public_bytes(RFC8032_TEST1_PUBLIC)
    assert DID_KEY_PREFIX == "did:key:"
    assert ED25519_MULTICODEC == b"\xed\x01"


@pytest.mark.req("ID-001")
@settings(max_examples=50, deadline=None)
@given(st.binary(min_size=32, max_size=32))
def test_every_seed_gives_a_z6mk_did_that_resolves_to_its_key(seed: bytes) -> None:
    key = SigningKey.from_seed(seed)
    assert key.did.startswith("did:key:z6Mk")
    assert key.seed == seed
    assert public_bytes_from_did(key.did) == key.public.raw
    assert VerifyingKey.from_did(key.did) == key.public
    assert VerifyingKey.from_did(key.did).verify(key.sign(b"m"), b"m")


@pytest.mark.req("ID-002")
@pytest.mark.parametrize(
    "did",
    [
        "",
        "did:web:example.com",
        "did:key:",
        "did:key:z",
        "did:key:u7QEJrQLj5P_89iXES9-vFgrIy29clF9CC_oPPsw3c5D0bs",
        "did:key:z6MktwupdmLXVVqTzCw4i46r4uGyosGXRnR3XjN4Zq7oMMs0",
        "did:key:z6LShs9GGnqk85isEBzzshkuVWrVKsRp24GnDuHk8QWkARMW",
        "did:key:z" + base58.b58encode(b"\xed\x01" + bytes(31)).decode(),
        "did:key:z" + base58.b58encode(b"\xed\x01" + bytes(33)).decode(),
        "did:key:z" + base58.b58encode(b"\xed" + bytes(32)).decode(),
        "did:key:z" + base58.b58encode(b"\x01\xed" + bytes(32)).decode(),
    ],
)
def test_invalid_dids_are_rejected(did: str) -> None:
    with pytest.raises(InvalidDidError) as info:
        public_bytes_from_did(did)
    assert info.value.problem.slug == "invalid-did"
    assert info.value.problem.status == 400
    with pytest.raises(InvalidDidError):
        VerifyingKey.from_did(did)
    with pytest.raises(InvalidDidError):
        resolve_did(did)


@pytest.mark.req("ID-002")
def test_non_string_did_is_rejected() -> None:
    with pytest.raises(InvalidDidError):
        public_bytes_from_did(None)  # type: ignore[arg-type]


@pytest.mark.req("ID-001")
@pytest.mark.parametrize("length", [0, 31, 33, 64])
def test_public_key_must_have_32_bytes(length: int) -> None:
    with pytest.raises(InvalidKeyError):
        did_from_public_bytes(bytes(length))
    with pytest.raises(InvalidKeyError):
        VerifyingKey.from_bytes(bytes(length))


@pytest.mark.req("ID-003")
def test_did_url_names_the_key_by_its_method_specific_id() -> None:
    ident = KEY1.did.removeprefix("did:key:")
    assert did_url(KEY1.did) == f"{KEY1.did}#{ident}"
    assert did_url(did_url(KEY1.did)) == did_url(KEY1.did)
    assert public_bytes_from_did(did_url(KEY1.did)) == KEY1.public.raw
    assert KEY1.to_jwk()["kid"] == did_url(KEY1.did)
    assert KEY1.public.to_jwk()["kid"] == did_url(KEY1.did)


def test_resolve_did_is_cached() -> None:
    assert resolve_did(KEY1.did) is resolve_did(KEY1.did)
    assert resolve_did(KEY1.did).raw == KEY1.public.raw


@pytest.mark.parametrize("length", [0, 31, 33])
def test_seed_must_have_32_bytes(length: int) -> None:
    with pytest.raises(InvalidKeyError):
        SigningKey.from_seed(bytes(length))


def test_sign_and_verify() -> None:
    signature = KEY1.sign(b"payload")
    assert len(signature) == 64
    assert KEY1.sign(b"payload") == signature  # Ed25519 is deterministic
    assert KEY1.public.verify(signature, b"payload")
    assert not KEY1.public.verify(signature, b"payloaD")
    assert not KEY1.public.verify(signature[:-1] + bytes([signature[-1] ^ 1]), b"payload")
    assert not KEY1.public.verify(b"short", b"payload")


_L = 2**252 + 27742317777372353535851937790883648493
"""The order of the Ed25519 base point (RFC 8032 §5.1)."""
_IDENTITY_POINT = bytes([1]) + bytes(31)


@pytest.mark.req("ID-006")
def test_a_non_canonical_s_is_rejected() -> None:
    signature = KEY1.sign(b"payload")
    s = int.from_bytes(signature[32:], "little")
    malleated = signature[:32] + (s + _L).to_bytes(32, "little")  # same point equation
    assert not KEY1.public.verify(malleated, b"payload")


@pytest.mark.req("ID-006")
def test_a_small_order_key_verifies_nothing() -> None:
    # With A and R the identity and S = 0, [S]B = R + [k]A holds for every message.
    weak = VerifyingKey.from_bytes(_IDENTITY_POINT)
    assert not weak.valid_point
    assert KEY1.public.valid_point
    assert not weak.verify(_IDENTITY_POINT + bytes(32), b"anything at all")


@pytest.mark.req("ID-006")
def test_a_small_order_r_is_rejected() -> None:
    signature = KEY1.sign(b"payload")
    assert not KEY1.public.verify(_IDENTITY_POINT + signature[32:], b"payload")


@pytest.mark.req("ID-006")
@pytest.mark.parametrize("length", [0, 63, 65, 128])
def test_a_signature_of_another_length_is_rejected(length: int) -> None:
    signature = KEY1.sign(b"payload")
    assert not KEY1.public.verify((signature * 3)[:length], b"payload")
    # the 65-byte form must not be read as a signature plus the message's first byte
    assert not KEY1.public.verify(signature + b"p", b"ayload")


@settings(max_examples=50)
@given(seed=st.binary(min_size=32, max_size=32), message=st.binary(max_size=2000))
def test_signatures_match_and_verify_with_openssl(seed: bytes, message: bytes) -> None:
    # libsodium signs and verifies; cryptography (OpenSSL) is the independent check
    key = SigningKey.from_seed(seed)
    signature = key.sign(message)
    assert signature == key.private_key.sign(message)  # Ed25519 is deterministic
    key.public.key.verify(signature, message)
    assert key.public.verify(key.private_key.sign(message), message)


def test_generate_gives_distinct_keys() -> None:
    assert SigningKey.generate().did != SigningKey.generate().did


def test_repr_hides_the_private_key() -> None:
    assert KEY1.seed.hex() not in repr(KEY1)


@pytest.mark.req("ID-004")
def test_pem_round_trip() -> None:
    pem = KEY1.to_pem()
    assert pem.startswith(b"-----BEGIN PRIVATE KEY-----")
    assert SigningKey.from_pem(pem).seed == KEY1.seed
    public = serialization.load_pem_public_key(KEY1.public.to_pem())
    assert public.public_bytes_raw() == KEY1.public.raw  # type: ignore[union-attr]


@pytest.mark.req("ID-004")
def test_jwk_round_trip_is_rfc8037_okp() -> None:
    jwk = KEY1.to_jwk()
    assert jwk["kty"] == "OKP"
    assert jwk["crv"] == "Ed25519"
    assert jwk["x"] == "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"
    assert jwk["d"] == "nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A"
    assert SigningKey.from_jwk(jwk).seed == KEY1.seed
    import json

    assert SigningKey.from_jwk(json.dumps(jwk)).seed == KEY1.seed
    public = KEY1.public.to_jwk()
    assert "d" not in public
    assert public["x"] == jwk["x"]


@pytest.mark.req("ID-004")
@pytest.mark.parametrize(
    "jwk",
    [
        {"kty": "EC", "crv": "P-256", "d": "AA", "x": "AA"},
        {"kty": "OKP", "crv": "X25519", "d": "nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A"},
        {"kty": "OKP", "crv": "Ed25519", "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"},
        {"kty": "OKP", "crv": "Ed25519", "d": "AAAA"},
        {
            "kty": "OKP",
            "crv": "Ed25519",
            "d": "nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A",
            "x": "JrQLj5P_89iXES9-vFgrIy29clF9CC_oPPsw3c5D0bs",
        },
        {
            "kty": "OKP",
            "crv": "Ed25519",
            "d": 5,
            "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo",
        },
        ["not", "an", "object"],
        '{"kty": "OKP",',
    ],
    ids=["ec", "x25519", "public-only", "no-x", "x-mismatch", "d-not-string", "list", "bad-json"],
)
def test_bad_jwk_is_rejected(jwk: object) -> None:
    with pytest.raises(InvalidKeyError):
        SigningKey.from_jwk(jwk)  # type: ignore[arg-type]


@pytest.mark.req("ID-004")
def test_bad_pem_is_rejected() -> None:
    with pytest.raises(InvalidKeyError):
        SigningKey.from_pem(b"-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n")
    other = ec.generate_private_key(ec.SECP256R1()).private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    with pytest.raises(InvalidKeyError, match="Ed25519"):
        SigningKey.from_pem(other)


@pytest.mark.req("ID-001")
@settings(max_examples=200, deadline=None)
@given(st.binary(min_size=32, max_size=32))
def test_the_schema_pattern_matches_every_ed25519_did(raw: bytes) -> None:
    assert re.fullmatch(ED25519_DID_PATTERN, did_from_public_bytes(raw))


@pytest.mark.req("ID-001")
@settings(max_examples=300, deadline=None)
@given(st.from_regex(ED25519_DID_PATTERN, fullmatch=True))
def test_every_did_the_schema_pattern_matches_resolves(did: str) -> None:
    assert len(public_bytes_from_did(did)) == 32


@pytest.mark.req("ID-001")
@pytest.mark.parametrize(
    "did",
    [
        "did:key:z6MkeTG3bFFSLYVU7VqhgZxqr6YzpaGrQtFMh1uvqGy1vDnN",  # one below all-zero
        "did:key:z6MkwgaR63138bEEgad7uk993KMX54vBA6KTB4sFhCPnSB2f",  # one above all-0xff
        "did:key:z6LSbysY2xFMRpGMhb7tFTLMpeuPRaqaWM1yECx2AtzE3KCc",  # X25519
        "did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2do",  # a character short
    ],
)
def test_the_schema_pattern_refuses_what_does_not_resolve(did: str) -> None:
    assert re.fullmatch(ED25519_DID_PATTERN, did) is None
    with pytest.raises(InvalidDidError):
        public_bytes_from_did(did)


def test_the_schema_pattern_bounds_are_the_extreme_keys() -> None:
    for raw in (bytes(32), b"\xff" * 32):
        assert re.fullmatch(ED25519_DID_PATTERN, did_from_public_bytes(raw))
