"""did:key identities for Ed25519 keys (W3C did:key, multicodec 0xed01, base58btc).

A did:key is self-certifying: the public key is inside the identifier, so verifying a
signature by ``did:key:z6Mk...`` needs no lookup. Keys serialise to PEM (PKCS#8 /
SubjectPublicKeyInfo) and JWK (RFC 8037 OKP); file handling lives in :mod:`.keyfile`.

Keys are ``cryptography`` objects (for PEM, JWK and JWS); signing and verifying run in
libsodium (PyNaCl), which does both in ~60 % of OpenSSL's time here (``woa bench protocol``)
and verifies strictly: a non-canonical ``S`` and a small-order public key or ``R`` are
rejected (spec MSG-014). Ed25519 signatures are deterministic, so both libraries write the
same bytes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from typing import Any

import base58
import nacl.bindings
import nacl.exceptions
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from joserfc.errors import JoseError
from joserfc.jwk import OKPKey

from . import strict_json
from .errors import InvalidDidError, InvalidKeyError

__all__ = [
    "DID_KEY_PREFIX",
    "ED25519_DID_PATTERN",
    "ED25519_MULTICODEC",
    "SigningKey",
    "VerifyingKey",
    "did_from_public_bytes",
    "did_url",
    "public_bytes_from_did",
    "resolve_did",
]

DID_KEY_PREFIX = "did:key:"
ED25519_MULTICODEC = b"\xed\x01"
"""Unsigned-varint encoding of multicodec 0xed (ed25519-pub)."""
_SIGNATURE_BYTES = 64

_B58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"


def _class(chars: str) -> str:
    return f"[{chars}]" if len(chars) > 1 else re.escape(chars)


def _at_least(bound: str) -> str:
    """A regular expression for the base58 strings of ``bound``'s length that are >= it."""
    if not bound:
        return ""
    higher = _B58[_B58.index(bound[0]) + 1 :]
    rest = _at_least(bound[1:])
    tail = f"{re.escape(bound[0])}{rest}"
    if not higher:
        return tail
    return f"(?:{tail}|{_class(higher)}[{_B58}]{{{len(bound) - 1}}})"


def _at_most(bound: str) -> str:
    """A regular expression for the base58 strings of ``bound``'s length that are <= it."""
    if not bound:
        return ""
    lower = _B58[: _B58.index(bound[0])]
    rest = _at_most(bound[1:])
    tail = f"{re.escape(bound[0])}{rest}"
    if not lower:
        return tail
    return f"(?:{_class(lower)}[{_B58}]{{{len(bound) - 1}}}|{tail})"


def _ed25519_did_pattern() -> str:
    low = base58.b58encode(ED25519_MULTICODEC + bytes(32)).decode("ascii")
    high = base58.b58encode(ED25519_MULTICODEC + b"\xff" * 32).decode("ascii")
    common = next(i for i, (a, b) in enumerate(zip(low, high, strict=True)) if a != b)
    first_low, first_high = low[common], high[common]
    between = _B58[_B58.index(first_low) + 1 : _B58.index(first_high)]
    width = len(low) - common - 1
    return (
        f"^did:key:z{low[:common]}(?:{first_low}{_at_least(low[common + 1 :])}"
        f"|{_class(between)}[{_B58}]{{{width}}}|{first_high}{_at_most(high[common + 1 :])})$"
    )


ED25519_DID_PATTERN = _ed25519_did_pattern()
"""A regular expression matching exactly the Ed25519 did:keys (for schemas): base58btc of
``0xed01`` and 32 bytes, from ``z6MkeTG3b...`` (all zero) to ``z6MkwgaR6...`` (all 0xff)."""


def did_from_public_bytes(raw: bytes) -> str:
    """Return the did:key for a 32-byte Ed25519 public key."""
    if len(raw) != 32:
        raise InvalidKeyError(f"an Ed25519 public key has 32 bytes, not {len(raw)}")
    return DID_KEY_PREFIX + "z" + base58.b58encode(ED25519_MULTICODEC + raw).decode("ascii")


def public_bytes_from_did(did: str) -> bytes:
    """Return the 32-byte Ed25519 public key inside a did:key (a DID URL's fragment is ignored).

    Raises :class:`InvalidDidError` for anything that is not an Ed25519 did:key.
    """
    if not isinstance(did, str) or not did.startswith(DID_KEY_PREFIX):
        raise InvalidDidError(f"not a did:key: {did!r}")
    ident = did[len(DID_KEY_PREFIX) :].split("#", 1)[0]
    if not ident.startswith("z"):
        raise InvalidDidError("did:key must use base58btc multibase (prefix 'z')")
    try:
        decoded = base58.b58decode(ident[1:])
    except ValueError as exc:
        raise InvalidDidError(f"did:key is not valid base58btc: {exc}") from exc
    if decoded[:2] != ED25519_MULTICODEC:
        raise InvalidDidError("did:key does not carry an Ed25519 key (multicodec 0xed01)")
    if len(decoded) != 34:
        raise InvalidDidError(f"Ed25519 did:key must hold 32 key bytes, not {len(decoded) - 2}")
    return decoded[2:]


def did_url(did: str) -> str:
    """Return the DID URL naming the key itself: ``did:key:z...#z...`` (used as JWS ``kid``)."""
    base = did.split("#", 1)[0]
    return f"{base}#{base[len(DID_KEY_PREFIX) :]}"


@dataclass(frozen=True)
class VerifyingKey:
    """An Ed25519 public key, named by its did:key."""

    raw: bytes
    _key: Ed25519PublicKey = field(repr=False, compare=False)

    @classmethod
    def from_bytes(cls, raw: bytes) -> VerifyingKey:
        """Build from the 32 raw public-key bytes."""
        try:
            return cls(raw, Ed25519PublicKey.from_public_bytes(raw))
        except ValueError as exc:
            raise InvalidKeyError(str(exc)) from exc

    @classmethod
    def from_did(cls, did: str) -> VerifyingKey:
        """Build from a did:key or DID URL."""
        return cls.from_bytes(public_bytes_from_did(did))

    @cached_property
    def did(self) -> str:
        """The did:key identifier."""
        return did_from_public_bytes(self.raw)

    @cached_property
    def valid_point(self) -> bool:
        """False for a key no honest signer has: off the curve, or of small order (ID-006)."""
        return bool(nacl.bindings.crypto_core_ed25519_is_valid_point(self.raw))

    @property
    def key(self) -> Ed25519PublicKey:
        """The ``cryptography`` key object."""
        return self._key

    def verify(self, signature: bytes, data: bytes) -> bool:
        """Return True when ``signature`` is a valid Ed25519 signature of ``data``."""
        if len(signature) != _SIGNATURE_BYTES:  # the combined form below needs exactly 64
            return False
        try:
            nacl.bindings.crypto_sign_open(signature + data, self.raw)
        except nacl.exceptions.BadSignatureError:
            return False
        return True

    def to_jwk(self) -> dict[str, Any]:
        """Return the public JWK (RFC 8037) with ``kid`` set to the DID URL."""
        jwk = dict(OKPKey.import_key(self._key).as_dict(private=False))
        jwk["kid"] = did_url(self.did)
        return jwk

    def to_pem(self) -> bytes:
        """Return the SubjectPublicKeyInfo PEM."""
        return self._key.public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )


@lru_cache(maxsize=4096)
def resolve_did(did: str) -> VerifyingKey:
    """Return the verifying key of a did:key (cached: decoding costs more than a lookup)."""
    return VerifyingKey.from_did(did)


@dataclass(frozen=True)
class SigningKey:
    """An Ed25519 private key together with its did:key identity."""

    _key: Ed25519PrivateKey = field(repr=False)
    public: VerifyingKey = field(init=False, compare=False)
    _secret: bytes = field(init=False, repr=False, compare=False)
    """libsodium's secret key: the seed, then the public key."""

    def __post_init__(self) -> None:
        raw = self._key.public_key().public_bytes_raw()
        object.__setattr__(self, "public", VerifyingKey(raw, self._key.public_key()))
        object.__setattr__(self, "_secret", self._key.private_bytes_raw() + raw)

    @classmethod
    def generate(cls) -> SigningKey:
        """Create a new random key."""
        return cls(Ed25519PrivateKey.generate())

    @classmethod
    def from_seed(cls, seed: bytes) -> SigningKey:
        """Build from a 32-byte seed (the RFC 8032 private key)."""
        try:
            return cls(Ed25519PrivateKey.from_private_bytes(seed))
        except ValueError as exc:
            raise InvalidKeyError(str(exc)) from exc

    @classmethod
    def from_pem(cls, data: bytes) -> SigningKey:
        """Load an unencrypted PKCS#8 PEM private key."""
        try:
            key = serialization.load_pem_private_key(data, password=None)
        except (ValueError, TypeError) as exc:
            raise InvalidKeyError(f"cannot read PEM private key: {exc}") from exc
        if not isinstance(key, Ed25519PrivateKey):
            raise InvalidKeyError(f"expected an Ed25519 key, got {type(key).__name__}")
        return cls(key)

    @classmethod
    def from_jwk(cls, jwk: dict[str, Any] | str) -> SigningKey:
        """Load a private OKP/Ed25519 JWK (object or JSON text)."""
        try:
            data = strict_json.loads(jwk) if isinstance(jwk, str) else jwk
        except ValueError as exc:
            raise InvalidKeyError(f"the JWK is not valid JSON: {exc}") from exc
        if not isinstance(data, dict) or data.get("kty") != "OKP" or data.get("crv") != "Ed25519":
            raise InvalidKeyError("expected a JWK with kty OKP and crv Ed25519")
        if "d" not in data:
            raise InvalidKeyError("the JWK holds no private part ('d')")
        try:
            key = OKPKey.import_key(data).private_key
        except (JoseError, ValueError, TypeError, KeyError) as exc:
            raise InvalidKeyError(f"cannot read JWK: {exc}") from exc
        if not isinstance(key, Ed25519PrivateKey):
            raise InvalidKeyError("expected an Ed25519 private key")
        signing = cls(key)
        if (
            "x" in data
            and OKPKey.import_key(data).as_dict(private=False)["x"]
            != (signing.public.to_jwk()["x"])
        ):
            raise InvalidKeyError("the JWK's public part does not match its private part")
        return signing

    @property
    def did(self) -> str:
        """The did:key identifier of this key."""
        return self.public.did

    @property
    def private_key(self) -> Ed25519PrivateKey:
        """The ``cryptography`` private key object."""
        return self._key

    @property
    def seed(self) -> bytes:
        """The 32-byte private seed."""
        return self._key.private_bytes_raw()

    def sign(self, data: bytes) -> bytes:
        """Return the 64-byte Ed25519 signature of ``data``."""
        return nacl.bindings.crypto_sign(data, self._secret)[:_SIGNATURE_BYTES]

    def to_pem(self) -> bytes:
        """Return the unencrypted PKCS#8 PEM."""
        return self._key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )

    def to_jwk(self) -> dict[str, Any]:
        """Return the private JWK (RFC 8037) with ``kid`` set to the DID URL."""
        jwk = dict(OKPKey.import_key(self._key).as_dict(private=True))
        jwk["kid"] = did_url(self.did)
        return jwk
