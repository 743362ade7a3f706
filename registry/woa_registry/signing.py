"""RFC 9421 on the registry's side: verifying signed requests, signing every response.

Requests: :class:`RequestAuthenticator` rebuilds the request as the signer saw it
(:func:`request_from_scope`) and runs the protocol's :class:`~woa_protocol.MessageVerifier`
with one shared :class:`~woa_protocol.ReplayGuard`, so a nonce is accepted once per process.

Responses: :class:`ResponseSigningMiddleware` signs every HTTP response with the registry's
key. When the request carried a signature, the response is bound to it with
``MessageSigner.sign_response`` (covers ``"signature";req;key=<label>``). An unsigned request
(a plain GET) has nothing to bind to, and ``sign_response`` refuses that case, so
:func:`sign_unbound_response` signs ``@status``, ``content-digest`` and ``content-type``
with ``created``/``expires``/``keyid``/``alg`` (no nonce: responses are not replayed *to*
the registry). :func:`verify_unbound_response` is the client-side check of that form.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from woa_protocol import (
    HttpRequest,
    HttpResponse,
    InvalidSignatureError,
    MessageSigner,
    MessageVerifier,
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
    REQUIRED_RESPONSE_COMPONENTS,
    create_signature,
    normalize_headers,
    parse_signatures,
    verify_content_digest,
    verify_signature,
)

__all__ = [
    "RequestAuthenticator",
    "ResponseSigningMiddleware",
    "request_from_scope",
    "request_signature_label",
    "sign_unbound_response",
    "target_uri",
    "verify_unbound_response",
]


def _header_pairs(scope: Scope) -> list[tuple[str, str]]:
    return [(k.decode("latin-1"), v.decode("latin-1")) for k, v in scope.get("headers", [])]


def target_uri(scope: Scope, public_url: str | None = None) -> str:
    """Return the absolute request URI as the client wrote it (raw path, raw query).

    With ``public_url`` (the registry behind a proxy), scheme and authority come from it;
    otherwise from the ASGI scope's scheme and ``Host`` header.
    """
    raw_path: bytes = scope.get("raw_path") or scope["path"].encode("latin-1")
    path = raw_path.split(b"?", 1)[0].decode("latin-1")
    query = bytes(scope.get("query_string", b"")).decode("latin-1")
    if public_url:
        base = public_url.rstrip("/")
    else:
        headers = dict(_header_pairs(scope))
        host = headers.get("host")
        if host is None:
            server = scope.get("server") or ("localhost", None)
            host = str(server[0]) if server[1] is None else f"{server[0]}:{server[1]}"
        raw_scheme = str(scope.get("scheme", "http"))
        scheme = {"ws": "http", "wss": "https"}.get(raw_scheme, raw_scheme)
        base = f"{scheme}://{host}"
    return base + path + (f"?{query}" if query else "")


def request_from_scope(scope: Scope, body: bytes, public_url: str | None = None) -> HttpRequest:
    """Build the protocol's :class:`HttpRequest` from an ASGI scope and its full body."""
    return HttpRequest(
        method=scope.get("method", "GET"),
        url=target_uri(scope, public_url),
        headers=_header_pairs_joined(scope),
        body=body,
    )


def _header_pairs_joined(scope: Scope) -> dict[str, str]:
    return normalize_headers(_header_pairs(scope))


def request_signature_label(headers: dict[str, str]) -> str | None:
    """Return the label of the request signature a response binds to, or None.

    Same choice as the verifier: the ``woa`` label, else the only signature by a did:key.
    """
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


class RequestAuthenticator:
    """Verifies signed requests with one replay cache for the whole app."""

    def __init__(
        self,
        *,
        max_age: int = 300,
        clock_skew: int = 30,
        public_url: str | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        policy = ReplayPolicy(max_age=max_age, clock_skew=clock_skew)
        self.replay_guard = ReplayGuard(policy, clock=clock)
        self.verifier = MessageVerifier(replay_guard=self.replay_guard, clock=clock)
        self.public_url = public_url

    def verify(self, scope: Scope, body: bytes) -> VerifiedMessage:
        """Verify the request's signature and consume its nonce; raise a ``WoaError``."""
        return self.verifier.verify_request(request_from_scope(scope, body, self.public_url))


def sign_unbound_response(
    key: SigningKey,
    response: HttpResponse,
    *,
    lifetime: int = 60,
    label: str = DEFAULT_LABEL,
    clock: Callable[[], float] = time.time,
) -> dict[str, str]:
    """Sign a response to an unsigned request; add and return the three header fields."""
    response.headers["content-digest"] = content_digest(response.body)
    components: list[Any] = list(REQUIRED_RESPONSE_COMPONENTS)
    if "content-type" in response.headers:
        components.append("content-type")
    created = int(clock())
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
        label=label,
    )
    added = {
        "content-digest": response.headers["content-digest"],
        "signature-input": sig_input,
        "signature": signature,
    }
    response.headers.update(added)
    return added


def verify_unbound_response(
    response: HttpResponse, expected_did: str, *, guard: ReplayGuard | None = None
) -> VerifiedMessage:
    """Check a response signed by :func:`sign_unbound_response` and made by ``expected_did``."""
    signatures = parse_signatures(response.headers)
    parsed = signatures.get(DEFAULT_LABEL)
    if parsed is None:
        raise InvalidSignatureError(f"response has no {DEFAULT_LABEL!r} signature")
    ids = parsed.component_ids
    required = [*REQUIRED_RESPONSE_COMPONENTS]
    if response.body and "content-type" in response.headers:
        required.append("content-type")
    missing = [c for c in required if f'"{c}"' not in ids]
    if missing:
        raise InvalidSignatureError(f"response signature does not cover {', '.join(missing)}")
    params = parsed.params
    created, expires, keyid = params.get("created"), params.get("expires"), params.get("keyid")
    if not isinstance(created, int) or isinstance(created, bool):
        raise InvalidSignatureError("signature has no integer 'created' parameter")
    if expires is not None and (not isinstance(expires, int) or isinstance(expires, bool)):
        raise InvalidSignatureError("'expires' must be an integer")
    if keyid != expected_did:
        raise InvalidSignatureError(f"response signed by {keyid!r}, expected {expected_did}")
    (guard or ReplayGuard()).check_window(created, expires)
    covered = verify_signature(response, parsed, resolve_did)
    verify_content_digest(response.headers["content-digest"], response.body)
    return VerifiedMessage(
        did=expected_did,
        label=parsed.label,
        created=created,
        expires=expires,
        nonce=None,
        signature=parsed.signature,
        covered=covered,
    )


class ResponseSigningMiddleware:
    """ASGI middleware: buffer each HTTP response and sign it with the registry's key.

    Responses are small JSON documents, so buffering costs little; WebSocket traffic and
    lifespan events pass through untouched.
    """

    def __init__(self, app: ASGIApp, *, key: SigningKey, lifetime: int = 60) -> None:
        self.app = app
        self.signer = MessageSigner(key, lifetime=lifetime)
        self.key = key
        self.lifetime = lifetime

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Run the app, then send its response with signature fields added."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start: Message | None = None
        chunks: list[bytes] = []

        async def buffered_send(message: Message) -> None:
            nonlocal start
            if message["type"] == "http.response.start":
                start = message
                return
            if message["type"] != "http.response.body":
                await send(message)
                return
            chunks.append(message.get("body", b""))
            if message.get("more_body", False):
                return
            assert start is not None
            await self._send_signed(scope, start, b"".join(chunks), send)

        await self.app(scope, receive, buffered_send)

    async def _send_signed(self, scope: Scope, start: Message, body: bytes, send: Send) -> None:
        raw_headers: list[tuple[bytes, bytes]] = list(start.get("headers", []))
        response = HttpResponse(
            status=start["status"],
            headers=normalize_headers(
                [(k.decode("latin-1"), v.decode("latin-1")) for k, v in raw_headers]
            ),
            body=body,
        )
        request_headers = _header_pairs_joined(scope)
        label = request_signature_label(request_headers)
        added: dict[str, str] | None = None
        if label is not None:
            response.request = HttpRequest(
                method=scope.get("method", "GET"), url=target_uri(scope), headers=request_headers
            )
            try:
                added = self.signer.sign_response(response, label)
            except ValueError:  # the request's signature field cannot be covered: sign unbound
                response.request = None
        if added is None:
            added = sign_unbound_response(self.key, response, lifetime=self.lifetime)
        skip = {name.encode("latin-1") for name in added}
        headers = [(k, v) for k, v in raw_headers if k.lower() not in skip]
        headers += [(k.encode("latin-1"), v.encode("latin-1")) for k, v in added.items()]
        await send({**start, "headers": headers})
        await send({"type": "http.response.body", "body": body, "more_body": False})
