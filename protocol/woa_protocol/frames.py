"""Signed stream frames: each WebSocket frame a server sends carries its own signature.

An HTTP response is signed with RFC 9421, but the frames of a WebSocket stream (the
registry's change feed, a state watch) are not HTTP messages. Each such frame is a JSON
object; the server adds ``subscription`` (the id the client chose when it connected),
``frame`` (0, 1, 2, ... on that connection) and ``proof``: a detached JWS (RFC 7515,
``EdDSA``) whose payload is the RFC 8785 form of the frame without ``proof``. The frame
therefore proves, offline, who sent it, that it belongs to this subscription and where it
stands in it: a frame altered, dropped, reordered or taken from another stream fails.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
import secrets
from functools import lru_cache
from typing import Any

from . import strict_json
from .canonical import canonicalize
from .errors import InvalidDidError, InvalidSignatureError, WoaError
from .identity import SigningKey, did_url, resolve_did

__all__ = [
    "FRAME_TYPE",
    "FrameSigner",
    "FrameVerifier",
    "new_subscription_id",
    "sign_frame",
    "valid_subscription_id",
    "verify_frame",
]

FRAME_TYPE = "woa-frame+jws"
"""The ``typ`` of a frame signature's protected header."""

_ALGORITHMS = ("EdDSA", "Ed25519")
_SUBSCRIPTION = re.compile(r"[A-Za-z0-9_-]{16,128}")


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _b64url_decode(text: str) -> bytes:
    if not re.fullmatch(r"[A-Za-z0-9_-]*", text):
        raise ValueError("not base64url")
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@lru_cache(maxsize=64)
def _protected(did: str) -> str:
    header = {"alg": "EdDSA", "kid": did_url(did), "typ": FRAME_TYPE}
    return _b64url(canonicalize(header))


def new_subscription_id() -> str:
    """Return a fresh subscription id (128 random bits, base64url)."""
    return secrets.token_urlsafe(16)


def valid_subscription_id(value: str) -> bool:
    """Whether ``value`` is an acceptable subscription id: 16-128 base64url characters."""
    return bool(_SUBSCRIPTION.fullmatch(value))


def sign_frame(frame: dict[str, Any], key: SigningKey, subscription: str, index: int) -> str:
    """Return the JSON text of ``frame`` with ``subscription``, ``frame`` and ``proof`` added."""
    body = {**frame, "subscription": subscription, "frame": index}
    payload = canonicalize(body)
    protected = _protected(key.did)
    signature = key.sign(f"{protected}.{_b64url(payload)}".encode("ascii"))
    body["proof"] = f"{protected}..{_b64url(signature)}"
    return json.dumps(body, ensure_ascii=False, separators=(",", ":"))


def verify_frame(raw: str | bytes, *, signer: str, subscription: str, index: int) -> dict[str, Any]:
    """Verify one frame as received; return it without ``proof``.

    ``signer`` is the DID the server must have signed with, ``subscription`` the id the
    client chose and ``index`` the frame's expected position (0 for the first). Raises
    :class:`InvalidSignatureError` for anything else.
    """
    try:
        frame = strict_json.loads(raw)
    except WoaError as exc:  # not I-JSON: malformed, a repeated member name, too deep
        raise InvalidSignatureError(f"frame is not I-JSON: {exc.detail}") from exc
    if not isinstance(frame, dict):
        raise InvalidSignatureError("a frame is a JSON object")
    proof = frame.pop("proof", None)
    if not isinstance(proof, str) or proof.count(".") != 2:
        raise InvalidSignatureError("frame has no detached JWS 'proof'")
    protected_b64, detached, signature_b64 = proof.split(".")
    if detached:
        raise InvalidSignatureError("a frame's proof is a detached JWS (empty payload part)")
    try:
        header = json.loads(_b64url_decode(protected_b64))
        signature = _b64url_decode(signature_b64)
    except (binascii.Error, ValueError) as exc:
        raise InvalidSignatureError(f"frame proof is not base64url: {exc}") from exc
    if not isinstance(header, dict) or header.get("alg") not in _ALGORITHMS:
        raise InvalidSignatureError("frame proof must use alg EdDSA")
    if header.get("typ") != FRAME_TYPE or "crit" in header or header.get("b64") is False:
        raise InvalidSignatureError(f"frame proof header must have typ {FRAME_TYPE!r}")
    kid = header.get("kid")
    if not isinstance(kid, str) or kid.split("#", 1)[0] != signer.split("#", 1)[0]:
        raise InvalidSignatureError(f"frame signed by {kid!r}, expected {signer}")
    try:
        verifying = resolve_did(kid)
    except InvalidDidError as exc:
        raise InvalidSignatureError(f"frame kid is not a did:key: {exc.detail}") from exc
    try:
        payload = canonicalize(frame)
    except ValueError as exc:
        raise InvalidSignatureError(f"frame cannot be canonicalised: {exc}") from exc
    signed = f"{protected_b64}.{_b64url(payload)}".encode("ascii")
    if not verifying.valid_point or not verifying.verify(signature, signed):
        raise InvalidSignatureError(f"frame signature by {verifying.did} does not verify")
    if frame.get("subscription") != subscription:
        raise InvalidSignatureError("frame belongs to another subscription")
    position = frame.get("frame")
    if position != index or isinstance(position, bool):
        raise InvalidSignatureError(f"frame {position!r} arrived where frame {index} was due")
    return frame


class FrameSigner:
    """Signs the frames of one connection in order (server side)."""

    def __init__(self, key: SigningKey, subscription: str) -> None:
        self.key = key
        self.subscription = subscription
        self.sent = 0

    def sign(self, frame: dict[str, Any]) -> str:
        """Return the next frame's JSON text, signed."""
        text = sign_frame(frame, self.key, self.subscription, self.sent)
        self.sent += 1
        return text


class FrameVerifier:
    """Verifies the frames of one connection in order (client side)."""

    def __init__(self, signer: str, subscription: str | None = None) -> None:
        self.signer = signer
        self.subscription = subscription or new_subscription_id()
        self.received = 0

    def verify(self, raw: str | bytes) -> dict[str, Any]:
        """Verify the next frame; return it without ``proof``."""
        frame = verify_frame(
            raw, signer=self.signer, subscription=self.subscription, index=self.received
        )
        self.received += 1
        return frame
