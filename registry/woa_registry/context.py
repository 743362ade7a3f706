"""What every route needs, built once per app: settings, key, store, verifier, limiters."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import cast

from starlette.requests import HTTPConnection

from woa_protocol import SigningKey, VerifiedMessage

from .cursors import CursorSealer
from .limits import TokenBucketLimiter
from .metrics import RegistryMetrics
from .problems import DidMismatchError, LeaseOutOfRangeError, RateLimitedError
from .settings import RegistrySettings
from .signing import RequestAuthenticator
from .storage.base import AgentStore

__all__ = ["RegistryContext", "context_of", "utcnow"]


def utcnow() -> datetime:
    """Return the current time, zone-aware UTC."""
    return datetime.now(UTC)


@dataclass
class RegistryContext:
    """Per-app state shared by routes, middleware and background tasks."""

    settings: RegistrySettings
    key: SigningKey
    store: AgentStore
    authenticator: RequestAuthenticator
    metrics: RegistryMetrics
    did_limiter: TokenBucketLimiter
    address_limiter: TokenBucketLimiter
    version: str
    ready: bool = field(default=False)
    cursors: CursorSealer = field(init=False)
    """Seals search cursors under the registry's key (REG-044)."""

    def __post_init__(self) -> None:
        self.cursors = CursorSealer(self.key)

    @property
    def did(self) -> str:
        """The registry's own did:key."""
        return self.key.did

    def lease_until(self, requested: int | None, now: datetime) -> datetime:
        """Return when a lease of ``requested`` seconds (default when None) ends; check bounds."""
        s = self.settings
        seconds = s.lease_default_seconds if requested is None else requested
        if not s.lease_min_seconds <= seconds <= s.lease_max_seconds:
            raise LeaseOutOfRangeError(
                f"leaseSeconds must lie in [{s.lease_min_seconds}, {s.lease_max_seconds}], "
                f"not {seconds}",
                minimum=s.lease_min_seconds,
                maximum=s.lease_max_seconds,
            )
        return now + timedelta(seconds=seconds)

    def authorize(self, verified: VerifiedMessage, did: str) -> None:
        """Require that ``did`` signed the request, then apply the per-DID rate limit."""
        if verified.did != did:
            raise DidMismatchError(f"request signed by {verified.did}, but the path names {did}")
        retry = self.did_limiter.acquire(did)
        if retry is not None:
            raise RateLimitedError(f"too many requests from {did}", retry_after=retry)


def context_of(connection: HTTPConnection) -> RegistryContext:
    """Return the app's :class:`RegistryContext` (set by the factory)."""
    return cast(RegistryContext, connection.app.state.registry)
