"""Signed agent cards: detached JWS (RFC 7515) over the RFC 8785 form, as A2A 1.0 §8.4.

The payload is the card's JSON object without its ``signatures`` member, canonicalised with
JCS. The protected header carries ``alg`` (``EdDSA``), ``typ`` (``JOSE``) and ``kid``, the
DID URL of the signing key, so a verifier needs nothing but the card. Verification works on
the card *as received* (a dict), never on a re-serialised model, so members this
implementation does not know stay covered by the signature.
"""

from __future__ import annotations

import base64
import binascii
import warnings
from dataclasses import dataclass
from typing import Any

from joserfc import jws
from joserfc.errors import JoseError
from joserfc.jwk import OKPKey

from . import strict_json
from .canonical import canonicalize
from .errors import CardSignatureError, InvalidDidError
from .identity import SigningKey, did_url, resolve_did
from .models.a2a import AgentCard

__all__ = [
    "CARD_SIGNATURE_ALGORITHMS",
    "VerifiedSignature",
    "card_signing_payload",
    "sign_card",
    "verify_card",
]

CARD_SIGNATURE_ALGORITHMS = ("EdDSA", "Ed25519")
"""Accepted ``alg`` values: ``EdDSA`` (what A2A SDKs emit) and RFC 9864's ``Ed25519``."""


@dataclass(frozen=True)
class VerifiedSignature:
    """A card signature that verified, and who made it."""

    did: str
    kid: str
    protected_header: dict[str, Any]


def _as_dict(card: AgentCard | dict[str, Any]) -> dict[str, Any]:
    return card.to_json_dict() if isinstance(card, AgentCard) else card


def card_signing_payload(card: AgentCard | dict[str, Any]) -> bytes:
    """Return the bytes a card signature covers: JCS of the card without ``signatures``."""
    data = _as_dict(card)
    if not isinstance(data, dict):
        raise CardSignatureError("an agent card is a JSON object")
    return canonicalize({k: v for k, v in data.items() if k != "signatures"})


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _b64url_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def sign_card(
    card: AgentCard | dict[str, Any], key: SigningKey, *, header: dict[str, Any] | None = None
) -> dict[str, Any]:
    """Return the card (as a dict) with one more signature by ``key`` appended."""
    data = dict(_as_dict(card))
    payload = card_signing_payload(data)
    protected = {"alg": "EdDSA", "kid": did_url(key.did), "typ": "JOSE"}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # joserfc flags EdDSA in favour of RFC 9864's Ed25519
        token = jws.serialize_compact(
            protected, payload, OKPKey.import_key(key.private_key), algorithms=["EdDSA"]
        )
    encoded_protected, _, signature = token.split(".")
    entry: dict[str, Any] = {"protected": encoded_protected, "signature": signature}
    if header:
        entry["header"] = header
    data["signatures"] = [*data.get("signatures", []), entry]
    return data


def _verify_one(entry: Any, encoded_payload: str) -> VerifiedSignature:
    if not isinstance(entry, dict):
        raise CardSignatureError("a card signature is an object")
    protected_b64, signature = entry.get("protected"), entry.get("signature")
    if not isinstance(protected_b64, str) or not isinstance(signature, str):
        raise CardSignatureError("a card signature needs 'protected' and 'signature' strings")
    try:
        header = strict_json.loads(_b64url_decode(protected_b64))
    except (binascii.Error, ValueError) as exc:
        raise CardSignatureError(f"protected header is not base64url JSON: {exc}") from exc
    if not isinstance(header, dict):
        raise CardSignatureError("protected header is not a JSON object")
    alg, kid = header.get("alg"), header.get("kid")
    if alg not in CARD_SIGNATURE_ALGORITHMS:
        raise CardSignatureError(f"unsupported alg {alg!r}; expected one of EdDSA, Ed25519")
    if "crit" in header or header.get("b64") is False:
        raise CardSignatureError("critical header parameters are not supported")
    if not isinstance(kid, str):
        raise CardSignatureError("protected header has no 'kid'")
    try:
        verifying = resolve_did(kid)
    except InvalidDidError as exc:
        raise CardSignatureError(f"kid is not a did:key: {exc.detail}") from exc
    base, _, fragment = kid.partition("#")
    if fragment and fragment != base[len("did:key:") :]:
        raise CardSignatureError("kid fragment does not name the DID's own key")
    if not verifying.valid_point:  # JWS libraries accept what such a key "signs" (ID-006)
        raise CardSignatureError(f"{verifying.did} is not a usable Ed25519 key (small order)")
    token = f"{protected_b64}.{encoded_payload}.{signature}"
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            jws.deserialize_compact(token, OKPKey.import_key(verifying.key), algorithms=[alg])
    except (JoseError, ValueError) as exc:
        raise CardSignatureError(f"signature by {verifying.did} does not verify") from exc
    return VerifiedSignature(did=verifying.did, kid=kid, protected_header=header)


def verify_card(
    card: AgentCard | dict[str, Any], *, expected_did: str | None = None
) -> list[VerifiedSignature]:
    """Verify a card's signatures; return those that hold.

    Raises :class:`CardSignatureError` when the card has no signature, when none verifies,
    or, with ``expected_did``, when no valid signature is by that DID.
    """
    data = _as_dict(card)
    entries = data.get("signatures") if isinstance(data, dict) else None
    if not entries or not isinstance(entries, list):
        raise CardSignatureError("the agent card carries no signatures")
    encoded_payload = _b64url(card_signing_payload(data))
    valid: list[VerifiedSignature] = []
    failures: list[str] = []
    for entry in entries:
        try:
            valid.append(_verify_one(entry, encoded_payload))
        except CardSignatureError as exc:
            failures.append(exc.detail)
    if not valid:
        raise CardSignatureError("no card signature verifies: " + "; ".join(failures))
    if expected_did is not None and all(v.did != expected_did for v in valid):
        raise CardSignatureError(f"no valid card signature by {expected_did}")
    return valid
