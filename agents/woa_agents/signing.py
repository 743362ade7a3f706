"""Signed messaging for agents: verify every request, sign every response (spec AGT-030..).

Requests are verified with :class:`woa_protocol.MessageVerifier` and one shared
:class:`woa_protocol.ReplayGuard` per agent; responses are signed with
``MessageSigner.sign_response`` bound to the request's signature. Two cases the protocol's
profile leaves open are handled here the way the registry handles them (REG-002/REG-003):

* a response to an *unsigned* request (a plain A2A client, the agent card) has nothing to
  bind to, so it is signed over ``@status``, ``content-digest`` and ``content-type`` with
  ``created``/``expires``/``keyid``/``alg`` and no nonce (:func:`sign_unbound`);
* a streamed (SSE) response has no body digest when its header is sent, so its signature
  covers ``@status``, ``content-type`` and the request's signature only
  (:func:`sign_stream_head`); the client confirms the final result with a signed GetTask.

The policy says whether unsigned callers are accepted and which DIDs may call:
``SignaturePolicy(allow={"did:key:..."})`` is the one line an allow list takes.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from typing import Any

from woa_protocol import (
    HttpRequest,
    HttpResponse,
    InvalidSignatureError,
    MessageSigner,
    MessageVerifier,
    MissingSignatureError,
    ReplayGuard,
    ReplayPolicy,
    SigningKey,
    VerifiedMessage,
    WoaError,
    content_digest,
    resolve_did,
)
from woa_protocol.httpsig import (
    DEFAULT_LABEL,
    ED25519_ALG,
    create_signature,
    parse_signatures,
    verify_content_digest,
    verify_signature,
)
from woa_protocol.httpsig.structured import Item

from .errors import JsonRpcCode, RpcError

__all__ = [
    "RequestVerifier",
    "SignaturePolicy",
    "request_label",
    "sign_response",
    "sign_stream_head",
    "sign_unbound",
    "verify_stream_head",
    "verify_unbound",
]


@dataclass(frozen=True)
class SignaturePolicy:
    """Who may call: signatures required (default) or optional, and DID allow/deny lists."""

    require_signatures: bool = True
    """False: also accept unsigned plain A2A clients (their caller DID is None)."""
    allow: Collection[str] | None = None
    """When set, only these DIDs may call (unsigned callers are then refused too)."""
    deny: Collection[str] = field(default_factory=frozenset)
    """These DIDs may never call."""

    def check(self, did: str | None) -> None:
        """Raise :class:`RpcError` (-32051, HTTP 403) when ``did`` may not call."""
        if did is None and self.require_signatures:
            raise _unauthenticated(MissingSignatureError("this agent requires signed requests"))
        if did is None and self.allow is None:
            return
        if did is None or did in self.deny or (self.allow is not None and did not in self.allow):
            raise RpcError(
                JsonRpcCode.FORBIDDEN,
                f"caller {did or '(unsigned)'} is not allowed to call this agent",
                reason="CALLER_NOT_ALLOWED",
                metadata={"did": did or ""},
                http_status=403,
            )


def _unauthenticated(exc: WoaError) -> RpcError:
    return RpcError(
        JsonRpcCode.UNAUTHENTICATED,
        exc.detail,
        reason=exc.problem.slug.upper().replace("-", "_"),
        metadata={"type": exc.problem.uri},
        http_status=401,
    )


def request_label(headers: dict[str, str]) -> str | None:
    """The label of the request signature a response binds to (MSG-001 selection), or None."""
    try:
        signatures = parse_signatures(headers)
    except WoaError:
        return None
    if DEFAULT_LABEL in signatures:
        return DEFAULT_LABEL
    by_did = [
        label
        for label, sig in signatures.items()
        if str(sig.params.get("keyid", "")).startswith("did:key:")
    ]
    return by_did[0] if len(by_did) == 1 else None


class RequestVerifier:
    """Verifies requests against a policy with one replay cache for the whole agent."""

    def __init__(
        self,
        policy: SignaturePolicy | None = None,
        *,
        replay: ReplayPolicy | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.policy = policy or SignaturePolicy()
        self.replay_guard = ReplayGuard(replay, clock=clock)
        self._verifier = MessageVerifier(replay_guard=self.replay_guard, clock=clock)

    def verify(self, request: HttpRequest) -> VerifiedMessage | None:
        """Return the verified signature (None for an accepted unsigned request) or raise."""
        if "signature" not in request.headers and "signature-input" not in request.headers:
            self.policy.check(None)
            return None
        try:
            verified = self._verifier.verify_request(request)
        except WoaError as exc:
            raise _unauthenticated(exc) from exc
        self.policy.check(verified.did)
        return verified


def sign_unbound(
    key: SigningKey, response: HttpResponse, *, lifetime: int = 60, now: float | None = None
) -> dict[str, str]:
    """Sign a response that answers no signed request; add and return the header fields."""
    response.headers["content-digest"] = content_digest(response.body)
    components: list[str | Item] = ["@status", "content-digest"]
    if "content-type" in response.headers:
        components.append("content-type")
    created = int(time.time() if now is None else now)
    sig_input, signature = create_signature(
        response,
        key=key,
        components=components,
        params={
            "created": created,
            "expires": created + lifetime,
            "keyid": key.did,
            "alg": ED25519_ALG,
        },
        label=DEFAULT_LABEL,
    )
    added = {
        "content-digest": response.headers["content-digest"],
        "signature-input": sig_input,
        "signature": signature,
    }
    response.headers.update(added)
    return added


def _check_params(params: dict[str, Any], expected_did: str, guard: ReplayGuard) -> None:
    created, expires, keyid = params.get("created"), params.get("expires"), params.get("keyid")
    if not isinstance(created, int) or isinstance(created, bool):
        raise InvalidSignatureError("signature has no integer 'created' parameter")
    if expires is not None and (not isinstance(expires, int) or isinstance(expires, bool)):
        raise InvalidSignatureError("'expires' must be an integer")
    if not isinstance(keyid, str) or keyid.split("#", 1)[0] != expected_did:
        raise InvalidSignatureError(f"response signed by {keyid!r}, expected {expected_did}")
    guard.check_window(created, expires)


def verify_unbound(
    response: HttpResponse, expected_did: str, *, guard: ReplayGuard | None = None
) -> None:
    """Check a response signed by :func:`sign_unbound` by ``expected_did``; raise if not."""
    parsed = parse_signatures(response.headers).get(DEFAULT_LABEL)
    if parsed is None:
        raise MissingSignatureError(f"response has no {DEFAULT_LABEL!r} signature")
    required = ['"@status"', '"content-digest"']
    if response.body and "content-type" in response.headers:
        required.append('"content-type"')
    missing = [c for c in required if c not in parsed.component_ids]
    if missing:
        raise InvalidSignatureError(f"response signature does not cover {', '.join(missing)}")
    _check_params(parsed.params, expected_did, guard or ReplayGuard())
    verify_signature(response, parsed, resolve_did)
    verify_content_digest(response.headers["content-digest"], response.body)


def sign_stream_head(
    key: SigningKey, response: HttpResponse, request_label: str | None, *, lifetime: int = 60
) -> dict[str, str]:
    """Sign a streamed response's status and type, bound to the request's signature if any."""
    created = int(time.time())
    components: list[str | Item] = ["@status", "content-type"]
    if request_label is not None:
        components.append(Item("signature", {"req": True, "key": request_label}))
    sig_input, signature = create_signature(
        response,
        key=key,
        components=components,
        params={
            "created": created,
            "expires": created + lifetime,
            "keyid": key.did,
            "alg": ED25519_ALG,
        },
        label=DEFAULT_LABEL,
    )
    added = {"signature-input": sig_input, "signature": signature}
    response.headers.update(added)
    return added


def verify_stream_head(
    response: HttpResponse, expected_did: str, request_label: str, *, guard: ReplayGuard
) -> None:
    """Check a streamed response's head signature (see :func:`sign_stream_head`)."""
    parsed = parse_signatures(response.headers).get(DEFAULT_LABEL)
    if parsed is None:
        raise MissingSignatureError(f"response has no {DEFAULT_LABEL!r} signature")
    binding = f'"signature";req;key="{request_label}"'
    for needed in ('"@status"', '"content-type"', binding):
        if needed not in parsed.component_ids:
            raise InvalidSignatureError(f"stream signature does not cover {needed}")
    _check_params(parsed.params, expected_did, guard)
    verify_signature(response, parsed, resolve_did)


def sign_response(
    signer: MessageSigner,
    response: HttpResponse,
    *,
    lifetime: int = 60,
    label: str | None = None,
) -> dict[str, str]:
    """Sign ``response``: bound to its request's signature when there is one, else unbound.

    ``label``: the request signature's label when the caller already knows it (verified).
    """
    request = response.request
    if label is None and request is not None:
        label = request_label(request.headers)
    if label is not None:
        try:
            return signer.sign_response(response, label)
        except ValueError:
            pass  # the request's signature field cannot be covered: sign unbound
    response.request = None
    return sign_unbound(signer.key, response, lifetime=lifetime)
