"""The Web of Agents signed-messaging profile over RFC 9421 (spec chapter ``messages``).

Requests cover ``@method``, ``@target-uri``, ``content-digest`` and, when present,
``content-type``, ``traceparent`` and every field that changes what the request does
(:data:`SEMANTIC_REQUEST_FIELDS`: preconditions, the A2A version and extensions); their
parameters are ``created``, ``expires``, ``nonce`` (128 bits or more), ``keyid`` (the
signer's did:key) and ``alg`` (``ed25519``), all required. Responses cover
``@status``, ``content-digest``, ``content-type`` when present, and the request's signature
(``"signature";req;key=...``), which binds each response to the request it answers.
A response to an unsigned request carries the same signature without the binding, and a
streamed response (whose body is not known when its head is sent) signs its head only:
``@status``, ``content-type`` and the binding, without ``content-digest``.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache

from ..errors import InvalidDidError, InvalidSignatureError, MissingSignatureError, WoaError
from ..identity import SigningKey, VerifyingKey, resolve_did
from ..ids import random_urlsafe
from ..replay import ReplayGuard, ReplayPolicy
from .components import HttpRequest, HttpResponse
from .digest import content_digest, verify_content_digest
from .signatures import (
    ED25519_ALG,
    ParsedSignature,
    parse_component_id,
    parse_signatures,
    sign_covered,
)
from .signatures import verify_signature as _verify_signature
from .structured import BareItem, InnerList, Item, serialize_item

__all__ = [
    "DEFAULT_LABEL",
    "REQUIRED_REQUEST_COMPONENTS",
    "REQUIRED_RESPONSE_COMPONENTS",
    "REQUIRED_STREAM_COMPONENTS",
    "SEMANTIC_REQUEST_FIELDS",
    "MessageSigner",
    "MessageVerifier",
    "VerifiedMessage",
    "request_signature_label",
    "select_signature",
]

DEFAULT_LABEL = "woa"
"""Signature label this implementation writes (any label is accepted on input)."""

REQUIRED_REQUEST_COMPONENTS = ("@method", "@target-uri", "content-digest")
REQUIRED_RESPONSE_COMPONENTS = ("@status", "content-digest")
REQUIRED_STREAM_COMPONENTS = ("@status", "content-type")
SEMANTIC_REQUEST_FIELDS = ("if-match", "if-none-match", "a2a-version", "a2a-extensions")
"""Request fields that change what a request does: covered whenever present (MSG-012)."""
_OPTIONAL_COVERED = ("content-type", "traceparent")
_NONCE = re.compile(r"[A-Za-z0-9_\-+/]{22,256}={0,2}")
"""A nonce of at least 128 bits: 22 or more base64 or base64url characters (MSG-003)."""
_SHAPES_CACHED = 64


@dataclass(frozen=True)
class VerifiedMessage:
    """A signature that passed every check, and what it vouches for."""

    did: str
    label: str
    created: int
    expires: int | None
    nonce: str | None
    signature: bytes
    covered: dict[str, str]


def select_signature(signatures: dict[str, ParsedSignature]) -> ParsedSignature:
    """Pick the signature the profile verifies (MSG-001).

    The one labelled ``woa``; else the only one whose ``keyid`` is a did:key.
    """
    if DEFAULT_LABEL in signatures:
        return signatures[DEFAULT_LABEL]
    dids = [s for s in signatures.values() if str(s.params.get("keyid", "")).startswith("did:key:")]
    if len(dids) == 1:
        return dids[0]
    raise MissingSignatureError(
        f"expected one signature by a did:key (label {DEFAULT_LABEL!r}); "
        f"found labels {sorted(signatures)}"
    )


def request_signature_label(headers: dict[str, str]) -> str | None:
    """Return the label of the request signature a response binds to, or None if unsigned."""
    try:
        return select_signature(parse_signatures(headers)).label
    except WoaError:
        return None


def _binding(request_label: str) -> Item:
    return Item("signature", {"req": True, "key": request_label})


@lru_cache(maxsize=64)
def _binding_id(request_label: str) -> str:
    """The binding as a component identifier: ``"signature";req;key="<label>"``."""
    return serialize_item(_binding(request_label))


def _did_from_keyid(keyid: str) -> VerifyingKey:
    try:
        key = resolve_did(keyid)
    except InvalidDidError as exc:
        raise InvalidSignatureError(f"keyid must be a did:key: {exc.detail}") from exc
    if "#" in keyid and keyid.split("#", 1)[1] != keyid.split("#", 1)[0][len("did:key:") :]:
        raise InvalidSignatureError("keyid fragment does not name the DID's own key")
    return key


class MessageSigner:
    """Signs requests and responses with one key, following the profile."""

    def __init__(
        self,
        key: SigningKey,
        *,
        label: str = DEFAULT_LABEL,
        lifetime: int = 60,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.key = key
        self.label = label
        self.lifetime = lifetime
        self._clock = clock
        self._keyid = key.did
        self._shapes: dict[tuple[str, ...], tuple[tuple[Item, ...], tuple[str, ...], str]] = {}

    def _shape(self, components: tuple[str, ...]) -> tuple[tuple[Item, ...], tuple[str, ...], str]:
        """Return the covered items, their serialisations and the list's text.

        Cached: a signer covers the same few component lists message after message.
        """
        shape = self._shapes.get(components)
        if shape is None:
            items = tuple(parse_component_id(c) for c in components)
            idents = tuple(serialize_item(i) for i in items)
            shape = (items, idents, "(" + " ".join(idents) + ")")
            if len(self._shapes) < _SHAPES_CACHED:
                self._shapes[components] = shape
        return shape

    def _covered(self, components: tuple[str, ...], *, nonce: bool) -> InnerList:
        """Build the covered list, with its serialisation written directly (hot path).

        Every value here is of a known, safe shape (integers, a base58 DID, a base64url
        nonce), so the text is formatted without the general serialiser; the tests check it
        equals the general serialiser's output.
        """
        items, idents, inner = self._shape(components)
        created = int(self._clock())
        expires = created + self.lifetime
        params: dict[str, BareItem] = {"created": created, "expires": expires}
        nonce_text = ""
        if nonce:
            params["nonce"] = value = random_urlsafe(16)
            nonce_text = f';nonce="{value}"'
        params["keyid"] = self._keyid
        params["alg"] = ED25519_ALG
        text = (
            f"{inner};created={created};expires={expires}{nonce_text};"
            f'keyid="{self._keyid}";alg="{ED25519_ALG}"'
        )
        return InnerList(list(items), params, text, idents)

    def _sign(
        self,
        message: HttpRequest | HttpResponse,
        components: list[str],
        *,
        nonce: bool,
        digest: bool = True,
    ) -> dict[str, str]:
        added: dict[str, str] = {}
        if digest:
            added["content-digest"] = message.headers["content-digest"] = content_digest(
                message.body
            )
            if message.body:
                components += [c for c in _OPTIONAL_COVERED if c in message.headers]
            elif "traceparent" in message.headers:
                components.append("traceparent")
            if isinstance(message, HttpRequest):
                components += [f for f in SEMANTIC_REQUEST_FIELDS if f in message.headers]
        covered = self._covered(tuple(components), nonce=nonce)
        sig_input, signature = sign_covered(
            message, key=self.key, covered=covered, label=self.label
        )
        added["signature-input"] = sig_input
        added["signature"] = signature
        message.headers.update(added)
        return added

    def sign_request(self, request: HttpRequest) -> dict[str, str]:
        """Add Content-Digest, Signature-Input and Signature to ``request``; return them."""
        for name in ("signature-input", "signature"):
            request.headers.pop(name, None)
        return self._sign(request, list(REQUIRED_REQUEST_COMPONENTS), nonce=True)

    def sign_response(
        self, response: HttpResponse, request_label: str | None = None, *, stream: bool = False
    ) -> dict[str, str]:
        """Sign ``response``; add and return the header fields.

        With ``request_label`` (the label of the request's verified signature) the response is
        bound to ``response.request`` (MSG-005); without it, it answers an unsigned request
        (MSG-009). ``stream=True`` signs only the head of a streamed response (MSG-010).
        """
        components = list(REQUIRED_STREAM_COMPONENTS if stream else REQUIRED_RESPONSE_COMPONENTS)
        if request_label is not None:
            if response.request is None or "signature" not in response.request.headers:
                raise ValueError("a bound response needs response.request, a signed request")
            components.append(_binding_id(request_label))
        return self._sign(response, components, nonce=False, digest=not stream)

    def sign_reply(self, response: HttpResponse, *, stream: bool = False) -> dict[str, str]:
        """Sign ``response`` as the answer to ``response.request``, whatever that was.

        Bound to the request's signature (chosen as in MSG-001) when it has one that can be
        covered; unbound otherwise (an unsigned request, or one whose signature fields are
        too malformed to cover): every response gets signed, even a refusal.
        """
        request = response.request
        label = request_signature_label(request.headers) if request is not None else None
        if label is not None:
            try:
                return self.sign_response(response, label, stream=stream)
            except ValueError:
                pass  # the request's signature field cannot be covered: answer unbound
        response.request = None
        return self.sign_response(response, stream=stream)


class MessageVerifier:
    """Verifies signed requests and responses against the profile, with replay protection."""

    def __init__(
        self,
        *,
        policy: ReplayPolicy | None = None,
        replay_guard: ReplayGuard | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.replay_guard = (
            replay_guard if replay_guard is not None else ReplayGuard(policy, clock=clock)
        )

    def _check(
        self,
        message: HttpRequest | HttpResponse,
        required: tuple[str, ...],
        *,
        need_nonce: bool,
        extra: Item | None = None,
        expected_did: str | None = None,
        digest: bool = True,
    ) -> VerifiedMessage:
        parsed = select_signature(parse_signatures(message.headers))
        names = {item.value for item in parsed.covered.items if not item.params}
        missing = [c for c in required if c not in names]
        if message.body and "content-type" in message.headers and "content-type" not in names:
            missing.append("content-type")
        if need_nonce:
            missing += [
                f for f in SEMANTIC_REQUEST_FIELDS if f in message.headers and f not in names
            ]
        if extra is not None and not any(
            item.value == extra.value and item.params == extra.params
            for item in parsed.covered.items
        ):
            missing.append(serialize_item(extra))
        if missing:
            raise InvalidSignatureError(f"signature does not cover {', '.join(missing)}")
        params = parsed.params
        created, expires, nonce = params.get("created"), params.get("expires"), params.get("nonce")
        if not isinstance(created, int) or isinstance(created, bool):
            raise InvalidSignatureError("signature has no integer 'created' parameter")
        # Requests (MSG-003) and unbound responses (MSG-009), which only their window
        # protects, must name their algorithm and their end; a bound response may omit them.
        if (need_nonce or extra is None) and (expires is None or "alg" not in params):
            absent = "'expires'" if expires is None else "'alg'"
            raise InvalidSignatureError(f"signature has no {absent} parameter")
        if expires is not None and (not isinstance(expires, int) or isinstance(expires, bool)):
            raise InvalidSignatureError("'expires' must be an integer")
        if nonce is not None and not isinstance(nonce, str):
            raise InvalidSignatureError("'nonce' must be a string")
        if need_nonce and not nonce:
            raise InvalidSignatureError("request signatures must carry a 'nonce'")
        if need_nonce and not _NONCE.fullmatch(nonce):  # type: ignore[arg-type]
            raise InvalidSignatureError(
                "'nonce' must be 22 to 256 base64 or base64url characters (at least 128 bits)"
            )
        keyid = params.get("keyid")
        did = keyid.split("#", 1)[0] if isinstance(keyid, str) else None
        if expected_did is not None and did != expected_did:
            raise InvalidSignatureError(f"signed by {keyid!r}, expected {expected_did}")
        window_end = self.replay_guard.check_window(created, expires)  # before any crypto
        covered = _verify_signature(message, parsed, _did_from_keyid)
        assert did is not None  # _verify_signature rejects a missing keyid
        if digest:
            verify_content_digest(message.headers["content-digest"], message.body)
        if need_nonce:
            assert isinstance(nonce, str)
            self.replay_guard.remember(did, nonce, window_end)
        return VerifiedMessage(
            did=did,
            label=parsed.label,
            created=created,
            expires=expires,
            nonce=nonce,
            signature=parsed.signature,
            covered=covered,
        )

    def verify_request(self, request: HttpRequest) -> VerifiedMessage:
        """Verify a signed request and consume its nonce; return the signer's DID and more."""
        return self._check(request, REQUIRED_REQUEST_COMPONENTS, need_nonce=True)

    def verify_response(
        self,
        response: HttpResponse,
        request_label: str | None = None,
        *,
        expected_did: str | None = None,
        stream: bool = False,
    ) -> VerifiedMessage:
        """Verify a signed response; see :meth:`MessageSigner.sign_response` for the forms.

        With ``request_label`` it must be bound to ``response.request``'s signature of that
        label; without, ``expected_did`` (the responder the client meant to reach) is required.
        ``stream=True`` checks a streamed response's head (no digest).
        """
        extra = None
        if request_label is not None:
            if response.request is None:
                raise ValueError("set response.request to the request this response answers")
            extra = _binding(request_label)
        elif expected_did is None:
            raise ValueError("an unbound response can only be checked against an expected DID")
        return self._check(
            response,
            REQUIRED_STREAM_COMPONENTS if stream else REQUIRED_RESPONSE_COMPONENTS,
            need_nonce=False,
            extra=extra,
            expected_did=expected_did,
            digest=not stream,
        )
