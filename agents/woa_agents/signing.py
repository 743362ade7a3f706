"""Signed messaging for agents: verify every request, sign every response (spec AGT-030..).

Requests are verified with :class:`woa_protocol.MessageVerifier` and one shared
:class:`woa_protocol.ReplayGuard` per agent; responses are signed by the protocol's
``MessageSigner``: bound to the request's signature, unbound for an unsigned request
(MSG-009), head-only for a streamed (SSE) response (MSG-010; the client confirms the final
result with a signed GetTask).

The policy says whether unsigned callers are accepted and which DIDs may call:
``SignaturePolicy(allow={"did:key:..."})`` is the one line an allow list takes.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Collection
from dataclasses import dataclass, field

from woa_protocol import (
    HttpRequest,
    MessageVerifier,
    MissingSignatureError,
    ReplayGuard,
    ReplayPolicy,
    VerifiedMessage,
    WoaError,
)

from .errors import JsonRpcCode, RpcError

__all__ = ["RequestVerifier", "SignaturePolicy"]


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
