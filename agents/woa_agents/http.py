"""The SDK's one signed HTTP client: sign requests, verify every answer, pin the peer's DID.

Every client of a Web of Agents service (the registry, its shared state) shares this flow:
a JSON body, signed with the caller's key (RFC 9421, :class:`~woa_protocol.MessageSigner`)
when the request needs it, sent with httpx; the response must be signed by the peer's
did:key (:meth:`~woa_protocol.MessageVerifier.verify_response`), bound to the request when
the request was signed; a problem answer (RFC 9457) raises :class:`PeerError`. The peer's
DID is given at construction or learned from its well-known description on first use
(trust on first use) and checked there too.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, ClassVar, Self

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

__all__ = ["REGISTRY_WELL_KNOWN", "PeerError", "RegistryPeerClient", "SignedHttpClient"]

REGISTRY_WELL_KNOWN = "/.well-known/woa-registry.json"
"""Where a registry describes itself and names its DID (spec/registry.md, REG-001)."""


class PeerError(Exception):
    """The peer answered with a problem (RFC 9457); ``problem`` is its body."""

    def __init__(self, status: int, problem: dict[str, Any]) -> None:
        self.status = status
        self.problem = problem
        super().__init__(f"{status} {problem.get('type')}: {problem.get('detail')}")

    @property
    def type(self) -> str:
        """The problem type URI, e.g. ``urn:woa:problem:agent-not-found``."""
        return str(self.problem.get("type", "about:blank"))


class SignedHttpClient:
    """Talks to one peer as one DID (``key``) or anonymously (``key=None``).

    Subclasses name the peer's self-description (:attr:`well_known_path`, a JSON object with
    a ``did`` member) and the error they raise (:attr:`error_class`).
    """

    well_known_path: ClassVar[str]
    error_class: ClassVar[type[PeerError]] = PeerError

    def __init__(
        self,
        base_url: str,
        key: SigningKey | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        *,
        peer_did: str | None = None,
        timeout: float = 10.0,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.key = key
        self.peer_did = peer_did
        self._signer = MessageSigner(key) if key is not None else None
        self._verifier = MessageVerifier(replay_guard=ReplayGuard())
        self._http = httpx.AsyncClient(base_url=self.base_url, transport=transport, timeout=timeout)

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close the HTTP connection pool."""
        await self._http.aclose()

    def _own_did(self) -> str:
        if self.key is None:
            raise RuntimeError("this client has no key")
        return self.key.did

    async def describe(self) -> dict[str, Any]:
        """Fetch the peer's self-description; pin its DID if none was given (and check it)."""
        response = await self._http.get(self.well_known_path)
        await response.aread()
        if response.status_code != 200:
            raise self.error_class(response.status_code, _problem(response))
        try:
            description = response.json()
        except ValueError:
            description = None
        if not isinstance(description, dict) or not isinstance(description.get("did"), str):
            raise self.error_class(
                response.status_code, {"type": "about:blank", "detail": "the peer names no DID"}
            )
        claimed: str = description["did"]
        expected = self.peer_did or claimed
        self._verify(response, None, expected)
        if claimed != expected:
            raise InvalidSignatureError(f"peer claims {claimed}, expected {expected}")
        self.peer_did = expected  # pinned only once the description proved itself
        return description

    async def _request(
        self,
        method: str,
        path: str,
        *,
        body: Any = None,
        raw: bytes | None = None,
        params: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
        content_type: str = "application/json",
        signed: bool = False,
    ) -> httpx.Response:
        """Send one request (signed if ``signed``); verify the answer; raise on a problem."""
        if self.peer_did is None:
            await self.describe()
        if raw is not None:
            content = raw
        else:
            content = b"" if body is None else json.dumps(body, separators=(",", ":")).encode()
        all_headers = {"accept": "application/json", **(headers or {})}
        if content:
            all_headers["content-type"] = content_type
        clean = {k: v for k, v in (params or {}).items() if v is not None}
        request = self._http.build_request(
            method, path, params=clean or None, content=content, headers=all_headers
        )
        signed_request: HttpRequest | None = None
        if signed:
            if self._signer is None:
                raise RuntimeError("this client has no key: signed requests need one")
            signed_request = HttpRequest(method, str(request.url), dict(request.headers), content)
            request.headers.update(self._signer.sign_request(signed_request))
        response = await self._http.send(request)
        await response.aread()
        self._verify(response, signed_request)
        if response.status_code >= 400:
            raise self.error_class(response.status_code, _problem(response))
        return response

    async def _json(self, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
        response = await self._request(method, path, **kwargs)
        result: dict[str, Any] = response.json()
        return result

    def _verify(
        self, response: httpx.Response, request: HttpRequest | None, expected: str | None = None
    ) -> None:
        """Check the peer's signature (bound to ``request`` when that was signed)."""
        expected = expected or self.peer_did
        assert expected is not None
        message = HttpResponse(
            status=response.status_code,
            headers=normalize_headers(response.headers.multi_items()),
            body=response.content,
            request=request,
        )
        label = DEFAULT_LABEL if request is not None else None
        self._verifier.verify_response(message, label, expected_did=expected)


class RegistryPeerClient(SignedHttpClient):
    """A signed client of a registry (or of a service it hosts), pinned to its DID."""

    well_known_path: ClassVar[str] = REGISTRY_WELL_KNOWN

    def __init__(
        self,
        base_url: str,
        key: SigningKey | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        *,
        registry_did: str | None = None,
        timeout: float = 10.0,
    ) -> None:
        super().__init__(base_url, key, transport, peer_did=registry_did, timeout=timeout)

    @property
    def registry_did(self) -> str | None:
        """The registry's DID: given, or learned on first use."""
        return self.peer_did

    @registry_did.setter
    def registry_did(self, did: str | None) -> None:
        self.peer_did = did


def _problem(response: httpx.Response) -> dict[str, Any]:
    try:
        problem = response.json()
    except ValueError:
        return {"type": "about:blank", "detail": response.text}
    if not isinstance(problem, dict):
        return {"type": "about:blank", "detail": response.text}
    return problem
