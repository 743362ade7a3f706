"""The registry client: register, heartbeat, deregister, search, fetch and the change feed.

The design keeps the SDK apart from the registry server: they meet over HTTP only, so this
module imports nothing from ``woa_registry``. It follows the registry chapter of the spec
(REG-001..REG-053): writes are signed by the agent's key (RFC 9421), and every response must
be signed by the registry's DID, pinned on construction or learned from
``/.well-known/woa-registry.json`` on first use (see :class:`~woa_agents.http.SignedHttpClient`).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any, ClassVar, Literal
from urllib.parse import urlencode, urlsplit, urlunsplit

from websockets.asyncio.client import connect as ws_connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake

from woa_protocol import FrameVerifier
from woa_protocol.models import A2AModel, UtcTimestamp

from .http import REGISTRY_WELL_KNOWN, PeerError, RegistryPeerClient

__all__ = [
    "FEED_CURSOR_EXPIRED",
    "FEED_POLICY_VIOLATION",
    "REGISTRY_WELL_KNOWN",
    "FeedEvent",
    "RegistryClient",
    "RegistryError",
]

FEED_POLICY_VIOLATION = 1008
"""The close code of a change feed refusing a bad ``since`` (REG-053): not retried."""
FEED_CURSOR_EXPIRED = 4410
"""The close code of a change feed whose ``since`` is older than the events it keeps
(REG-054): not retried; re-read the registry with search, then watch without ``since``."""


class RegistryError(PeerError):
    """The registry answered with a problem (RFC 9457); ``body`` holds its details."""


class FeedEvent(A2AModel):
    """One change-feed message (REG-051): what happened to which agent, in commit order."""

    seq: int
    kind: Literal["registered", "updated", "expired", "deregistered"]
    did: str
    at: UtcTimestamp
    card: dict[str, Any] | None = None


class RegistryClient(RegistryPeerClient):
    """Talks to one registry as one agent (``key``) or anonymously (``key=None``: read only)."""

    error_class: ClassVar[type[PeerError]] = RegistryError

    async def register(
        self, card: dict[str, Any], lease_seconds: int | None = None
    ) -> dict[str, Any]:
        """Register (or update) this client's agent with its signed ``card``."""
        body: dict[str, Any] = {"card": card}
        if lease_seconds is not None:
            body["leaseSeconds"] = lease_seconds
        return await self._json("PUT", f"/v1/agents/{self._own_did()}", body=body, signed=True)

    async def heartbeat(self, lease_seconds: int | None = None) -> dict[str, Any]:
        """Extend this agent's lease; raises :class:`RegistryError` (404) if it was forgotten."""
        body = None if lease_seconds is None else {"leaseSeconds": lease_seconds}
        return await self._json(
            "POST", f"/v1/agents/{self._own_did()}/heartbeat", body=body, signed=True
        )

    async def deregister(self) -> None:
        """Remove this agent from the registry."""
        await self._request("DELETE", f"/v1/agents/{self._own_did()}", signed=True)

    async def get(self, did: str) -> dict[str, Any] | None:
        """Return a registered agent, or None when the registry does not know it."""
        try:
            return await self._json("GET", f"/v1/agents/{did}")
        except RegistryError as exc:
            if exc.status == 404 and exc.type == "urn:woa:problem:agent-not-found":
                return None
            raise

    async def search(
        self,
        *,
        skill: str | None = None,
        family: str | None = None,
        input_mode: str | None = None,
        output_mode: str | None = None,
        tag: str | None = None,
        q: str | None = None,
        limit: int | None = None,
        cursor: str | None = None,
    ) -> dict[str, Any]:
        """Return one page of agents matching every filter: ``{"agents", "nextCursor"?}``."""
        params = {
            "skill": skill,
            "family": family,
            "inputMode": input_mode,
            "outputMode": output_mode,
            "tag": tag,
            "q": q,
            "limit": limit,
            "cursor": cursor,
        }
        return await self._json("GET", "/v1/agents", params=params)

    async def search_all(self, **filters: Any) -> AsyncIterator[dict[str, Any]]:
        """Yield every matching agent, following cursors."""
        cursor: str | None = None
        while True:
            page = await self.search(**filters, cursor=cursor)
            for agent in page["agents"]:
                yield agent
            cursor = page.get("nextCursor")
            if not cursor:
                return

    async def search_payload(self, payload: Any, **filters: Any) -> dict[str, Any]:
        """Return the skills whose input schema accepts ``payload``: ``{"matches", ...}``."""
        body = {"payload": payload, **{k: v for k, v in filters.items() if v is not None}}
        return await self._json("POST", "/v1/search/payload", body=body)

    async def fetch(self, url: str, lease_seconds: int | None = None) -> dict[str, Any]:
        """Ask the registry to fetch and list a plain A2A agent by URL (if it allows that)."""
        body: dict[str, Any] = {"url": url}
        if lease_seconds is not None:
            body["leaseSeconds"] = lease_seconds
        return await self._json("POST", "/v1/agents:fetch", body=body)

    def feed_url(self, since: int | None, subscription: str | None = None) -> str:
        """Return the WebSocket URL of the change feed (``subscription``: REG-055)."""
        parts = urlsplit(self.base_url)
        scheme = "wss" if parts.scheme == "https" else "ws"
        query = urlencode(
            [(k, v) for k, v in (("since", since), ("subscription", subscription)) if v is not None]
        )
        return urlunsplit((scheme, parts.netloc, parts.path + "/v1/feed", query, ""))

    async def watch(
        self, since: int | None = None, *, reconnect: bool = True, max_retries: int = 5
    ) -> AsyncIterator[FeedEvent]:
        """Yield change events after ``since``; when the connection drops, resume after the last.

        With ``reconnect`` the feed is reopened (with ``since`` = the last sequence number
        received) up to ``max_retries`` times in a row, backing off; then
        :class:`ConnectionError` is raised. A close for a bad request
        (:data:`FEED_POLICY_VIOLATION`) or a ``since`` older than the events the registry
        keeps (:data:`FEED_CURSOR_EXPIRED`) is not retried: its ``ConnectionClosed`` is raised.

        Every frame must be signed by the registry's DID (learned from its self-description
        when not given) for this connection's subscription, in order (REG-055); a frame that
        is not raises :class:`~woa_protocol.InvalidSignatureError`.
        """
        if self.registry_did is None:
            await self.describe()
        assert self.registry_did is not None  # describe() pins it
        failures = 0
        while True:
            frames = FrameVerifier(self.registry_did)
            try:
                async with ws_connect(
                    self.feed_url(since, frames.subscription), open_timeout=10
                ) as socket:
                    failures = 0
                    async for raw in socket:
                        event = FeedEvent.model_validate(frames.verify(raw))
                        since = event.seq
                        yield event
                if not reconnect:
                    return
            except ConnectionClosed as exc:
                refused = exc.rcvd is not None and exc.rcvd.code in (
                    FEED_POLICY_VIOLATION,
                    FEED_CURSOR_EXPIRED,
                )
                if not reconnect or refused:
                    raise
            except (InvalidHandshake, OSError):
                if not reconnect:
                    raise
            failures += 1
            if failures > max_retries:
                raise ConnectionError(f"change feed unavailable after {max_retries} retries")
            await asyncio.sleep(min(0.2 * 2**failures, 5.0))
