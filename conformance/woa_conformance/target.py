"""The target under test: a base URL reached over HTTP/WebSocket (or an in-process ASGI app).

Every request goes through :meth:`Target.send`, bounded by the target's timeout; signed
requests are signed by throwaway keys (:meth:`Target.new_key`) with the protocol's RFC 9421
signer. WebSockets use ``httpx-ws`` over the same client, so the same checks run against a
live URL and against an ASGI app behind ``httpx_ws.transport.ASGIWebSocketTransport``.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import httpx
from httpx_ws import WebSocketDisconnect, WebSocketUpgradeError, aconnect_ws

from woa_protocol import (
    HttpRequest,
    HttpResponse,
    MessageSigner,
    MessageVerifier,
    ReplayGuard,
    SigningKey,
    WoaError,
)
from woa_protocol.httpsig import normalize_headers, request_signature_label

from .core import CheckFailed, TargetKind, not_applicable

__all__ = ["Options", "Reply", "Target", "TargetUnreachable", "WsClosed", "WsConnection"]

REGISTRY_WELL_KNOWN = "/.well-known/woa-registry.json"
AGENT_CARD_PATH = "/.well-known/agent-card.json"
WOA_EXTENSION = "urn:woa:ext:agent-card:v1"
_UNREACHABLE_AFTER = 3
_RATE_LIMIT_RETRIES = 3


def _retry_after(response: httpx.Response) -> float | None:
    """Seconds to wait before retrying a ``429`` answer, or None for any other answer."""
    if response.status_code != 429:
        return None
    try:
        return max(0.0, float(response.headers.get("retry-after", "1")))
    except ValueError:
        return 1.0


class TargetUnreachable(Exception):  # noqa: N818 (outcomes, not errors)
    """The target stopped answering (several transport failures in a row)."""


@dataclass(frozen=True)
class Options:
    """Knobs of a run: every wait is bounded by these (seconds, bytes)."""

    timeout: float = 10.0
    """Bound of each request and each WebSocket receive."""
    lease_wait: float = 30.0
    """Longest wait for a lease to lapse (REG-031); a longer minimum lease is not checked."""
    oversize_bytes: int = 2 * 1024 * 1024
    """Body size sent to check the agent's body limit (AGT-040)."""


@dataclass
class Reply:
    """One HTTP answer, with the (signed) request that produced it."""

    status: int
    headers: httpx.Headers
    content: bytes
    request: HttpRequest

    def json(self) -> Any:
        """The body as JSON, or None when it is not JSON."""
        try:
            return json.loads(self.content)
        except ValueError:
            return None

    @property
    def problem_type(self) -> str | None:
        """The RFC 9457 ``type`` when the body is a problem object."""
        body = self.json()
        if isinstance(body, dict) and isinstance(body.get("type"), str):
            return str(body["type"])
        return None

    def describe(self) -> str:
        """A short description for failure messages."""
        text = self.content[:200].decode("utf-8", "replace")
        return f"HTTP {self.status} {text!r}"


class WsClosed(Exception):  # noqa: N818 (outcomes, not errors)
    """The WebSocket closed or was refused: ``code`` is the close code (or HTTP status)."""

    def __init__(self, code: int, reason: str) -> None:
        super().__init__(f"closed {code}: {reason}")
        self.code = code
        self.reason = reason


class WsConnection:
    """An open WebSocket: receive text frames with a bounded wait."""

    def __init__(self, session: Any, timeout: float) -> None:
        self._session = session
        self._timeout = timeout

    async def receive_text(self, timeout: float | None = None) -> str:
        """The next text frame as sent; :class:`WsClosed` on close, TimeoutError when silent."""
        try:
            return str(await self._session.receive_text(timeout=timeout or self._timeout))
        except WebSocketDisconnect as exc:
            raise WsClosed(int(exc.code), str(exc.reason or "")) from exc

    async def receive_json(self, timeout: float | None = None) -> Any:
        """The next text frame as JSON; :class:`WsClosed` on close, TimeoutError when silent."""
        try:
            text = await self._session.receive_text(timeout=timeout or self._timeout)
        except WebSocketDisconnect as exc:
            raise WsClosed(int(exc.code), str(exc.reason or "")) from exc
        return json.loads(text)

    async def silent_for(self, seconds: float) -> Any | None:
        """None if no frame comes within ``seconds``, else the frame (as JSON)."""
        try:
            return await self.receive_json(timeout=seconds)
        except TimeoutError:
            return None


def _parse_response(raw: bytes, request: HttpRequest) -> Reply:
    """Parse one HTTP/1.1 response read to the end of the connection."""
    head, _, body = raw.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    try:
        status = int(lines[0].split(" ", 2)[1])
    except (IndexError, ValueError):
        raise httpx.RemoteProtocolError(f"not an HTTP response: {lines[0][:80]!r}") from None
    pairs = [line.split(":", 1) for line in lines[1:] if ":" in line]
    headers = httpx.Headers([(k.strip(), v.strip()) for k, v in pairs])
    if headers.get("transfer-encoding", "").lower() == "chunked":
        decoded, rest = b"", body
        while rest:
            size_line, _, rest = rest.partition(b"\r\n")
            size = int(size_line.split(b";")[0] or b"0", 16)
            if size == 0:
                break
            decoded, rest = decoded + rest[:size], rest[size + 2 :]
        body = decoded
    elif "content-length" in headers:
        body = body[: int(headers["content-length"])]
    return Reply(status, headers, body, request)


def _unwrap(exc: BaseException) -> BaseException:
    while isinstance(exc, BaseExceptionGroup) and exc.exceptions:
        exc = exc.exceptions[0]
    return exc


@dataclass
class Target:
    """A registry or agent under test, and what the run learned about it."""

    kind: TargetKind
    base_url: str
    options: Options
    transport: httpx.AsyncBaseTransport | None = None
    http: httpx.AsyncClient = field(init=False)
    cleanups: list[Callable[[], Awaitable[None]]] = field(default_factory=list)
    left_behind: list[str] = field(default_factory=list)
    _failures: int = 0
    _cache: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.base_url = self.base_url.rstrip("/")
        self.http = httpx.AsyncClient(
            base_url=self.base_url,
            transport=self.transport,
            timeout=httpx.Timeout(self.options.timeout),
        )

    async def aclose(self) -> None:
        """Close the connections."""
        await self.http.aclose()

    # -- identities ----------------------------------------------------------------------

    @staticmethod
    def new_key() -> SigningKey:
        """A throwaway Ed25519 key for one check."""
        return SigningKey.generate()

    @staticmethod
    def unique(prefix: str = "woa-conformance") -> str:
        """A fresh name for something a check creates."""
        return f"{prefix}-{uuid.uuid4().hex[:12]}"

    def url(self, path: str) -> str:
        """The absolute URL of ``path`` on the target."""
        if path.startswith(("http://", "https://")):
            return path
        return self.base_url + path

    # -- HTTP ----------------------------------------------------------------------------

    async def send(
        self,
        method: str,
        path: str,
        *,
        body: Any = None,
        raw: bytes | None = None,
        headers: Mapping[str, str] | None = None,
        key: SigningKey | None = None,
        signer: MessageSigner | None = None,
        tamper: Callable[[HttpRequest], None] | None = None,
        content_type: str = "application/json",
    ) -> Reply:
        """Send one request (signed by ``key``/``signer`` when given); bounded by the timeout.

        ``tamper`` may change the request after signing (to check rejections).
        """
        if self._failures >= _UNREACHABLE_AFTER:
            raise TargetUnreachable(f"{self.base_url} stopped answering")
        content = raw if raw is not None else (b"" if body is None else json.dumps(body).encode())
        for attempt in range(_RATE_LIMIT_RETRIES + 1):
            all_headers: dict[str, str] = {"accept": "application/json", **(headers or {})}
            if content and "content-type" not in all_headers:
                all_headers["content-type"] = content_type
            request = HttpRequest(method, self.url(path), all_headers, content)
            if key is not None or signer is not None:
                (signer or MessageSigner(key)).sign_request(request)  # type: ignore[arg-type]
            if tamper is not None:
                tamper(request)
            try:
                response = await asyncio.wait_for(
                    self.http.request(
                        method, request.url, content=request.body, headers=request.headers
                    ),
                    self.options.timeout,
                )
            except (httpx.TransportError, TimeoutError):
                self._failures += 1
                raise
            self._failures = 0
            wait = _retry_after(response)
            if wait is None or attempt == _RATE_LIMIT_RETRIES or wait > self.options.timeout:
                break
            await asyncio.sleep(wait)  # the suite is a polite client (REG-073): retry later
        return Reply(response.status_code, response.headers, response.content, request)

    def signature_error(
        self, reply: Reply, expected_did: str | None, *, stream: bool = False
    ) -> str | None:
        """Why ``reply`` is not signed as MSG-005/MSG-009 say, or None when it is."""
        if expected_did is None:
            return "no DID to check the response signature against"
        message = HttpResponse(
            status=reply.status,
            headers=normalize_headers(reply.headers.multi_items()),
            body=reply.content,
            request=reply.request,
        )
        label = request_signature_label(reply.request.headers)
        if label is None:
            message.request = None
        verifier = MessageVerifier(replay_guard=ReplayGuard())
        try:
            verifier.verify_response(message, label, expected_did=expected_did, stream=stream)
        except WoaError as exc:
            return f"{type(exc).__name__}: {exc.detail}"
        except (ValueError, KeyError) as exc:
            return f"{type(exc).__name__}: {exc}"
        return None

    async def send_raw_head(self, method: str, path: str, lines: list[tuple[str, str]]) -> Reply:
        """Send a bodiless request with exactly these header lines (duplicates kept).

        HTTP client libraries refuse to send some malformed heads (two ``Host`` lines), so
        against a live URL this writes the request on its own connection; in-process it
        goes through the ASGI transport, which passes header lines as given.
        """
        request = HttpRequest(method, self.url(path), {}, b"")
        if self.transport is not None:
            response = await self.http.request(method, request.url, headers=lines)
            return Reply(response.status_code, response.headers, response.content, request)
        parts = urlsplit(self.url(path))
        port = parts.port or (443 if parts.scheme == "https" else 80)
        head = (
            f"{method} {parts.path or '/'}{'?' + parts.query if parts.query else ''} HTTP/1.1\r\n"
        )
        head += "".join(f"{k}: {v}\r\n" for k, v in [*lines, ("connection", "close")]) + "\r\n"

        async def exchange() -> bytes:
            reader, writer = await asyncio.open_connection(
                parts.hostname, port, ssl=parts.scheme == "https" or None
            )
            try:
                writer.write(head.encode("latin-1"))
                await writer.drain()
                return await reader.read(-1)
            finally:
                writer.close()

        raw = await asyncio.wait_for(exchange(), self.options.timeout)
        return _parse_response(raw, request)

    # -- WebSocket -----------------------------------------------------------------------

    @contextlib.asynccontextmanager
    async def websocket(
        self, path: str, *, key: SigningKey | None = None
    ) -> AsyncIterator[WsConnection]:
        """Open a WebSocket at ``path`` (handshake signed by ``key`` when given).

        A refused or closed handshake raises :class:`WsClosed`.
        """
        if self._failures >= _UNREACHABLE_AFTER:
            raise TargetUnreachable(f"{self.base_url} stopped answering")
        headers: dict[str, str] = {}
        if key is not None:
            request = HttpRequest("GET", self.url(path), {}, b"")
            MessageSigner(key).sign_request(request)
            headers.update(request.headers)
        stack = contextlib.AsyncExitStack()
        try:
            session: Any = await asyncio.wait_for(
                stack.enter_async_context(aconnect_ws(self.url(path), self.http, headers=headers)),
                self.options.timeout,
            )
        except BaseException as exc:
            await stack.aclose()
            inner = _unwrap(exc)
            if isinstance(inner, WebSocketDisconnect):
                raise WsClosed(int(inner.code), str(inner.reason or "")) from None
            if isinstance(inner, WebSocketUpgradeError):
                raise WsClosed(inner.response.status_code, "handshake refused") from None
            if isinstance(inner, httpx.TransportError | TimeoutError):
                self._failures += 1
            raise inner from None
        try:
            yield WsConnection(session, self.options.timeout)
        finally:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(stack.aclose(), self.options.timeout)

    # -- what the target says about itself ------------------------------------------------

    async def registry_description(self) -> dict[str, Any]:
        """``/.well-known/woa-registry.json`` (REG-001), fetched once."""
        if "registry" not in self._cache:
            try:
                reply = await self.send("GET", REGISTRY_WELL_KNOWN)
                body = reply.json()
                ok = reply.status == 200 and isinstance(body, dict)
                self._cache["registry"] = body if ok else f"answered {reply.describe()}"
            except (httpx.HTTPError, TimeoutError, TargetUnreachable) as exc:
                self._cache["registry"] = f"{type(exc).__name__}: {exc}"
        value = self._cache["registry"]
        if isinstance(value, str):
            raise CheckFailed("REG-001", f"no registry description: {value}")
        return dict(value)

    async def registry_did(self) -> str:
        """The registry's DID from its description."""
        did = (await self.registry_description()).get("did")
        if not isinstance(did, str) or not did.startswith("did:key:z"):
            raise CheckFailed("REG-001", f"the description names no did:key ({did!r})")
        return did

    async def card(self) -> dict[str, Any]:
        """The agent's card (``/.well-known/agent-card.json``), fetched once."""
        if "card" not in self._cache:
            try:
                reply = await self.send("GET", AGENT_CARD_PATH)
                body = reply.json()
                ok = reply.status == 200 and isinstance(body, dict)
                self._cache["card"] = (body, reply) if ok else f"answered {reply.describe()}"
            except (httpx.HTTPError, TimeoutError, TargetUnreachable) as exc:
                self._cache["card"] = f"{type(exc).__name__}: {exc}"
        value = self._cache["card"]
        if isinstance(value, str):
            raise CheckFailed("AGT-002", f"no agent card: {value}")
        return dict(value[0])

    async def card_reply(self) -> Reply:
        """The response that carried the card."""
        await self.card()
        reply: Reply = self._cache["card"][1]
        return reply

    async def extension(self) -> dict[str, Any] | None:
        """The card's Web of Agents extension params, or None when it has none."""
        card = await self.card()
        extensions = (card.get("capabilities") or {}).get("extensions") or []
        for ext in extensions if isinstance(extensions, list) else []:
            if isinstance(ext, dict) and ext.get("uri") == WOA_EXTENSION:
                params = ext.get("params")
                return params if isinstance(params, dict) else {}
        return None

    async def agent_did(self) -> str | None:
        """The DID the agent's card names (its extension), or None."""
        ext = await self.extension()
        did = ext.get("did") if ext else None
        return did if isinstance(did, str) else None

    async def require_identity(self) -> str:
        """The agent's DID; a check that needs one fails (MUST) when the card names none."""
        did = await self.agent_did()
        if did is None:
            raise CheckFailed(
                "EXT-001",
                f"the card has no {WOA_EXTENSION} extension naming the agent's DID, so "
                "nothing it answers can be checked as signed by it",
            )
        return did

    async def interface_url(self, binding: str) -> str | None:
        """The URL of the card's ``binding`` interface, on the target's origin (or None)."""
        card = await self.card()
        for interface in card.get("supportedInterfaces") or []:
            if isinstance(interface, dict) and interface.get("protocolBinding") == binding:
                url = str(interface.get("url", ""))
                parts = urlsplit(url)
                if parts.netloc == urlsplit(self.base_url).netloc:
                    return url
                return self.base_url + (parts.path or "/")
        return None

    async def rpc_url(self) -> str:
        """The JSON-RPC endpoint: the card's JSONRPC interface, on the target's origin."""
        url = await self.interface_url("JSONRPC")
        if url is None:
            raise CheckFailed("AGT-001", "the card declares no JSONRPC interface")
        return url

    async def rpc(
        self,
        method: str,
        params: Any,
        *,
        key: SigningKey | None = None,
        signer: MessageSigner | None = None,
        headers: Mapping[str, str] | None = None,
        tamper: Callable[[HttpRequest], None] | None = None,
    ) -> Reply:
        """Send one JSON-RPC request to the agent (signed when a key is given)."""
        body = {"jsonrpc": "2.0", "id": uuid.uuid4().hex[:8], "method": method, "params": params}
        return await self.send(
            "POST",
            await self.rpc_url(),
            body=body,
            key=key,
            signer=signer,
            tamper=tamper,
            headers={"a2a-version": "1.0", **(headers or {})},
        )

    async def skill_with_example(self) -> tuple[str, Any, dict[str, Any]]:
        """A typed skill the checks can call: (id, example input, profile), or not applicable."""
        ext = await self.extension()
        if ext is None:
            not_applicable(f"the card has no {WOA_EXTENSION} extension: no typed skills")
        skills = ext.get("skills") or {}
        for skill_id, profile in skills.items():
            for example in (profile or {}).get("examples") or []:
                if isinstance(example, dict) and "input" in example:
                    return skill_id, example["input"], profile
        not_applicable("no skill of the card gives an example input to call it with")
