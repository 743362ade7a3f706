"""``AgentClient``: find agents, send them text, files and data, read their answers, fail over.

    async with AgentClient(key, registry_url="http://127.0.0.1:8470") as client:
        out = await client.call("echo", EchoIn(text="hi"), output_model=EchoOut)
        reply = await client.send(None, "hello", agent="http://127.0.0.1:9999/")
        print(text_of(reply))

Every request is signed with the caller's key and goes through the SDK's one signed HTTP
path (:class:`~woa_agents.http.SignedHttp`, shared with the registry and state clients);
every answer, a stream's head included, must be signed by the DID in the called agent's
card (else :class:`AgentIdentityError`). A typed skill's output is checked against its
output schema from the signed card and, when given, parsed into ``output_model``. When an
agent fails or times out, the call moves on to the next agent offering the skill; an
attempt given up on a time-out is cancelled on its agent first (AGT-063), and a call that
may already have run is repeated only when the skill is idempotent or
``retry_non_idempotent=True``. Plain A2A agents (no Web of Agents identity, text in and
text out) are called when ``allow_unsigned=True``, over JSON-RPC or HTTP+JSON, whichever
their card offers (JSON-RPC preferred).
"""

from __future__ import annotations

import asyncio
import json
import logging
import uuid
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar, overload
from urllib.parse import quote

import httpx
from pydantic import BaseModel, Field, ValidationError

from woa_protocol import (
    CardSignatureError,
    HttpRequest,
    SigningKey,
    WoaError,
    strict_json,
    validate_instance,
    verify_card,
)
from woa_protocol.models import (
    A2A_VERSION,
    AGENT_CARD_PATH,
    BINDING_HTTP_JSON,
    BINDING_JSONRPC,
    SKILL_METADATA_KEY,
    TERMINAL_TASK_STATES,
    A2AModel,
    AgentCard,
    Message,
    Part,
    Role,
    SkillProfile,
    Task,
    TaskState,
    read_extension,
)

from .content import Content, jsonable, natural_value, parts_from
from .errors import (
    AgentCallError,
    AgentIdentityError,
    AgentUnreachableError,
    JsonRpcCode,
    NoAgentAvailableError,
    RpcError,
    SkillOutputError,
    TransportError,
)
from .files import File
from .http import RetryPolicy, SignedHttp
from .registry_client import RegistryClient
from .tracing import outgoing_trace

__all__ = ["BINDINGS", "AgentClient", "RemoteAgent", "StreamEvent", "TaskList"]

log = logging.getLogger(__name__)

M = TypeVar("M", bound=BaseModel)

BINDINGS = (BINDING_JSONRPC, BINDING_HTTP_JSON)
"""The A2A protocol bindings this client speaks, in its order of preference (AGT-065)."""

_TEXT_MODES = ("text/", "*/*")


@dataclass(frozen=True)
class RemoteAgent:
    """An agent to call, checked from its card.

    ``url`` and ``binding`` are the interface chosen, ``did`` its DID (None for a plain A2A
    agent), ``skills`` the typed-skill profiles the signed card declares.
    """

    url: str
    did: str | None
    card: dict[str, Any]
    skills: dict[str, SkillProfile] = field(default_factory=dict)
    binding: str = BINDING_JSONRPC

    @property
    def name(self) -> str:
        """The card's name."""
        return str(self.card.get("name", ""))

    @property
    def skill_ids(self) -> list[str]:
        """Ids of the skills the card declares."""
        return [str(s.get("id")) for s in self.card.get("skills", []) if isinstance(s, dict)]

    def input_modes(self, skill: str | None) -> list[str]:
        """Media types the skill (or, without one, the agent) takes, as the card says."""
        for entry in self.card.get("skills", []):
            if isinstance(entry, dict) and entry.get("id") == skill and entry.get("inputModes"):
                return [str(m) for m in entry["inputModes"]]
        return [str(m) for m in self.card.get("defaultInputModes") or []]

    def takes_text(self, skill: str | None) -> bool:
        """True when a ``str`` goes to this skill as a text part (else as JSON data).

        A typed skill (a profile in the signed card) takes a ``str`` as data unless its
        card entry names a text input mode; any other skill takes text.
        """
        if skill is None or skill not in self.skills:
            return True
        return any(m.startswith(_TEXT_MODES) for m in self.input_modes(skill))

    @classmethod
    def from_card(
        cls,
        card: dict[str, Any],
        *,
        allow_unsigned: bool = False,
        bindings: Sequence[str] = BINDINGS,
    ) -> RemoteAgent:
        """Check a card (JWS by the DID in its extension) and build the agent from it.

        The interface is the first of ``bindings`` (in that order) that the card's
        ``supportedInterfaces`` offers.
        """
        try:
            model = AgentCard.model_validate(card)
            ext = read_extension(model)
        except (ValidationError, ValueError) as exc:
            raise AgentIdentityError(f"not a valid agent card: {exc}") from exc
        offered = {i.protocol_binding.upper(): i.url for i in reversed(model.supported_interfaces)}
        binding = next((b for b in bindings if b in offered), None)
        if binding is None:
            raise AgentCallError(
                f"agent {model.name!r} offers no binding this client speaks "
                f"({', '.join(bindings)}); it offers {', '.join(offered) or 'none'}"
            )
        url = offered[binding]
        if ext is None:
            if not allow_unsigned:
                raise AgentIdentityError(
                    f"agent {model.name!r} has no Web of Agents identity (allow_unsigned=False)"
                )
            return cls(url, None, card, binding=binding)
        try:
            verify_card(card, expected_did=ext.did)
        except CardSignatureError as exc:
            raise AgentIdentityError(
                f"card of {ext.did} is not signed by it: {exc.detail}"
            ) from exc
        return cls(url, ext.did, card, dict(ext.skills), binding)


@dataclass(frozen=True)
class StreamEvent:
    """One event of a stream: ``task``, ``status``, ``artifact``, ``message`` or ``result``.

    ``data`` is its wire form; the final ``result`` (a signed GetTask) has the checked
    ``output``.
    """

    kind: str
    data: dict[str, Any]
    output: Any = None

    @property
    def task(self) -> Task | None:
        """The task of a ``task`` or ``result`` event."""
        return Task.model_validate(self.data) if self.kind in ("task", "result") else None


class TaskList(A2AModel):
    """One page of ListTasks."""

    tasks: list[Task] = Field(default_factory=list)
    next_page_token: str | None = None
    page_size: int | None = None
    total_size: int | None = None


def _task_or_message(result: dict[str, Any]) -> Task | Message:
    """The Task or Message of a SendMessage result (typed)."""
    try:
        if isinstance(result.get("task"), dict):
            return Task.model_validate(result["task"])
        if isinstance(result.get("message"), dict):
            return Message.model_validate(result["message"])
    except ValidationError as exc:
        raise RpcError(JsonRpcCode.INVALID_AGENT_RESPONSE, f"malformed answer: {exc}") from exc
    raise RpcError(JsonRpcCode.INVALID_AGENT_RESPONSE, "result holds neither task nor message")


def _task(result: dict[str, Any]) -> Task:
    try:
        return Task.model_validate(result)
    except ValidationError as exc:
        raise RpcError(JsonRpcCode.INVALID_AGENT_RESPONSE, f"malformed task: {exc}") from exc


def _output_of(result: dict[str, Any]) -> tuple[Any, dict[str, Any] | None]:
    """Return (payload, task) from a SendMessage result (Task or Message), in wire form."""
    answer = _task_or_message(result)
    task = result.get("task") if isinstance(answer, Task) else None
    return natural_value(answer), task


_REASON_CODES = {
    "TASK_NOT_FOUND": JsonRpcCode.TASK_NOT_FOUND,
    "TASK_NOT_CANCELABLE": JsonRpcCode.TASK_NOT_CANCELABLE,
    "PUSH_NOTIFICATION_NOT_SUPPORTED": JsonRpcCode.PUSH_NOTIFICATION_NOT_SUPPORTED,
    "UNSUPPORTED_OPERATION": JsonRpcCode.UNSUPPORTED_OPERATION,
    "CONTENT_TYPE_NOT_SUPPORTED": JsonRpcCode.CONTENT_TYPE_NOT_SUPPORTED,
    "INVALID_AGENT_RESPONSE": JsonRpcCode.INVALID_AGENT_RESPONSE,
    "EXTENDED_AGENT_CARD_NOT_CONFIGURED": JsonRpcCode.EXTENDED_AGENT_CARD_NOT_CONFIGURED,
    "EXTENSION_SUPPORT_REQUIRED": JsonRpcCode.EXTENSION_SUPPORT_REQUIRED,
    "VERSION_NOT_SUPPORTED": JsonRpcCode.VERSION_NOT_SUPPORTED,
    "INVALID_PARAMS": JsonRpcCode.INVALID_PARAMS,
    "INVALID_REQUEST": JsonRpcCode.INVALID_REQUEST,
    "METHOD_NOT_FOUND": JsonRpcCode.METHOD_NOT_FOUND,
    "PARSE_ERROR": JsonRpcCode.PARSE_ERROR,
    "UNAUTHENTICATED": JsonRpcCode.UNAUTHENTICATED,
    "FORBIDDEN": JsonRpcCode.FORBIDDEN,
}
_STATUS_CODES = {
    "INVALID_ARGUMENT": JsonRpcCode.INVALID_PARAMS,
    "NOT_FOUND": JsonRpcCode.TASK_NOT_FOUND,
    "UNIMPLEMENTED": JsonRpcCode.UNSUPPORTED_OPERATION,
    "UNAUTHENTICATED": JsonRpcCode.UNAUTHENTICATED,
    "PERMISSION_DENIED": JsonRpcCode.FORBIDDEN,
}


def _rest_error(body: Any, status: int) -> RpcError:
    """An HTTP+JSON error (``{"error": google.rpc.Status}``) as the equivalent RpcError."""
    error = body.get("error") if isinstance(body, dict) else None
    if not isinstance(error, dict):
        return RpcError(JsonRpcCode.INTERNAL_ERROR, f"HTTP {status}", http_status=status)
    details = error.get("details")
    rebuilt = RpcError.from_error({"code": 0, "message": error.get("message"), "data": details})
    code = _REASON_CODES.get(rebuilt.reason) or _STATUS_CODES.get(
        str(error.get("status")), JsonRpcCode.INTERNAL_ERROR
    )
    # the profile's finer reason (e.g. SKILL_REQUIRED) rides in the metadata (AGT-005)
    finer = (rebuilt.metadata or {}).get("woaReason")
    reason = finer if isinstance(finer, str) else rebuilt.reason
    return RpcError(
        code,
        rebuilt.message,
        reason=reason if reason != "UNKNOWN_ERROR" else None,
        metadata=rebuilt.metadata,
        violations=rebuilt.violations,
        http_status=status,
    )


def _query(params: dict[str, Any]) -> dict[str, str]:
    out: dict[str, str] = {}
    for name, value in params.items():
        if value is None or isinstance(value, dict | list):
            continue
        out[name] = str(value).lower() if isinstance(value, bool) else str(value)
    return out


def _rest_route(method: str, params: dict[str, Any]) -> tuple[str, str, dict[str, Any] | None]:
    """(HTTP method, path, body or query) of an A2A operation on the HTTP+JSON binding."""
    task_id = quote(str(params.get("id", "")), safe="")
    rest = {k: v for k, v in params.items() if k != "id"}
    routes: dict[str, tuple[str, str, dict[str, Any] | None]] = {
        "SendMessage": ("POST", "/message:send", params),
        "SendStreamingMessage": ("POST", "/message:stream", params),
        "GetTask": ("GET", f"/tasks/{task_id}", rest),
        "CancelTask": ("POST", f"/tasks/{task_id}:cancel", params),
        "ListTasks": ("GET", "/tasks", params),
        "SubscribeToTask": ("POST", f"/tasks/{task_id}:subscribe", None),
    }
    if method not in routes:
        raise AgentCallError(f"{method} has no HTTP+JSON route in this client")
    return routes[method]


class AgentClient:
    """Calls agents as one caller (``key``); finds them through a registry when given one.

    ``bindings`` orders the A2A bindings to use when a card offers several (AGT-065);
    ``retry`` says how 429 answers are waited out (AGT-064); ``cancel_timeout`` bounds the
    CancelTask sent for an attempt given up on (AGT-063).
    """

    def __init__(
        self,
        key: SigningKey | None = None,
        registry_url: str | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        *,
        allow_unsigned: bool = False,
        timeout: float = 30.0,
        registry_did: str | None = None,
        registry_transport: httpx.AsyncBaseTransport | None = None,
        bindings: Sequence[str] = BINDINGS,
        retry: RetryPolicy | None = None,
        cancel_timeout: float = 5.0,
    ) -> None:
        self.key = key
        self.allow_unsigned = allow_unsigned
        self.timeout = timeout
        self.bindings = tuple(b.upper() for b in bindings)
        self.cancel_timeout = cancel_timeout
        self.signed_http = SignedHttp(key, transport, timeout=timeout, retry=retry)
        self.registry = (
            RegistryClient(
                registry_url, None, registry_transport, registry_did=registry_did, retry=retry
            )
            if registry_url
            else None
        )
        self._agents: dict[str, RemoteAgent] = {}
        self.default_agent: RemoteAgent | None = None
        """The agent calls go to when they name none and no registry is asked."""

    async def __aenter__(self) -> AgentClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close connections."""
        await self.signed_http.aclose()
        if self.registry is not None:
            await self.registry.aclose()

    # -- finding agents ------------------------------------------------------------------

    def _registry(self) -> RegistryClient:
        if self.registry is None:
            raise AgentCallError("no registry configured: pass registry_url= or agent=")
        return self.registry

    def _from_card(self, card: dict[str, Any]) -> RemoteAgent:
        return RemoteAgent.from_card(
            card, allow_unsigned=self.allow_unsigned, bindings=self.bindings
        )

    def _from_record(self, record: dict[str, Any]) -> RemoteAgent | None:
        card = record.get("card")
        if not isinstance(card, dict):
            return None
        try:
            agent = self._from_card(card)
        except AgentCallError:
            return None  # a listing whose card does not check out is skipped
        if agent.did is not None and record.get("did") not in (None, agent.did):
            return None
        return agent

    async def find(
        self,
        *,
        skill: str | None = None,
        family: str | None = None,
        mode: str | None = None,
        output_mode: str | None = None,
        tag: str | None = None,
        text: str | None = None,
        limit: int = 20,
    ) -> list[RemoteAgent]:
        """Agents from the registry matching every filter (cards checked), in registry order."""
        registry = self._registry()
        try:
            page = await registry.search(
                skill=skill,
                family=family,
                input_mode=mode,
                output_mode=output_mode,
                tag=tag,
                q=text,
                limit=limit,
            )
        except TransportError as exc:
            raise AgentCallError(f"registry {registry.base_url} unreachable: {exc}") from exc
        found = [self._from_record(r) for r in page.get("agents", [])]
        return [a for a in found if a is not None]

    async def find_for_payload(self, payload: Any, **filters: Any) -> list[tuple[RemoteAgent, str]]:
        """(agent, skill id) pairs whose input schema accepts ``payload``."""
        registry = self._registry()
        try:
            matches = (await registry.search_payload(payload, **filters)).get("matches", [])
        except TransportError as exc:
            raise AgentCallError(f"registry {registry.base_url} unreachable: {exc}") from exc
        out: list[tuple[RemoteAgent, str]] = []
        for match in matches:
            record = await registry.get(str(match.get("did")))
            agent = self._from_record(record) if record else None
            if agent is not None:
                out.append((agent, str(match.get("skillId"))))
        return out

    async def agent(self, url: str) -> RemoteAgent:
        """Fetch and check the card of the agent at ``url`` (its base or card URL)."""
        card_url = url if url.endswith(".json") else url.rstrip("/") + AGENT_CARD_PATH
        if card_url in self._agents:
            return self._agents[card_url]
        try:
            response, _ = await self.signed_http.send("GET", card_url, expected_did=None)
        except TransportError as exc:
            raise AgentUnreachableError(f"cannot fetch {card_url}: {exc}", retry_safe=True) from exc
        if response.status_code != 200:
            raise AgentCallError(f"{card_url} answered {response.status_code}", retry_safe=True)
        try:
            card = strict_json.loads(response.content)
        except WoaError as exc:  # not JSON, or not I-JSON (a repeated name: JCS-006)
            raise AgentCallError(f"{card_url} is not I-JSON: {exc.detail}") from exc
        if not isinstance(card, dict):
            raise AgentIdentityError(f"{card_url} holds no card object")
        agent = self._from_card(card)
        if agent.did is not None:
            self._verify(agent.did, response, None)
        self._agents[card_url] = agent
        return agent

    def _verify(
        self,
        did: str,
        response: httpx.Response,
        signed: HttpRequest | None,
        *,
        stream: bool = False,
    ) -> None:
        try:
            self.signed_http.verify(response, signed, did, stream=stream)
        except WoaError as exc:
            what = "stream" if stream else "answer"
            raise AgentIdentityError(f"{what} not signed by {did}: {exc.detail}") from exc

    # -- one A2A operation ---------------------------------------------------------------

    async def _send_http(
        self,
        agent: RemoteAgent,
        method: str,
        params: dict[str, Any],
        traceparent: str | None,
        *,
        stream: bool = False,
    ) -> httpx.Response:
        """Send one A2A operation on the agent's binding; the answer's signature is checked."""
        if agent.did is None and not self.allow_unsigned:
            raise AgentIdentityError("the agent is unsigned and allow_unsigned is False")
        headers = {
            "a2a-version": A2A_VERSION,
            "traceparent": outgoing_trace(traceparent).traceparent,
            "accept": "text/event-stream" if stream else "application/json",
        }
        query: dict[str, str] | None = None
        if agent.binding == BINDING_JSONRPC:
            url = agent.url
            http_method = "POST"
            envelope = {"jsonrpc": "2.0", "id": uuid.uuid4().hex, "method": method}
            body: dict[str, Any] | None = {**envelope, "params": params}
        else:
            http_method, path, body = _rest_route(method, params)
            url = agent.url.rstrip("/") + path
            if http_method == "GET":
                query, body = _query(body or {}), None
        content = b""
        if body is not None:
            content = json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode()
            headers["content-type"] = "application/json"
        try:
            response, _ = await self.signed_http.send(
                http_method,
                url,
                expected_did=agent.did,
                content=content,
                headers=headers,
                params=query,
                sign=self.key is not None,
                stream=stream,
            )
        except TransportError as exc:
            raise AgentUnreachableError(str(exc), retry_safe=exc.retry_safe) from exc
        except AgentCallError:
            raise
        except WoaError as exc:
            raise AgentIdentityError(f"answer not signed by {agent.did}: {exc.detail}") from exc
        return response

    def _result(self, agent: RemoteAgent, response: httpx.Response) -> dict[str, Any]:
        try:
            body = strict_json.loads(response.content)
        except ValueError as exc:
            raise AgentCallError(f"{agent.url} answered {response.status_code}, not JSON") from exc
        if agent.binding != BINDING_JSONRPC:
            if response.status_code >= 400:
                raise _rest_error(body, response.status_code)
            if not isinstance(body, dict):
                raise RpcError(JsonRpcCode.INVALID_AGENT_RESPONSE, "the answer is not an object")
            return body
        if isinstance(body, dict) and isinstance(body.get("error"), dict):
            raise RpcError.from_error(body["error"])
        if not isinstance(body, dict) or not isinstance(body.get("result"), dict):
            raise RpcError(JsonRpcCode.INVALID_AGENT_RESPONSE, "the answer holds no result object")
        result: dict[str, Any] = body["result"]
        return result

    async def request(
        self,
        agent: RemoteAgent,
        method: str,
        params: dict[str, Any],
        *,
        traceparent: str | None = None,
    ) -> dict[str, Any]:
        """Send one A2A operation (signed); return its verified result (wire form) or raise.

        ``method`` is the A2A name (``SendMessage``, ``GetTask``, ...); on HTTP+JSON it is
        mapped to that binding's route.
        """
        response = await self._send_http(agent, method, params, traceparent)
        return self._result(agent, response)

    async def _events(
        self,
        agent: RemoteAgent,
        method: str,
        params: dict[str, Any],
        traceparent: str | None,
    ) -> AsyncIterator[StreamEvent]:
        """Yield a streaming operation's events (its head checked against the agent's DID)."""
        response = await self._send_http(agent, method, params, traceparent, stream=True)
        try:
            if not response.headers.get("content-type", "").startswith("text/event-stream"):
                self._result(agent, response)
                raise RpcError(JsonRpcCode.INVALID_AGENT_RESPONSE, "expected an event stream")
            async for frame in _sse_frames(response):
                if "error" in frame:
                    if agent.binding == BINDING_JSONRPC:
                        raise RpcError.from_error(frame["error"])
                    raise _rest_error(frame, 500)
                result = frame.get("result") if agent.binding == BINDING_JSONRPC else frame
                result = result if isinstance(result, dict) else {}
                for wire, kind in _EVENT_KINDS:
                    if isinstance(result.get(wire), dict):
                        yield StreamEvent(kind, result[wire])
                        break
        except httpx.HTTPError as exc:
            raise AgentUnreachableError(f"{agent.url}: stream broke: {exc}") from exc
        except ValueError as exc:  # an event whose data is not JSON
            raise RpcError(JsonRpcCode.INVALID_AGENT_RESPONSE, f"bad stream event: {exc}") from exc
        finally:
            await response.aclose()

    # -- messages ------------------------------------------------------------------------

    @staticmethod
    def _message(
        skill: str | None,
        content: Content,
        *,
        task_id: str | None = None,
        context_id: str | None = None,
        metadata: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        meta = dict(metadata or {})
        if skill is not None:
            meta[SKILL_METADATA_KEY] = skill
        message = Message(
            message_id=uuid.uuid4().hex,
            role=Role.USER,
            parts=parts_from(content),
            task_id=task_id,
            context_id=context_id,
            metadata=meta or None,
        )
        return message.to_json_dict()

    @staticmethod
    def _content(agent: RemoteAgent, skill: str | None, value: Any) -> Content:
        """What to send for ``value``: a model as JSON; a ``str`` as text or data (AGT-062)."""
        if isinstance(value, BaseModel) and not isinstance(value, File):
            return value.model_dump(mode="json")
        if isinstance(value, str) and not agent.takes_text(skill):
            return Part(data=value)
        return value

    async def send(
        self,
        skill: str | None,
        input: Content,
        *,
        agent: RemoteAgent | str | None = None,
        task_id: str | None = None,
        context_id: str | None = None,
        metadata: dict[str, Any] | None = None,
        return_immediately: bool = False,
        traceparent: str | None = None,
    ) -> Task | Message:
        """SendMessage; return the agent's answer as it is: a ``Task`` or a ``Message``.

        ``input`` is text, a :class:`File`, a model or JSON, or a tuple of those (one part
        each). ``skill`` names a typed skill in the metadata (None for a plain message);
        ``task_id`` and ``context_id`` continue a task, e.g. one that is input-required.
        """
        remote = await self._one(agent)
        message = self._message(
            skill,
            self._content(remote, skill, input),
            task_id=task_id,
            context_id=context_id,
            metadata=metadata,
        )
        params: dict[str, Any] = {"message": message}
        if return_immediately:
            params["configuration"] = {"returnImmediately": True}
        result = await self.request(remote, "SendMessage", params, traceparent=traceparent)
        return _task_or_message(result)

    # -- calls ---------------------------------------------------------------------------

    def _typed(
        self,
        agent: RemoteAgent,
        skill: str,
        data: Any,
        output_model: type[M] | None,
        *,
        reply: bool = False,
    ) -> Any:
        """Check a task's output against the skill's signed schema (AGT-014); parse it.

        A ``Message`` reply (``reply``) is not a skill output: only ``output_model`` applies.
        """
        profile = None if reply else agent.skills.get(skill)
        if profile is not None:
            instance = jsonable(data)
            if profile.output_schema.get("type") == "array" and not isinstance(data, list):
                data, instance = [data], [instance]  # a one-item list is one artifact
            problems = validate_instance(profile.output_schema, instance)
            if problems:
                raise SkillOutputError(
                    f"{agent.url} returned output off the schema of {skill!r} at "
                    + ", ".join(p["path"] for p in problems)
                )
        if output_model is None:
            return data
        try:
            return output_model.model_validate(data)
        except ValidationError as exc:
            raise SkillOutputError(f"output does not fit {output_model.__name__}: {exc}") from exc

    async def _candidates(
        self,
        skill: str,
        agent: RemoteAgent | str | None,
        agents: Sequence[RemoteAgent | str] | None,
    ) -> list[RemoteAgent]:
        chosen: list[RemoteAgent | str] = []
        if agent is not None:
            chosen.append(agent)
        if agents:
            chosen.extend(agents)
        if not chosen and self.default_agent is not None:
            return [self.default_agent]
        if not chosen:
            found = await self.find(skill=skill)
            if not found:
                raise NoAgentAvailableError(f"no registered agent offers {skill!r}", [])
            return found
        resolved: list[RemoteAgent] = []
        for item in chosen:
            resolved.append(item if isinstance(item, RemoteAgent) else await self.agent(item))
        return resolved

    @overload
    async def call(
        self,
        skill: str,
        input: Content,
        output_model: type[M],
        *,
        agent: RemoteAgent | str | None = None,
        agents: Sequence[RemoteAgent | str] | None = None,
        timeout: float | None = None,
        retry_non_idempotent: bool = False,
        traceparent: str | None = None,
    ) -> M: ...

    @overload
    async def call(
        self,
        skill: str,
        input: Content,
        output_model: None = None,
        *,
        agent: RemoteAgent | str | None = None,
        agents: Sequence[RemoteAgent | str] | None = None,
        timeout: float | None = None,
        retry_non_idempotent: bool = False,
        traceparent: str | None = None,
    ) -> Any: ...

    async def call(
        self,
        skill: str,
        input: Content,
        output_model: type[M] | None = None,
        *,
        agent: RemoteAgent | str | None = None,
        agents: Sequence[RemoteAgent | str] | None = None,
        timeout: float | None = None,
        retry_non_idempotent: bool = False,
        traceparent: str | None = None,
    ) -> Any:
        """Call ``skill`` with ``input``; return the checked output.

        The output is the answer's data (checked against a typed skill's output schema),
        else its text (a ``str``), else its file(s) (:class:`File`); ``output_model``
        parses it. Without ``agent``/``agents`` the registry is asked for agents offering
        the skill. Each attempt is bounded by ``timeout`` (default: the client's); an
        attempt that times out is cancelled on its agent before the next is tried.
        """
        candidates = await self._candidates(skill, agent, agents)
        attempts: list[tuple[str, BaseException]] = []
        limit = self.timeout if timeout is None else timeout
        context_id = uuid.uuid4().hex  # lets an abandoned attempt's task be found (AGT-063)
        for remote in candidates:
            profile = remote.skills.get(skill)
            may_repeat = retry_non_idempotent or (profile is not None and profile.idempotent)
            message = self._message(
                skill, self._content(remote, skill, input), context_id=context_id
            )
            try:
                async with asyncio.timeout(limit):
                    result = await self.request(
                        remote, "SendMessage", {"message": message}, traceparent=traceparent
                    )
                answer = _task_or_message(result)
                if isinstance(answer, Task):
                    self._check_task(remote, answer)
                reply = isinstance(answer, Message)
                return self._typed(remote, skill, natural_value(answer), output_model, reply=reply)
            except RpcError as exc:
                if exc.code in (JsonRpcCode.INVALID_PARAMS, JsonRpcCode.INVALID_REQUEST):
                    raise  # the input is at fault: another agent would refuse it too
                attempts.append((remote.url, exc))
                safe = exc.code in (JsonRpcCode.UNAUTHENTICATED, JsonRpcCode.FORBIDDEN)
                if not (safe or may_repeat):
                    raise
            except TimeoutError as exc:
                await self.abandon(remote, context_id)
                error = AgentUnreachableError(f"{remote.url} did not answer within {limit}s")
                attempts.append((remote.url, error))
                if not may_repeat:
                    raise error from exc
            except AgentCallError as exc:
                attempts.append((remote.url, exc))
                if isinstance(exc, SkillOutputError) or not (exc.retry_safe or may_repeat):
                    raise
        raise NoAgentAvailableError(
            f"no agent completed {skill!r}: " + "; ".join(f"{url}: {err}" for url, err in attempts),
            attempts,
        )

    async def abandon(self, agent: RemoteAgent, context_id: str) -> list[str]:
        """Cancel this caller's live tasks in ``context_id`` on ``agent`` (AGT-063).

        Bounded by ``cancel_timeout``; failures are logged, not raised. Returns the ids of
        the tasks cancelled.
        """
        cancelled: list[str] = []
        try:
            async with asyncio.timeout(self.cancel_timeout):
                page = await self.request(agent, "ListTasks", {"contextId": context_id})
                for task in page.get("tasks") or []:
                    state = (task.get("status") or {}).get("state")
                    if state in {s.value for s in TERMINAL_TASK_STATES}:
                        continue
                    try:
                        await self.request(agent, "CancelTask", {"id": task["id"]})
                        cancelled.append(str(task["id"]))
                    except RpcError as exc:  # it finished meanwhile
                        log.info("task %s at %s not cancelled: %s", task["id"], agent.url, exc)
        except (WoaError, TimeoutError, KeyError) as exc:
            log.warning("could not cancel the abandoned task at %s: %r", agent.url, exc)
        return cancelled

    @staticmethod
    def _check_task(agent: RemoteAgent, task: Task) -> None:
        state = task.status.state
        if state == TaskState.COMPLETED:
            return
        parts = task.status.message.parts if task.status.message is not None else []
        note = " ".join(p.text for p in parts if p.text)
        raise AgentCallError(
            f"task {task.id} at {agent.url} ended {state.value}: {note}".rstrip(": "),
            retry_safe=state == TaskState.REJECTED,
        )

    async def stream(
        self,
        skill: str,
        input: Content,
        output_model: type[M] | None = None,
        *,
        agent: RemoteAgent | str | None = None,
        timeout: float | None = None,
        traceparent: str | None = None,
    ) -> AsyncIterator[StreamEvent]:
        """Stream a call: task, status and artifact events, then the checked ``result``.

        The stream's head is signed by the agent (also for an anonymous caller); the final
        result is fetched with a signed GetTask before it is returned (spec AGT-034). A
        stream that times out cancels its task on the agent (AGT-063).
        """
        remote = await self._one(agent)
        message = self._message(skill, self._content(remote, skill, input))
        task_id: str | None = None
        limit = self.timeout if timeout is None else timeout
        try:
            async with asyncio.timeout(limit):
                params = {"message": message}
                async for event in self._events(
                    remote, "SendStreamingMessage", params, traceparent
                ):
                    if event.kind == "task":
                        task_id = str(event.data.get("id"))
                    elif event.kind == "message" and task_id is None:
                        answer = Message.model_validate(event.data)
                        yield event
                        out = self._typed(
                            remote, skill, natural_value(answer), output_model, reply=True
                        )
                        yield StreamEvent("result", event.data, out)
                        return
                    yield event
                if task_id is None:
                    raise RpcError(JsonRpcCode.INVALID_AGENT_RESPONSE, "the stream named no task")
                wire = await self.request(
                    remote, "GetTask", {"id": task_id}, traceparent=traceparent
                )
        except TimeoutError as exc:
            if task_id is not None:
                await self._cancel_quietly(remote, task_id)
            raise AgentUnreachableError(f"{remote.url} did not finish within {limit}s") from exc
        task = _task(wire)
        self._check_task(remote, task)
        output = self._typed(remote, skill, natural_value(task), output_model)
        yield StreamEvent("result", wire, output)

    async def subscribe(
        self,
        task_id: str,
        *,
        agent: RemoteAgent | str | None = None,
        traceparent: str | None = None,
    ) -> AsyncIterator[StreamEvent]:
        """SubscribeToTask: the task's events until it ends or pauses, then its ``result``.

        The ``result`` event holds the task as a signed GetTask returns it.
        """
        remote = await self._one(agent)
        async for event in self._events(remote, "SubscribeToTask", {"id": task_id}, traceparent):
            yield event
        wire = await self.request(remote, "GetTask", {"id": task_id}, traceparent=traceparent)
        yield StreamEvent("result", wire, natural_value(_task(wire)))

    async def _cancel_quietly(self, agent: RemoteAgent, task_id: str) -> None:
        try:
            async with asyncio.timeout(self.cancel_timeout):
                await self.request(agent, "CancelTask", {"id": task_id})
        except (WoaError, TimeoutError) as exc:
            log.warning("could not cancel task %s at %s: %r", task_id, agent.url, exc)

    # -- task operations -----------------------------------------------------------------

    async def _one(self, agent: RemoteAgent | str | None) -> RemoteAgent:
        if isinstance(agent, RemoteAgent):
            return agent
        if agent is not None:
            return await self.agent(agent)
        if self.default_agent is None:
            raise AgentCallError("name the agent: agent=<RemoteAgent or URL>")
        return self.default_agent

    async def get_task(
        self,
        task_id: str,
        *,
        agent: RemoteAgent | str | None = None,
        history_length: int | None = None,
    ) -> Task:
        """GetTask."""
        remote = await self._one(agent)
        params: dict[str, Any] = {"id": task_id}
        if history_length is not None:
            params["historyLength"] = history_length
        return _task(await self.request(remote, "GetTask", params))

    async def cancel(self, task_id: str, *, agent: RemoteAgent | str | None = None) -> Task:
        """CancelTask; a finished task raises RpcError(-32002)."""
        remote = await self._one(agent)
        return _task(await self.request(remote, "CancelTask", {"id": task_id}))

    async def list_tasks(
        self, *, agent: RemoteAgent | str | None = None, **params: Any
    ) -> TaskList:
        """ListTasks (``pageSize``, ``pageToken``, ``contextId``, ``status`` as A2A names them)."""
        remote = await self._one(agent)
        try:
            return TaskList.model_validate(await self.request(remote, "ListTasks", params))
        except ValidationError as exc:
            raise RpcError(JsonRpcCode.INVALID_AGENT_RESPONSE, f"malformed list: {exc}") from exc


_EVENT_KINDS = (
    ("task", "task"),
    ("statusUpdate", "status"),
    ("artifactUpdate", "artifact"),
    ("message", "message"),
)


async def _sse_frames(response: httpx.Response) -> AsyncIterator[dict[str, Any]]:
    """Parse ``text/event-stream``: yield each event's JSON data (``event: error`` included)."""
    data: list[str] = []
    async for line in response.aiter_lines():
        if line == "":
            if data:
                yield strict_json.loads("\n".join(data))
                data = []
        elif line.startswith("data:"):
            data.append(line[5:].lstrip(" "))
    if data:
        yield strict_json.loads("\n".join(data))
