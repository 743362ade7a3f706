"""The SDK's own registry client: register, heartbeat, deregister, search (over httpx).

The design keeps the SDK apart from the registry server: they meet over HTTP only, so this
module imports nothing from ``woa_registry`` (whose client pulls in the server's modules).
It follows the registry chapter of the spec (REG-001..REG-043): writes are signed by the
agent's key (RFC 9421), and every response must be signed by the registry's DID, pinned on
construction or learned from ``/.well-known/woa-registry.json`` on first use.
"""

from __future__ import annotations

import json
from typing import Any

import httpx

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

__all__ = ["REGISTRY_WELL_KNOWN", "RegistryClient", "RegistryError"]

REGISTRY_WELL_KNOWN = "/.well-known/woa-registry.json"


class RegistryError(Exception):
    """The registry answered with a problem (RFC 9457); ``problem`` is its body."""

    def __init__(self, status: int, problem: dict[str, Any]) -> None:
        super().__init__(f"{status} {problem.get('type')}: {problem.get('detail')}")
        self.status = status
        self.problem = problem

    @property
    def type(self) -> str:
        """The problem type URI."""
        return str(self.problem.get("type", "about:blank"))


class RegistryClient:
    """One registry, seen by one agent (``key``) or anonymously (read only)."""

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
        """Close the connection pool."""
        await self._http.aclose()

    async def _request(
        self,
        method: str,
        path: str,
        *,
        body: Any = None,
        params: dict[str, Any] | None = None,
        signed: bool = False,
    ) -> httpx.Response:
        if self.registry_did is None:
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
                raise RuntimeError("this registry client has no key: writes need one")
            signed_request = HttpRequest(method, str(request.url), dict(request.headers), content)
            request.headers.update(self._signer.sign_request(signed_request))
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
            response.status_code,
            normalize_headers(response.headers.multi_items()),
            response.content,
            request=request,
        )
        label = DEFAULT_LABEL if request is not None else None
        self._verifier.verify_response(message, label, expected_did=expected)

    async def describe(self) -> dict[str, Any]:
        """Fetch the registry's self-description; pin its DID (trust on first use)."""
        response = await self._http.get(REGISTRY_WELL_KNOWN)
        await response.aread()
        if response.status_code != 200:
            raise RegistryError(response.status_code, {"detail": "no registry description"})
        description: dict[str, Any] = response.json()
        claimed = description.get("did")
        if not isinstance(claimed, str):
            raise RegistryError(response.status_code, {"detail": "the registry names no DID"})
        if self.registry_did is None:
            self.registry_did = claimed
        if claimed != self.registry_did:
            raise InvalidSignatureError(f"registry claims {claimed}, expected {self.registry_did}")
        self._verify(response, None)
        return description

    def _own(self) -> str:
        if self.key is None:
            raise RuntimeError("this registry client has no key")
        return self.key.did

    async def register(
        self, card: dict[str, Any], lease_seconds: int | None = None
    ) -> dict[str, Any]:
        """Register (or update) this agent with its signed card."""
        body: dict[str, Any] = {"card": card}
        if lease_seconds is not None:
            body["leaseSeconds"] = lease_seconds
        response = await self._request("PUT", f"/v1/agents/{self._own()}", body=body, signed=True)
        result: dict[str, Any] = response.json()
        return result

    async def heartbeat(self, lease_seconds: int | None = None) -> dict[str, Any]:
        """Extend this agent's lease; raises RegistryError(404) when the registry forgot it."""
        body = None if lease_seconds is None else {"leaseSeconds": lease_seconds}
        response = await self._request(
            "POST", f"/v1/agents/{self._own()}/heartbeat", body=body, signed=True
        )
        result: dict[str, Any] = response.json()
        return result

    async def deregister(self) -> None:
        """Remove this agent."""
        await self._request("DELETE", f"/v1/agents/{self._own()}", signed=True)

    async def get(self, did: str) -> dict[str, Any] | None:
        """One registered agent, or None."""
        try:
            response = await self._request("GET", f"/v1/agents/{did}")
        except RegistryError as exc:
            if exc.status == 404:
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
        """One page of agents matching every filter: ``{"agents", "nextCursor"?, ...}``."""
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

    async def search_payload(self, payload: Any, **filters: Any) -> dict[str, Any]:
        """The skills whose input schema accepts ``payload``: ``{"matches", "truncated"}``."""
        body = {"payload": payload, **{k: v for k, v in filters.items() if v is not None}}
        response = await self._request("POST", "/v1/search/payload", body=body)
        result: dict[str, Any] = response.json()
        return result
