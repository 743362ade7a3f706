"""The state service inside the registry process: store, service, verifier, sweeper.

:meth:`StateRuntime.for_registry` builds it from the registry's settings (same database
URL) and the registry's :class:`~woa_registry.signing.RequestAuthenticator`, so a nonce is
accepted once per process whichever API it was used on. :func:`install_state` mounts the
routes; the app's lifespan calls :meth:`StateRuntime.open` and :meth:`StateRuntime.close`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import UTC, datetime
from typing import TYPE_CHECKING, cast

from fastapi import FastAPI
from starlette.requests import HTTPConnection
from starlette.types import Scope

from woa_protocol import MissingSignatureError, SigningKey, VerifiedMessage

from ..cursors import CursorSealer
from ..limits import TokenBucketLimiter
from ..problems import RateLimitedError
from ..settings import RegistrySettings
from ..signing import RequestAuthenticator, request_from_scope
from .models import Provenance
from .paths import LiteralStatePathMiddleware
from .provenance import provenance_of
from .service import StateService
from .settings import StateSettings
from .store import StateStore, open_state_store

if TYPE_CHECKING:
    from ..db.postgres import PostgresDatabase

__all__ = ["StateRuntime", "install_state", "runtime_of"]

log = logging.getLogger(__name__)


class StateRuntime:
    """Everything the state routes need, built once per app."""

    def __init__(
        self,
        store: StateStore,
        authenticator: RequestAuthenticator,
        *,
        settings: StateSettings | None = None,
        max_body_bytes: int = 256 * 1024,
        public_url: str | None = None,
        owns_store: bool = True,
        cursor_key: SigningKey | None = None,
    ) -> None:
        self.settings = settings or StateSettings()
        self.store = store
        self.service = StateService(store, self.settings.limits())
        self.authenticator = authenticator
        self.limiter = TokenBucketLimiter(self.settings.rate_per_did, self.settings.burst_per_did)
        self.max_body_bytes = max_body_bytes
        self.public_url = public_url
        self.owns_store = owns_store
        frame_key = cursor_key if cursor_key is not None else SigningKey.generate()
        self.cursors = CursorSealer(frame_key)
        """Seals list cursors (REG-044); the registry's key, so replicas share it."""
        self.frame_key = frame_key
        """The key that signs watch frames (STATE-044): the registry's."""
        self._sweeper: asyncio.Task[None] | None = None

    @classmethod
    def for_registry(
        cls,
        settings: RegistrySettings,
        authenticator: RequestAuthenticator,
        *,
        state_settings: StateSettings | None = None,
        store: StateStore | None = None,
        key: SigningKey | None = None,
        database: PostgresDatabase | None = None,
    ) -> StateRuntime:
        """Build the runtime on the registry's database URL and request verifier.

        ``database``: the replica's shared PostgreSQL connections (None for SQLite);
        ``key``: the registry's key, which signs watch frames.
        """
        return cls(
            store
            if store is not None
            else open_state_store(settings.database_url, database=database),
            authenticator,
            settings=state_settings,
            max_body_bytes=settings.max_body_bytes,
            public_url=settings.public_url,
            owns_store=store is None,
            cursor_key=key,
        )

    async def open(self) -> None:
        """Open the store (when owned) and start the TTL sweeper."""
        if self.owns_store:
            await self.store.open()
        self._sweeper = asyncio.create_task(self._sweep(), name="woa-state-sweeper")

    async def close(self) -> None:
        """Stop the sweeper and close the store (when owned)."""
        sweeper, self._sweeper = self._sweeper, None
        if sweeper is not None:
            sweeper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await sweeper
        if self.owns_store:
            await self.store.close()

    async def _sweep(self) -> None:
        while True:
            await asyncio.sleep(self.settings.sweep_interval_seconds)
            try:
                while len(await self.service.expire()) >= 500:
                    pass
            except Exception:  # keep sweeping; the error is logged
                log.exception("state TTL sweep failed")

    async def authenticate(self, scope: Scope, body: bytes) -> tuple[VerifiedMessage, Provenance]:
        """Verify a signed write (consuming its nonce), rate-limit its DID, keep provenance."""
        request = request_from_scope(scope, body, self.public_url)
        if "signature" not in request.headers and "signature-input" not in request.headers:
            raise MissingSignatureError(
                "state writes must be signed (RFC 9421) by a DID the namespace allows"
            )
        verified = await self.authenticator.verify_request(request)
        retry = self.limiter.acquire(verified.did)
        if retry is not None:
            raise RateLimitedError(f"too many state writes from {verified.did}", retry_after=retry)
        return verified, provenance_of(request, verified, datetime.now(UTC))

    async def caller(self, scope: Scope, body: bytes = b"") -> str | None:
        """The verified DID of a read that carries a signature; None for an unsigned read."""
        request = request_from_scope(scope, body, self.public_url)
        if "signature" not in request.headers and "signature-input" not in request.headers:
            return None
        return (await self.authenticator.verify_request(request)).did


def runtime_of(connection: HTTPConnection) -> StateRuntime:
    """Return the app's :class:`StateRuntime` (set by :func:`install_state`)."""
    return cast(StateRuntime, connection.app.state.woa_state)


def install_state(app: FastAPI, runtime: StateRuntime) -> None:
    """Mount the state routes on ``app`` and make ``runtime`` available to them."""
    from .routes import router

    app.state.woa_state = runtime
    app.include_router(router)
    app.add_middleware(LiteralStatePathMiddleware)
