"""The shared-state client: documents, compare-and-set, history and watch (spec/state.md).

Every request is signed (RFC 9421) with the client's key when it has one, so private
namespaces can be read too; every response is checked against the registry's did:key,
pinned at construction or learned from ``/.well-known/woa-registry.json`` on first use
(see :class:`~woa_agents.http.SignedHttpClient`).
"""

from __future__ import annotations

import asyncio
import json
import random
import time
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar
from urllib.parse import urlencode, urlsplit, urlunsplit

import httpx
from websockets.asyncio.client import connect as ws_connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake

from woa_protocol import FrameVerifier, HttpRequest

from .http import PeerError, RegistryPeerClient

__all__ = [
    "WATCH_CLOSE_STATUS",
    "Backoff",
    "StateClient",
    "StateClientError",
    "UpdateConflictError",
    "WatchEvent",
]

WATCH_CLOSE_STATUS = {4400: 400, 4401: 401, 4403: 403, 4404: 404}
"""A watch's refusal close codes (spec/state.md) and the HTTP status each stands for."""


class StateClientError(PeerError):
    """The state API answered with a problem (RFC 9457); ``body`` holds its details."""

    @property
    def current_version(self) -> int | None:
        """For a version mismatch or create on an existing key: the current version."""
        value = self.body.get("currentVersion")
        return value if isinstance(value, int) else None


class UpdateConflictError(StateClientError):
    """:meth:`StateClient.update` lost every race within its time budget."""

    def __init__(self, status: int, body: dict[str, Any], *, attempts: int) -> None:
        super().__init__(status, body)
        self.attempts = attempts
        """How many compare-and-sets were tried."""


@dataclass(frozen=True)
class Backoff:
    """Exponential backoff with full jitter: attempt ``n`` waits uniform(0, min(cap, base*2^n))."""

    base: float = 0.01
    cap: float = 1.0

    def delay(self, attempt: int) -> float:
        """Seconds to wait after the ``attempt``-th failure (1-based)."""
        cap = min(self.cap, self.base * 2 ** min(attempt, 30))
        return random.uniform(0, cap)  # noqa: S311 (jitter, not a secret)


@dataclass(frozen=True)
class WatchEvent:
    """One change received from a watch."""

    rev: int
    namespace: str
    key: str
    version: int
    op: str
    value: Any
    writer: str | None
    at: str

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> WatchEvent:
        """Build from a ``"type": "change"`` frame."""
        return cls(
            rev=int(data["rev"]),
            namespace=str(data["namespace"]),
            key=str(data["key"]),
            version=int(data["version"]),
            op=str(data["op"]),
            value=data.get("value"),
            writer=data.get("writer"),
            at=str(data["at"]),
        )


def _refusal_problem(reason: str | None) -> dict[str, Any]:
    """The problem a watch refusal stands for: its close reason is ``<slug>: <detail>``."""
    slug, sep, detail = (reason or "").partition(": ")
    if sep and slug and all(c.isalnum() or c == "-" for c in slug):
        return {"type": f"urn:woa:problem:{slug}", "detail": detail}
    return {"type": "about:blank", "detail": reason or ""}


def _etag(version: int | str) -> str:
    return "*" if version == "*" else f'"{int(version)}"'


class StateClient(RegistryPeerClient):
    """Talks to the state API as one DID (``key``) or anonymously (``key=None``)."""

    error_class: ClassVar[type[PeerError]] = StateClientError

    async def request(
        self,
        method: str,
        path: str,
        *,
        body: Any = None,
        raw: bytes | None = None,
        params: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
        content_type: str = "application/json",
    ) -> httpx.Response:
        """Send one (signed, if the client has a key) request; raise on a problem answer."""
        return await self._request(
            method,
            path,
            body=body,
            raw=raw,
            params=params,
            headers=headers,
            content_type=content_type,
            signed=self.key is not None,
        )

    async def _json_signed(self, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
        return await self._json(method, path, signed=self.key is not None, **kwargs)

    # -- namespaces ------------------------------------------------------------------

    async def whoami(self) -> str:
        """Return the DID the server verified for this client's signature."""
        return str((await self._json_signed("POST", "/v1/state:whoami"))["did"])

    async def put_namespace(
        self,
        namespace: str,
        *,
        writers: Sequence[str] = (),
        readers: Sequence[str] = (),
        public_read: bool = False,
        context_id: str | None = None,
    ) -> dict[str, Any]:
        """Create the namespace (this client's DID owns it) or, as owner, replace its ACL."""
        body: dict[str, Any] = {
            "writers": list(writers),
            "readers": list(readers),
            "publicRead": public_read,
        }
        if context_id is not None:
            body["contextId"] = context_id
        return await self._json_signed("PUT", f"/v1/state/{namespace}", body=body)

    async def namespace(self, namespace: str) -> dict[str, Any]:
        """Return the namespace's ACL, contextId and usage."""
        return await self._json_signed("GET", f"/v1/state/{namespace}")

    async def namespaces_for_context(self, context_id: str) -> list[dict[str, Any]]:
        """Return the readable namespaces tied to an A2A contextId."""
        found = await self._json_signed("GET", "/v1/state", params={"contextId": context_id})
        return list(found["namespaces"])

    # -- documents -------------------------------------------------------------------

    async def get(self, namespace: str, key: str) -> dict[str, Any]:
        """Return the document: ``value``, ``version``, ``writer``, ``updatedAt``, ..."""
        return await self._json_signed("GET", f"/v1/state/{namespace}/docs/{key}")

    async def put(
        self,
        namespace: str,
        key: str,
        value: Any,
        *,
        if_match: int | str | None = None,
        create: bool = False,
        ttl: int | None = None,
    ) -> dict[str, Any]:
        """Write ``value`` if the document is at ``if_match`` (or, ``create``, is absent)."""
        headers = {}
        if create:
            headers["if-none-match"] = "*"
        if if_match is not None:
            headers["if-match"] = _etag(if_match)
        return await self._json_signed(
            "PUT",
            f"/v1/state/{namespace}/docs/{key}",
            raw=json.dumps(value, separators=(",", ":")).encode(),
            headers=headers,
            params={"ttl": ttl},
        )

    async def patch(
        self,
        namespace: str,
        key: str,
        patch: list[dict[str, Any]],
        *,
        if_match: int | str,
        ttl: int | None = None,
    ) -> dict[str, Any]:
        """Apply a JSON Patch (RFC 6902) to version ``if_match``; return the new version."""
        return await self._json_signed(
            "PATCH",
            f"/v1/state/{namespace}/docs/{key}",
            body=patch,
            headers={"if-match": _etag(if_match)},
            params={"ttl": ttl},
            content_type="application/json-patch+json",
        )

    async def delete(self, namespace: str, key: str, *, if_match: int | str) -> dict[str, Any]:
        """Delete version ``if_match`` of the document."""
        return await self._json_signed(
            "DELETE", f"/v1/state/{namespace}/docs/{key}", headers={"if-match": _etag(if_match)}
        )

    async def list_documents(
        self,
        namespace: str,
        *,
        prefix: str = "",
        limit: int | None = None,
        cursor: str | None = None,
    ) -> dict[str, Any]:
        """Return one page ``{"documents": [...], "nextCursor": ...}`` of live keys."""
        params = {"prefix": prefix or None, "limit": limit, "cursor": cursor}
        return await self._json_signed("GET", f"/v1/state/{namespace}/docs", params=params)

    async def batch(self, namespace: str, operations: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Apply ``operations`` all or nothing; return the committed changes."""
        result = await self._json_signed(
            "POST", f"/v1/state/{namespace}/batch", body={"operations": operations}
        )
        return list(result["changes"])

    async def history(self, namespace: str, key: str, *, after: int = 0) -> list[dict[str, Any]]:
        """Return the document's whole history after ``after`` (following pages)."""
        entries: list[dict[str, Any]] = []
        while True:
            page = await self._json_signed(
                "GET", f"/v1/state/{namespace}/history/{key}", params={"after": after}
            )
            entries += page["entries"]
            if page.get("nextAfter") is None:
                return entries
            after = int(page["nextAfter"])

    async def update(
        self,
        namespace: str,
        key: str,
        change: Callable[[Any], Any],
        *,
        budget: float = 30.0,
        backoff: Backoff | None = None,
    ) -> dict[str, Any]:
        """Read, apply ``change`` to the value and compare-and-set; retry a lost race.

        A lost race (``412``) is retried after an exponential backoff with full jitter
        (:class:`Backoff`) until ``budget`` seconds have passed since the first read
        (spec STATE-025); then :class:`UpdateConflictError` is raised. The change returned
        carries ``attempts``: how many compare-and-sets it took.
        """
        policy = backoff or Backoff()
        deadline = time.monotonic() + budget
        attempt = 0
        while True:
            attempt += 1
            doc = await self.get(namespace, key)
            try:
                written = await self.put(
                    namespace, key, change(doc["value"]), if_match=int(doc["version"])
                )
            except StateClientError as exc:
                if exc.status != 412:
                    raise
                pause = policy.delay(attempt)
                if time.monotonic() + pause > deadline:
                    raise UpdateConflictError(exc.status, exc.body, attempts=attempt) from exc
                await asyncio.sleep(pause)
                continue
            return {**written, "attempts": attempt}

    # -- watch -----------------------------------------------------------------------

    def watch_url(
        self,
        namespace: str,
        prefix: str,
        since: int | None,
        *,
        ws: bool,
        subscription: str | None = None,
    ) -> str:
        """The watch URL (``ws`` scheme to connect, ``http`` scheme as signed)."""
        parts = urlsplit(self.base_url)
        scheme = parts.scheme
        if ws:
            scheme = "wss" if scheme == "https" else "ws"
        params = (("prefix", prefix), ("since", since), ("subscription", subscription))
        query = urlencode([(k, v) for k, v in params if v not in ("", None)])
        path = f"{parts.path}/v1/state/{namespace}/watch"
        return urlunsplit((scheme, parts.netloc, path, query, ""))

    def _handshake_headers(self, url: str) -> dict[str, str]:
        if self._signer is None:
            return {}
        request = HttpRequest("GET", url, {}, b"")
        return self._signer.sign_request(request)

    async def watch(
        self,
        namespace: str,
        *,
        prefix: str = "",
        since: int | None = None,
        reconnect: bool = True,
        max_retries: int = 20,
        ready: asyncio.Event | None = None,
    ) -> AsyncIterator[WatchEvent]:
        """Yield changes in revision order; on a dropped connection resume after the last.

        ``ready`` is set once the server has subscribed this watcher (its hello frame).
        Refusals (bad request, not signed, forbidden, unknown namespace) raise
        :class:`StateClientError`; other failures reconnect up to ``max_retries`` times in a
        row, backing off. Every frame must be signed by the registry (its DID learned from
        its self-description when not given) for this connection's subscription, in order
        (STATE-044); a frame that is not raises :class:`~woa_protocol.InvalidSignatureError`.
        """
        if self.registry_did is None:
            await self.describe()
        assert self.registry_did is not None  # describe() pins it
        failures = 0
        while True:
            frames = FrameVerifier(self.registry_did)
            sub = frames.subscription
            url = self.watch_url(namespace, prefix, since, ws=True, subscription=sub)
            headers = self._handshake_headers(
                self.watch_url(namespace, prefix, since, ws=False, subscription=sub)
            )
            try:
                async with ws_connect(url, additional_headers=headers, open_timeout=10) as sock:
                    async for raw in sock:
                        frame = frames.verify(raw)
                        if frame.get("type") == "hello":
                            failures = 0
                            if since is None:
                                since = int(frame["since"])
                            if ready is not None:
                                ready.set()
                            continue
                        event = WatchEvent.from_json(frame)
                        since = event.rev
                        yield event
                    code = sock.close_code
                    if code in WATCH_CLOSE_STATUS:
                        raise StateClientError(
                            WATCH_CLOSE_STATUS[code], _refusal_problem(sock.close_reason)
                        )
                    if not reconnect:
                        return
                    failures += 1
            except ConnectionClosed as exc:
                code = exc.rcvd.code if exc.rcvd is not None else None
                if code in WATCH_CLOSE_STATUS:
                    reason = exc.rcvd.reason if exc.rcvd is not None else ""
                    raise StateClientError(
                        WATCH_CLOSE_STATUS[code], _refusal_problem(reason)
                    ) from exc
                failures += 1
                if not reconnect or failures > max_retries:
                    raise
            except (InvalidHandshake, OSError, TimeoutError):
                failures += 1
                if not reconnect or failures > max_retries:
                    raise
            if failures > max_retries:
                raise ConnectionError(f"watch of {namespace!r} failed {failures} times in a row")
            await asyncio.sleep(min(0.05 * 2**failures, 2.0))
