"""A client of the registry's REST API and change feed, over httpx and websockets.

Requests that change an agent are signed (RFC 9421) with the agent's key; every response
is checked against the registry's did:key, pinned at construction or learned from
``/.well-known/woa-registry.json`` on first use (trust on first use). A response that is
not signed by the registry raises :class:`~woa_protocol.InvalidSignatureError` (or
:class:`~woa_protocol.MissingSignatureError`): an impostor cannot answer in its name.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import httpx
from websockets.asyncio.client import connect as ws_connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake

from woa_protocol import (
    HttpRequest,
    HttpResponse,
    InvalidSignatureError,
    MessageSigner,
    MessageVerifier,
    ReplayGuard,
    SigningKey,
)
from woa_protocol.httpsig import DEFAULT_LABEL, normalize_headers

from .models import FeedEvent
from .routes.feed import POLICY_VIOLATION
from .routes.wellknown import WELL_KNOWN_PATH

__all__ = ["RegistryClient", "RegistryError"]


class RegistryError(Exception):
    """The registry answered with a problem (RFC 9457); ``problem`` is its body."""

    def __init__(self, status: int, problem: dict[str, Any]) -> None:
        self.status = status
        self.problem = problem
        super().__init__(f"{status} {problem.get('type')}: {problem.get('detail')}")

    @property
    def type(self) -> str:
        """The problem type URI, e.g. ``urn:woa:problem:agent-not-found``."""
        return str(self.problem.get("type", "about:blank"))


class RegistryClient:
    """Talks to one registry as one agent (``key``) or anonymously (``key=None``: read only)."""

    def __init__(
        self,
        base_url: str,
        key: SigningKey | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        *,
        registry_did: str | None = None,
        timeout: float = 10.0,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.key = key
        self.registry_did = registry_did
        self._signer = MessageSigner(key) if key is not None else None
        self._guard = ReplayGuard()
        self._verifier = MessageVerifier(replay_guard=self._guard)
        self._http = httpx.AsyncClient(base_url=self.base_url, transport=transport, timeout=timeout)

    async def __aenter__(self) -> RegistryClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close the HTTP connection pool."""
        await self._http.aclose()

    # -- transport -------------------------------------------------------------------------

    async def _request(
        self,
        method: str,
        path: str,
        *,
        body: Any = None,
        params: dict[str, Any] | None = None,
        signed: bool = False,
    ) -> httpx.Response:
        if self.registry_did is None and path != WELL_KNOWN_PATH:
            await self.describe()
        content = b"" if body is None else json.dumps(body, separators=(",", ":")).encode()
        headers = {"accept": "application/json"}
        if content:
            headers["content-type"] = "application/json"
        clean = {k: v for k, v in (params or {}).items() if v is not None}
        request = self._http.build_request(
            method, path, params=clean or None, content=content, headers=headers
        )
        signed_request: HttpRequest | None = None
        if signed:
            if self._signer is None:
                raise RuntimeError("this client has no key: signed requests need one")
            signed_request = HttpRequest(method, str(request.url), dict(request.headers), content)
            added = self._signer.sign_request(signed_request)
            request.headers.update(added)
        response = await self._http.send(request)
        await response.aread()
        self._verify(response, signed_request)
        if response.status_code >= 400:
            try:
                problem = response.json()
            except ValueError:
                problem = {"type": "about:blank", "detail": response.text}
            raise RegistryError(response.status_code, problem)
        return response

    def _verify(self, response: httpx.Response, request: HttpRequest | None) -> None:
        expected = self.registry_did
        assert expected is not None
        message = HttpResponse(
            status=response.status_code,
            headers=normalize_headers(response.headers.multi_items()),
            body=response.content,
            request=request,
        )
        label = DEFAULT_LABEL if request is not None else None
        self._verifier.verify_response(message, label, expected_did=expected)

    # -- API -------------------------------------------------------------------------------

    async def describe(self) -> dict[str, Any]:
        """Fetch the registry description; pin its DID if none was given (and check it)."""
        response = await self._http.get(WELL_KNOWN_PATH)
        await response.aread()
        description: dict[str, Any] = response.json()
        claimed = description.get("did")
        if not isinstance(claimed, str):
            raise RegistryError(response.status_code, {"detail": "registry names no DID"})
        if self.registry_did is None:
            self.registry_did = claimed
        self._verify(response, None)
        if claimed != self.registry_did:
            raise InvalidSignatureError(f"registry claims {claimed}, expected {self.registry_did}")
        return description

    def _own_did(self) -> str:
        if self.key is None:
            raise RuntimeError("this client has no key")
        return self.key.did

    async def register(
        self, card: dict[str, Any], lease_seconds: int | None = None
    ) -> dict[str, Any]:
        """Register (or update) this client's agent with its signed ``card``."""
        body: dict[str, Any] = {"card": card}
        if lease_seconds is not None:
            body["leaseSeconds"] = lease_seconds
        response = await self._request(
            "PUT", f"/v1/agents/{self._own_did()}", body=body, signed=True
        )
        result: dict[str, Any] = response.json()
        return result

    async def heartbeat(self, lease_seconds: int | None = None) -> dict[str, Any]:
        """Extend this agent's lease."""
        body = None if lease_seconds is None else {"leaseSeconds": lease_seconds}
        response = await self._request(
            "POST", f"/v1/agents/{self._own_did()}/heartbeat", body=body, signed=True
        )
        result: dict[str, Any] = response.json()
        return result

    async def deregister(self) -> None:
        """Remove this agent from the registry."""
        await self._request("DELETE", f"/v1/agents/{self._own_did()}", signed=True)

    async def get(self, did: str) -> dict[str, Any] | None:
        """Return a registered agent, or None when the registry does not know it."""
        try:
            response = await self._request("GET", f"/v1/agents/{did}")
        except RegistryError as exc:
            if exc.status == 404 and exc.type == "urn:woa:problem:agent-not-found":
                return None
            raise
        result: dict[str, Any] = response.json()
        return result

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
        """Return one page: ``{"agents": [...], "nextCursor": ...}``."""
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
        response = await self._request("GET", "/v1/agents", params=params)
        result: dict[str, Any] = response.json()
        return result

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
        """Return the skills whose input schema accepts ``payload``."""
        body = {"payload": payload, **{k: v for k, v in filters.items() if v is not None}}
        response = await self._request("POST", "/v1/search/payload", body=body)
        result: dict[str, Any] = response.json()
        return result

    async def fetch(self, url: str, lease_seconds: int | None = None) -> dict[str, Any]:
        """Ask the registry to fetch and list a plain A2A agent by URL (if it allows that)."""
        body: dict[str, Any] = {"url": url}
        if lease_seconds is not None:
            body["leaseSeconds"] = lease_seconds
        response = await self._request("POST", "/v1/agents:fetch", body=body)
        result: dict[str, Any] = response.json()
        return result

    def feed_url(self, since: int | None) -> str:
        """Return the WebSocket URL of the change feed."""
        parts = urlsplit(self.base_url)
        scheme = "wss" if parts.scheme == "https" else "ws"
        query = "" if since is None else f"since={since}"
        return urlunsplit((scheme, parts.netloc, parts.path + "/v1/feed", query, ""))

    async def watch(
        self, since: int | None = None, *, reconnect: bool = True, max_retries: int = 5
    ) -> AsyncIterator[FeedEvent]:
        """Yield change events after ``since``; when the connection drops, resume after the last.

        With ``reconnect`` the feed is reopened (with ``since`` = the last sequence number
        received) up to ``max_retries`` times in a row, backing off; then
        :class:`ConnectionError` is raised. A close for a bad request (1008) is not retried.
        """
        failures = 0
        while True:
            try:
                async with ws_connect(self.feed_url(since), open_timeout=10) as socket:
                    failures = 0
                    async for raw in socket:
                        event = FeedEvent.model_validate_json(raw)
                        since = event.seq
                        yield event
                if not reconnect:
                    return
            except ConnectionClosed as exc:
                if not reconnect or (exc.rcvd is not None and exc.rcvd.code == POLICY_VIOLATION):
                    raise
            except (InvalidHandshake, OSError):
                if not reconnect:
                    raise
            failures += 1
            if failures > max_retries:
                raise ConnectionError(f"change feed unavailable after {max_retries} retries")
            await asyncio.sleep(min(0.2 * 2**failures, 5.0))
