"""RFC 9421 on the registry's side: verifying signed requests, signing every response.

Requests: :class:`RequestAuthenticator` rebuilds the request as the signer saw it
(:func:`request_from_scope`) and runs the protocol's :class:`~woa_protocol.MessageVerifier`
with one shared :class:`~woa_protocol.ReplayGuard`, so a nonce is accepted once per process;
with a :class:`~woa_protocol.ReplayStore` behind that cache (the registry's database), once
across replicas and restarts.

Responses: :class:`ResponseSigningMiddleware` signs every HTTP response with the registry's
key. When the request carried a signature, the response is bound to it with
``MessageSigner.sign_response`` (covers ``"signature";req;key=<label>``). An unsigned request
(a plain GET) has nothing to bind to: its response is signed unbound (spec MSG-009).
"""

from __future__ import annotations

import time
from collections.abc import Callable

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from woa_protocol import (
    HttpRequest,
    HttpResponse,
    MessageSigner,
    MessageVerifier,
    ReplayGuard,
    ReplayPolicy,
    ReplayStore,
    SigningKey,
    VerifiedMessage,
)
from woa_protocol.httpsig import (
    decode_headers,
    request_signature_label,
    target_uri,
)

__all__ = [
    "RequestAuthenticator",
    "ResponseSigningMiddleware",
    "request_from_scope",
]


def request_from_scope(scope: Scope, body: bytes, public_url: str | None = None) -> HttpRequest:
    """Build the protocol's :class:`HttpRequest` from an ASGI scope and its full body."""
    return HttpRequest(
        method=scope.get("method", "GET"),
        url=target_uri(scope, public_url),
        headers=_header_pairs_joined(scope),
        body=body,
        normalized=True,
    )


def _header_pairs_joined(scope: Scope) -> dict[str, str]:
    return decode_headers(scope.get("headers", []))


class RequestAuthenticator:
    """Verifies signed requests with one replay cache for the whole app.

    ``replay_store``: the deployment's shared store of claimed nonces, consulted after the
    in-process cache accepted a nonce (REG-095); None keeps protection per process.
    """

    def __init__(
        self,
        *,
        max_age: int = 300,
        clock_skew: int = 30,
        public_url: str | None = None,
        clock: Callable[[], float] = time.time,
        replay_store: ReplayStore | None = None,
    ) -> None:
        policy = ReplayPolicy(max_age=max_age, clock_skew=clock_skew)
        self.replay_guard = ReplayGuard(policy, clock=clock, store=replay_store)
        self.verifier = MessageVerifier(replay_guard=self.replay_guard, clock=clock)
        self.public_url = public_url

    async def verify_request(self, request: HttpRequest) -> VerifiedMessage:
        """Verify a signed request, then claim its nonce in the shared store; raise a WoaError."""
        verified = self.verifier.verify_request(request)
        assert verified.nonce is not None  # verify_request requires one
        guard = self.replay_guard
        await guard.claim_shared(
            verified.did, verified.nonce, guard.window_end(verified.created, verified.expires)
        )
        return verified

    async def verify(self, scope: Scope, body: bytes) -> VerifiedMessage:
        """Verify the request's signature and consume its nonce; raise a ``WoaError``."""
        return await self.verify_request(request_from_scope(scope, body, self.public_url))


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
            headers=decode_headers(raw_headers),
            body=body,
            normalized=True,
        )
        added: dict[str, str] | None = None
        # ASGI lower-cases header names; an unsigned request (most GETs) has nothing to bind
        # to, so its headers need not be decoded and parsed for a signature at all.
        signed = any(name == b"signature" for name, _ in scope.get("headers", ()))
        request_headers = _header_pairs_joined(scope) if signed else {}
        label = request_signature_label(request_headers) if signed else None
        if label is not None:
            try:
                response.request = HttpRequest(
                    method=scope.get("method", "GET"),
                    url=target_uri(scope),
                    headers=request_headers,
                    normalized=True,
                )
                added = self.signer.sign_response(response, label)
            except ValueError:  # the request's signature field cannot be covered (or its
                response.request = None  # Host is ambiguous, MSG-011): sign unbound
        if added is None:
            added = self.signer.sign_response(response)
        skip = {name.encode("latin-1") for name in added}
        headers = [(k, v) for k, v in raw_headers if k.lower() not in skip]
        headers += [(k.encode("latin-1"), v.encode("latin-1")) for k, v in added.items()]
        await send({**start, "headers": headers})
        await send({"type": "http.response.body", "body": body, "more_body": False})
