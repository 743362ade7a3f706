"""The SDK's one signed HTTP path: sign requests, verify every answer, wait out 429s.

Every client of a Web of Agents peer (an agent, the registry, its shared state) shares this
flow, in :class:`SignedHttp`: a request signed with the caller's key (RFC 9421,
:class:`~woa_protocol.MessageSigner`) when it needs to be, sent with httpx; the response
must be signed by the peer's did:key (:meth:`~woa_protocol.MessageVerifier.verify_response`),
bound to the request when the request was signed (only the head of a streamed response);
a ``429`` with ``Retry-After`` is retried after that delay, a bounded number of times
(:class:`RetryPolicy`, spec AGT-064); a transport failure raises :class:`TransportError`.
:class:`SignedHttpClient` adds one peer at one base URL, whose DID is given at construction
or learned from its well-known description on first use (trust on first use), and raises
:class:`PeerError` for a problem answer (RFC 9457).
"""

from __future__ import annotations

import asyncio
import email.utils
import json
import logging
import math
import random
import time
from collections.abc import Mapping
from dataclasses import dataclass
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
    WoaError,
    strict_json,
)
from woa_protocol.httpsig import DEFAULT_LABEL, normalize_headers

from .errors import TransportError

__all__ = [
    "NO_RETRY",
    "REGISTRY_WELL_KNOWN",
    "PeerError",
    "RegistryPeerClient",
    "RetryPolicy",
    "SignedHttp",
    "SignedHttpClient",
    "retry_after_seconds",
]

log = logging.getLogger(__name__)

REGISTRY_WELL_KNOWN = "/.well-known/woa-registry.json"
"""Where a registry describes itself and names its DID (spec/registry.md, REG-001)."""


class PeerError(WoaError):
    """The peer answered with a problem (RFC 9457): ``status``, and ``body``, its details.

    (``problem``, as on every :class:`~woa_protocol.WoaError`, names this SDK's type; the
    peer's own type URI is :attr:`type`.)
    """

    def __init__(self, status: int, body: dict[str, Any]) -> None:
        self.status = status
        self.body = body
        super().__init__(f"{status} {body.get('type')}: {body.get('detail')}")

    @property
    def type(self) -> str:
        """The problem type URI, e.g. ``urn:woa:problem:agent-not-found``."""
        return str(self.body.get("type", "about:blank"))

    def to_problem(self, instance: str | None = None) -> dict[str, Any]:
        """The peer's problem details, as received."""
        return dict(self.body)


@dataclass(frozen=True)
class RetryPolicy:
    """How a client waits out ``429 Too Many Requests`` (spec AGT-064).

    A 429 whose ``Retry-After`` (seconds or an HTTP date) is at most ``max_delay`` seconds
    is retried after that delay, plus up to ``jitter`` of it at random, at most
    ``max_retries`` times per request; any other 429 is returned as it is (and raised by
    the clients as the peer's problem).
    """

    max_retries: int = 5
    max_delay: float = 10.0
    jitter: float = 0.1

    def delay(self, response: httpx.Response, attempt: int) -> float | None:
        """Seconds to wait before retrying ``response`` (the ``attempt``-th), or None."""
        if response.status_code != 429 or attempt >= self.max_retries:
            return None
        seconds = retry_after_seconds(response.headers.get("retry-after"))
        if seconds is None or seconds > self.max_delay:
            return None
        return seconds * (1 + random.uniform(0, self.jitter))  # noqa: S311 (jitter, not a secret)


NO_RETRY = RetryPolicy(max_retries=0)
"""A policy that never retries (a 429 is answered at once)."""


def retry_after_seconds(value: str | None, *, now: float | None = None) -> float | None:
    """Parse ``Retry-After`` (RFC 9110 §10.2.3): delay-seconds or an HTTP date; None if bad."""
    if value is None:
        return None
    value = value.strip()
    if value.isdigit():
        return float(int(value))
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        return None
    seconds = when.timestamp() - (time.time() if now is None else now)
    return max(0.0, math.ceil(seconds)) if math.isfinite(seconds) else None


class SignedHttp:
    """Sends requests as one key (or anonymously) and verifies each answer's signature.

    One httpx connection pool, one signer, one verifier with its replay cache, one
    :class:`RetryPolicy`. Used by every client of the SDK.
    """

    def __init__(
        self,
        key: SigningKey | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        *,
        base_url: str = "",
        timeout: float = 10.0,
        retry: RetryPolicy | None = None,
    ) -> None:
        self.key = key
        self.signer = MessageSigner(key) if key is not None else None
        self.verifier = MessageVerifier(replay_guard=ReplayGuard())
        self.http = httpx.AsyncClient(base_url=base_url, transport=transport, timeout=timeout)
        self.retry = retry or RetryPolicy()
        self.rate_limited = 0
        """How many 429 answers were waited out and retried (for logs and tests)."""

    async def aclose(self) -> None:
        """Close the connection pool."""
        await self.http.aclose()

    def build(
        self,
        method: str,
        url: str,
        *,
        content: bytes = b"",
        headers: Mapping[str, str] | None = None,
        params: Mapping[str, Any] | None = None,
        sign: bool = False,
    ) -> tuple[httpx.Request, HttpRequest | None]:
        """Build a request; sign it when ``sign`` (the signed form is returned beside it)."""
        clean = {k: v for k, v in (params or {}).items() if v is not None}
        request = self.http.build_request(
            method, url, params=clean or None, content=content, headers=dict(headers or {})
        )
        if not sign:
            return request, None
        if self.signer is None:
            raise RuntimeError("this client has no key: signed requests need one")
        signed = HttpRequest(method, str(request.url), dict(request.headers), content)
        request.headers.update(self.signer.sign_request(signed))
        return request, signed

    async def send(
        self,
        method: str,
        url: str,
        *,
        expected_did: str | None,
        content: bytes = b"",
        headers: Mapping[str, str] | None = None,
        params: Mapping[str, Any] | None = None,
        sign: bool = False,
        stream: bool = False,
    ) -> tuple[httpx.Response, HttpRequest | None]:
        """Send (signed if ``sign``), wait out 429s, verify the answer against ``expected_did``.

        ``expected_did=None`` skips the check (a peer known to be unsigned). With ``stream``
        the body is left unread unless the answer is not a stream (JSON or a problem); the
        caller closes the response. Returns the response and the signed request.
        """
        attempt = 0
        while True:
            request, signed = self.build(
                method, url, content=content, headers=headers, params=params, sign=sign
            )
            response = await self._exchange(request, stream=stream)
            is_stream = stream and response.headers.get("content-type", "").startswith(
                "text/event-stream"
            )
            if not is_stream and stream:
                await response.aread()
            try:
                if expected_did is not None:
                    self.verify(response, signed, expected_did, stream=is_stream)
                delay = self.retry.delay(response, attempt)
            except BaseException:
                await response.aclose()
                raise
            if delay is None:
                return response, signed
            await response.aclose()
            attempt += 1
            self.rate_limited += 1
            log.debug("%s %s: 429, retrying in %.2fs", method, url, delay)
            await asyncio.sleep(delay)

    async def _exchange(self, request: httpx.Request, *, stream: bool) -> httpx.Response:
        try:
            response = await self.http.send(request, stream=stream)
            if not stream:
                await response.aread()
        except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
            raise TransportError(
                f"{request.url}: cannot connect: {exc or type(exc).__name__}", retry_safe=True
            ) from exc
        except httpx.TimeoutException as exc:
            raise TransportError(f"{request.url}: timed out ({type(exc).__name__})") from exc
        except httpx.HTTPError as exc:
            raise TransportError(f"{request.url}: {type(exc).__name__}: {exc}") from exc
        return response

    def verify(
        self,
        response: httpx.Response,
        request: HttpRequest | None,
        expected_did: str,
        *,
        stream: bool = False,
    ) -> None:
        """Check the peer's signature against ``expected_did``.

        Bound to ``request`` when that was signed; only the head (no digest) when ``stream``.
        """
        message = HttpResponse(
            status=response.status_code,
            headers=normalize_headers(response.headers.multi_items()),
            body=b"" if stream else response.content,
            request=request,
        )
        label = DEFAULT_LABEL if request is not None else None
        self.verifier.verify_response(message, label, expected_did=expected_did, stream=stream)


class SignedHttpClient:
    """Talks to one peer as one DID (``key``) or anonymously (``key=None``).

    Subclasses name the peer's self-description (:attr:`well_known_path`, a JSON object with
    a ``did`` member) and the error they raise (:attr:`error_class`).
    """

    well_known_path: ClassVar[str]
    error_class: ClassVar[type[PeerError]] = PeerError
    peer_kind: ClassVar[str] = "Web of Agents peer"
    """What the peer should be, for the error when its self-description is missing."""

    def __init__(
        self,
        base_url: str,
        key: SigningKey | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        *,
        peer_did: str | None = None,
        timeout: float = 10.0,
        retry: RetryPolicy | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.key = key
        self.peer_did = peer_did
        self.signed_http = SignedHttp(
            key, transport, base_url=self.base_url, timeout=timeout, retry=retry
        )

    @property
    def _signer(self) -> MessageSigner | None:
        return self.signed_http.signer

    @property
    def _verifier(self) -> MessageVerifier:
        return self.signed_http.verifier

    @property
    def _http(self) -> httpx.AsyncClient:
        return self.signed_http.http

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close the HTTP connection pool."""
        await self.signed_http.aclose()

    def _own_did(self) -> str:
        if self.key is None:
            raise RuntimeError("this client has no key")
        return self.key.did

    async def describe(self) -> dict[str, Any]:
        """Fetch the peer's self-description; pin its DID if none was given (and check it)."""
        response, _ = await self.signed_http.send(
            "GET", self.well_known_path, expected_did=None, headers={"accept": "application/json"}
        )
        try:
            description = (
                strict_json.loads(response.content) if response.status_code == 200 else None
            )
        except ValueError:
            description = None
        if not isinstance(description, dict) or not isinstance(description.get("did"), str):
            answer = _problem(response) if response.status_code != 200 else {}
            raise self.error_class(
                response.status_code,
                {
                    "type": "about:blank",
                    "title": f"not a {self.peer_kind}",
                    "detail": f"{self.base_url} does not look like a {self.peer_kind}:"
                    f" GET {self.well_known_path} answered {response.status_code}"
                    + ("" if response.status_code != 200 else " without a DID")
                    + " (is the URL right?)",
                    "answer": answer,
                },
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
        assert self.peer_did is not None
        if raw is not None:
            content = raw
        else:
            content = b"" if body is None else json.dumps(body, separators=(",", ":")).encode()
        all_headers = {"accept": "application/json", **(headers or {})}
        if content:
            all_headers["content-type"] = content_type
        response, _ = await self.signed_http.send(
            method,
            path,
            expected_did=self.peer_did,
            content=content,
            headers=all_headers,
            params=params,
            sign=signed,
        )
        if response.status_code >= 400:
            raise self.error_class(response.status_code, _problem(response))
        return response

    async def _json(self, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
        response = await self._request(method, path, **kwargs)
        result: dict[str, Any] = strict_json.loads(response.content)
        return result

    def _verify(
        self, response: httpx.Response, request: HttpRequest | None, expected: str | None = None
    ) -> None:
        """Check the peer's signature (bound to ``request`` when that was signed)."""
        expected = expected or self.peer_did
        assert expected is not None
        self.signed_http.verify(response, request, expected)


class RegistryPeerClient(SignedHttpClient):
    """A signed client of a registry (or of a service it hosts), pinned to its DID."""

    well_known_path: ClassVar[str] = REGISTRY_WELL_KNOWN
    peer_kind: ClassVar[str] = "Web of Agents registry"

    def __init__(
        self,
        base_url: str,
        key: SigningKey | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        *,
        registry_did: str | None = None,
        timeout: float = 10.0,
        retry: RetryPolicy | None = None,
    ) -> None:
        super().__init__(
            base_url, key, transport, peer_did=registry_did, timeout=timeout, retry=retry
        )

    @property
    def registry_did(self) -> str | None:
        """The registry's DID: given, or learned on first use."""
        return self.peer_did

    @registry_did.setter
    def registry_did(self, did: str | None) -> None:
        self.peer_did = did


def _problem(response: httpx.Response) -> dict[str, Any]:
    try:
        problem = strict_json.loads(response.content)
    except ValueError:
        return {"type": "about:blank", "detail": response.text}
    if not isinstance(problem, dict):
        return {"type": "about:blank", "detail": response.text}
    return problem
