"""``AgentClient``: find agents, call their skills with typed input and output, fail over.

    async with AgentClient(key, registry_url="http://127.0.0.1:8470") as client:
        out = await client.call("echo", EchoIn(text="hi"), output_model=EchoOut)

Every request is signed with the caller's key; every answer must be signed by the DID in
the called agent's card and bound to the request (else :class:`AgentIdentityError`). The
output is checked against the skill's output schema from the signed card and, when given,
parsed into ``output_model``. When an agent fails or times out, the call moves on to the
next agent offering the skill; a call that may already have run is repeated only when the
skill is idempotent or ``retry_non_idempotent=True``. A plain (unsigned) A2A agent can be
called when ``allow_unsigned=True``.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar, overload

import httpx
from pydantic import BaseModel, ValidationError

from woa_protocol import (
    CardSignatureError,
    HttpRequest,
    HttpResponse,
    MessageSigner,
    MessageVerifier,
    ReplayGuard,
    SigningKey,
    WoaError,
    validate_instance,
    verify_card,
)
from woa_protocol.httpsig import DEFAULT_LABEL, normalize_headers
from woa_protocol.models import AgentCard, SkillProfile, TaskState, read_extension

from .errors import (
    AgentCallError,
    AgentIdentityError,
    JsonRpcCode,
    NoAgentAvailableError,
    RpcError,
    SkillOutputError,
)
from .jsonrpc.handler import SKILL_METADATA_KEY
from .registry_client import RegistryClient
from .server import AGENT_CARD_PATH
from .tasks.runner import RESULT_ARTIFACT_ID
from .tracing import outgoing_trace

__all__ = ["AgentClient", "RemoteAgent", "StreamEvent"]

M = TypeVar("M", bound=BaseModel)
A2A_VERSION = "1.0"


@dataclass(frozen=True)
class RemoteAgent:
    """An agent to call: its JSON-RPC URL, DID (None for a plain A2A agent) and card."""

    url: str
    did: str | None
    card: dict[str, Any]
    skills: dict[str, SkillProfile] = field(default_factory=dict)

    @property
    def name(self) -> str:
        """The card's name."""
        return str(self.card.get("name", ""))

    @property
    def skill_ids(self) -> list[str]:
        """Ids of the skills the card declares."""
        return [str(s.get("id")) for s in self.card.get("skills", []) if isinstance(s, dict)]

    @classmethod
    def from_card(cls, card: dict[str, Any], *, allow_unsigned: bool = False) -> RemoteAgent:
        """Check a card (JWS by the DID in its extension) and build the agent from it."""
        try:
            model = AgentCard.model_validate(card)
            ext = read_extension(model)
        except (ValidationError, ValueError) as exc:
            raise AgentIdentityError(f"not a valid agent card: {exc}") from exc
        interfaces = [
            i for i in model.supported_interfaces if i.protocol_binding.upper() == "JSONRPC"
        ]
        if not interfaces:
            raise AgentCallError("the agent offers no JSON-RPC interface")
        if ext is None:
            if not allow_unsigned:
                raise AgentIdentityError(
                    f"agent {model.name!r} has no Web of Agents identity (allow_unsigned=False)"
                )
            return cls(interfaces[0].url, None, card)
        try:
            verify_card(card, expected_did=ext.did)
        except CardSignatureError as exc:
            raise AgentIdentityError(
                f"card of {ext.did} is not signed by it: {exc.detail}"
            ) from exc
        return cls(interfaces[0].url, ext.did, card, dict(ext.skills))


@dataclass(frozen=True)
class StreamEvent:
    """One event of a streamed call: ``task``, ``status``, ``artifact`` or the final ``result``."""

    kind: str
    data: dict[str, Any]
    output: Any = None


def _output_of(result: dict[str, Any]) -> tuple[Any, dict[str, Any] | None]:
    """Return (payload, task) from a SendMessage result (Task or Message)."""
    task = result.get("task")
    if isinstance(task, dict):
        artifacts = task.get("artifacts") or []
        chosen = next((a for a in artifacts if a.get("artifactId") == RESULT_ARTIFACT_ID), None)
        chosen = chosen or (artifacts[-1] if artifacts else None)
        parts = chosen.get("parts", []) if isinstance(chosen, dict) else []
        return _payload_of(parts), task
    message = result.get("message")
    if isinstance(message, dict):
        return _payload_of(message.get("parts", [])), None
    raise RpcError(JsonRpcCode.INVALID_AGENT_RESPONSE, "result holds neither task nor message")


def _payload_of(parts: list[Any]) -> Any:
    for part in parts:
        if isinstance(part, dict) and "data" in part:
            return part["data"]
    texts = [p["text"] for p in parts if isinstance(p, dict) and isinstance(p.get("text"), str)]
    return {"text": "".join(texts)} if texts else None


class AgentClient:
    """Calls agents as one caller (``key``); finds them through a registry when given one."""

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
    ) -> None:
        self.key = key
        self.allow_unsigned = allow_unsigned
        self.timeout = timeout
        self._signer = MessageSigner(key) if key is not None else None
        self._guard = ReplayGuard()
        self._verifier = MessageVerifier(replay_guard=self._guard)
        self._http = httpx.AsyncClient(transport=transport, timeout=timeout)
        self.registry = (
            RegistryClient(registry_url, None, registry_transport, registry_did=registry_did)
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
        await self._http.aclose()
        if self.registry is not None:
            await self.registry.aclose()

    # -- finding agents ------------------------------------------------------------------

    def _registry(self) -> RegistryClient:
        if self.registry is None:
            raise AgentCallError("no registry configured: pass registry_url= or agent=")
        return self.registry

    def _from_record(self, record: dict[str, Any]) -> RemoteAgent | None:
        card = record.get("card")
        if not isinstance(card, dict):
            return None
        try:
            agent = RemoteAgent.from_card(card, allow_unsigned=self.allow_unsigned)
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
        except httpx.HTTPError as exc:
            raise AgentCallError(f"registry {registry.base_url} unreachable: {exc}") from exc
        found = [self._from_record(r) for r in page.get("agents", [])]
        return [a for a in found if a is not None]

    async def find_for_payload(self, payload: Any, **filters: Any) -> list[tuple[RemoteAgent, str]]:
        """(agent, skill id) pairs whose input schema accepts ``payload``."""
        registry = self._registry()
        try:
            matches = (await registry.search_payload(payload, **filters)).get("matches", [])
        except httpx.HTTPError as exc:
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
            response = await self._http.get(card_url)
        except httpx.HTTPError as exc:
            raise AgentCallError(f"cannot fetch {card_url}: {exc}", retry_safe=True) from exc
        if response.status_code != 200:
            raise AgentCallError(f"{card_url} answered {response.status_code}", retry_safe=True)
        try:
            card = response.json()
        except ValueError as exc:
            raise AgentCallError(f"{card_url} is not JSON") from exc
        agent = RemoteAgent.from_card(card, allow_unsigned=self.allow_unsigned)
        if agent.did is not None:
            self._check_unbound(response, agent.did)
        self._agents[card_url] = agent
        return agent

    def _check_unbound(self, response: httpx.Response, did: str) -> None:
        message = HttpResponse(
            response.status_code,
            normalize_headers(response.headers.multi_items()),
            response.content,
        )
        try:
            self._verifier.verify_response(message, expected_did=did)
        except WoaError as exc:
            raise AgentIdentityError(f"response not signed by {did}: {exc.detail}") from exc

    # -- raw JSON-RPC --------------------------------------------------------------------

    def _build(
        self, agent: RemoteAgent, method: str, params: dict[str, Any], traceparent: str | None
    ) -> tuple[httpx.Request, HttpRequest | None]:
        payload = {"jsonrpc": "2.0", "id": uuid.uuid4().hex, "method": method, "params": params}
        content = json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode()
        headers = {
            "content-type": "application/json",
            "a2a-version": A2A_VERSION,
            "traceparent": outgoing_trace(traceparent).traceparent,
        }
        request = self._http.build_request("POST", agent.url, content=content, headers=headers)
        if self._signer is None:
            return request, None
        signed = HttpRequest("POST", str(request.url), dict(headers), content)
        request.headers.update(self._signer.sign_request(signed))
        return request, signed

    def _check_response(
        self, agent: RemoteAgent, response: httpx.Response, signed: HttpRequest | None
    ) -> None:
        has_signature = "signature" in response.headers
        if agent.did is None:
            if not self.allow_unsigned:
                raise AgentIdentityError("the agent is unsigned and allow_unsigned is False")
            return
        if not has_signature:
            raise AgentIdentityError(f"the answer is not signed (expected {agent.did})")
        message = HttpResponse(
            response.status_code,
            normalize_headers(response.headers.multi_items()),
            response.content,
            request=signed,
        )
        label = DEFAULT_LABEL if signed is not None else None
        try:
            self._verifier.verify_response(message, label, expected_did=agent.did)
        except WoaError as exc:
            raise AgentIdentityError(f"answer not signed by {agent.did}: {exc.detail}") from exc

    async def request(
        self,
        agent: RemoteAgent,
        method: str,
        params: dict[str, Any],
        *,
        traceparent: str | None = None,
    ) -> dict[str, Any]:
        """Send one signed JSON-RPC request; return its verified ``result`` or raise."""
        request, signed = self._build(agent, method, params, traceparent)
        try:
            response = await self._http.send(request)
        except httpx.ConnectError as exc:
            raise AgentCallError(f"{agent.url}: {exc}", retry_safe=True) from exc
        except httpx.HTTPError as exc:
            raise AgentCallError(f"{agent.url}: {type(exc).__name__}: {exc}") from exc
        self._check_response(agent, response, signed)
        try:
            body = response.json()
        except ValueError as exc:
            raise AgentCallError(f"{agent.url} answered {response.status_code}, not JSON") from exc
        if isinstance(body, dict) and isinstance(body.get("error"), dict):
            raise RpcError.from_error(body["error"])
        if not isinstance(body, dict) or not isinstance(body.get("result"), dict):
            raise RpcError(JsonRpcCode.INVALID_AGENT_RESPONSE, "the answer holds no result object")
        result: dict[str, Any] = body["result"]
        return result

    # -- calls ---------------------------------------------------------------------------

    @staticmethod
    def _message(skill: str, payload: Any, task_id: str | None = None) -> dict[str, Any]:
        message: dict[str, Any] = {
            "messageId": uuid.uuid4().hex,
            "role": "ROLE_USER",
            "parts": [{"data": payload}],
            "metadata": {SKILL_METADATA_KEY: skill},
        }
        if task_id:
            message["taskId"] = task_id
        return message

    @staticmethod
    def _payload(value: BaseModel | Any) -> Any:
        return value.model_dump(mode="json") if isinstance(value, BaseModel) else value

    def _typed(
        self, agent: RemoteAgent, skill: str, data: Any, output_model: type[M] | None
    ) -> Any:
        profile = agent.skills.get(skill)
        if profile is not None:
            problems = validate_instance(profile.output_schema, data)
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
        input: BaseModel | Any,
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
        input: BaseModel | Any,
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
        input: BaseModel | Any,
        output_model: type[M] | None = None,
        *,
        agent: RemoteAgent | str | None = None,
        agents: Sequence[RemoteAgent | str] | None = None,
        timeout: float | None = None,
        retry_non_idempotent: bool = False,
        traceparent: str | None = None,
    ) -> Any:
        """Call ``skill`` with ``input``; return the checked output (a model or plain JSON).

        Without ``agent``/``agents`` the registry is asked for agents offering the skill.
        Each attempt is bounded by ``timeout`` (default: the client's).
        """
        payload = self._payload(input)
        candidates = await self._candidates(skill, agent, agents)
        attempts: list[tuple[str, BaseException]] = []
        limit = self.timeout if timeout is None else timeout
        for remote in candidates:
            profile = remote.skills.get(skill)
            may_repeat = retry_non_idempotent or (profile is not None and profile.idempotent)
            try:
                async with asyncio.timeout(limit):
                    result = await self.request(
                        remote,
                        "SendMessage",
                        {"message": self._message(skill, payload)},
                        traceparent=traceparent,
                    )
                data, task = _output_of(result)
                if task is not None:
                    self._check_task(remote, task)
                return self._typed(remote, skill, data, output_model)
            except RpcError as exc:
                if exc.code in (JsonRpcCode.INVALID_PARAMS, JsonRpcCode.INVALID_REQUEST):
                    raise  # the input is at fault: another agent would refuse it too
                attempts.append((remote.url, exc))
                safe = exc.code in (JsonRpcCode.UNAUTHENTICATED, JsonRpcCode.FORBIDDEN)
                if not (safe or may_repeat):
                    raise
            except TimeoutError as exc:
                error = AgentCallError(f"{remote.url} did not answer within {limit}s")
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

    @staticmethod
    def _check_task(agent: RemoteAgent, task: dict[str, Any]) -> None:
        status = task.get("status") or {}
        state = status.get("state")
        if state == TaskState.COMPLETED.value:
            return
        parts = ((status.get("message") or {}).get("parts")) or []
        note = " ".join(p.get("text", "") for p in parts if isinstance(p, dict))
        raise AgentCallError(
            f"task {task.get('id')} at {agent.url} ended {state}: {note}".rstrip(": "),
            retry_safe=state == TaskState.REJECTED.value,
        )

    async def stream(
        self,
        skill: str,
        input: BaseModel | Any,
        output_model: type[M] | None = None,
        *,
        agent: RemoteAgent | str | None = None,
        timeout: float | None = None,
        traceparent: str | None = None,
    ) -> AsyncIterator[StreamEvent]:
        """Stream a call: task, status and artifact events, then the checked ``result``.

        The stream's head is signed by the agent; the final result is fetched with a
        signed GetTask before it is returned (spec AGT-034).
        """
        remote = await self._one(agent)
        params = {"message": self._message(skill, self._payload(input))}
        request, signed = self._build(remote, "SendStreamingMessage", params, traceparent)
        task_id: str | None = None
        async with asyncio.timeout(self.timeout if timeout is None else timeout):
            response = await self._http.send(request, stream=True)
            try:
                if response.headers.get("content-type", "").startswith("application/json"):
                    await response.aread()
                    self._check_response(remote, response, signed)
                    body = response.json()
                    raise RpcError.from_error(body.get("error"))
                self._check_stream_head(remote, response, signed)
                async for frame in _sse_frames(response):
                    if "error" in frame:
                        raise RpcError.from_error(frame["error"])
                    result = frame.get("result") or {}
                    if "task" in result:
                        task_id = result["task"].get("id")
                        yield StreamEvent("task", result["task"])
                    elif "statusUpdate" in result:
                        yield StreamEvent("status", result["statusUpdate"])
                    elif "artifactUpdate" in result:
                        yield StreamEvent("artifact", result["artifactUpdate"])
            finally:
                await response.aclose()
            if task_id is None:
                raise RpcError(JsonRpcCode.INVALID_AGENT_RESPONSE, "the stream named no task")
            task = await self.request(remote, "GetTask", {"id": task_id}, traceparent=traceparent)
        self._check_task(remote, task)
        data, _ = _output_of({"task": task})
        yield StreamEvent("result", task, self._typed(remote, skill, data, output_model))

    def _check_stream_head(
        self, agent: RemoteAgent, response: httpx.Response, signed: HttpRequest | None
    ) -> None:
        if agent.did is None or signed is None:
            if agent.did is None and not self.allow_unsigned:
                raise AgentIdentityError("the agent is unsigned and allow_unsigned is False")
            return
        message = HttpResponse(
            response.status_code, normalize_headers(response.headers.multi_items()), request=signed
        )
        try:
            self._verifier.verify_response(
                message, DEFAULT_LABEL, expected_did=agent.did, stream=True
            )
        except WoaError as exc:
            raise AgentIdentityError(f"stream not signed by {agent.did}: {exc.detail}") from exc

    # -- task operations -----------------------------------------------------------------

    async def _one(self, agent: RemoteAgent | str | None) -> RemoteAgent:
        if isinstance(agent, RemoteAgent):
            return agent
        if agent is not None:
            return await self.agent(agent)
        if self.default_agent is None:
            raise AgentCallError("name the agent: agent=<RemoteAgent or URL>")
        return self.default_agent

    async def send(
        self,
        skill: str,
        input: BaseModel | Any,
        *,
        agent: RemoteAgent | str | None = None,
        return_immediately: bool = False,
    ) -> dict[str, Any]:
        """SendMessage without waiting for a typed result; return the task (wire form)."""
        remote = await self._one(agent)
        params: dict[str, Any] = {"message": self._message(skill, self._payload(input))}
        if return_immediately:
            params["configuration"] = {"returnImmediately": True}
        result = await self.request(remote, "SendMessage", params)
        task: dict[str, Any] = result.get("task") or {}
        return task

    async def get_task(
        self, task_id: str, *, agent: RemoteAgent | str | None = None
    ) -> dict[str, Any]:
        """GetTask."""
        remote = await self._one(agent)
        return await self.request(remote, "GetTask", {"id": task_id})

    async def cancel(
        self, task_id: str, *, agent: RemoteAgent | str | None = None
    ) -> dict[str, Any]:
        """CancelTask; a finished task raises RpcError(-32002)."""
        remote = await self._one(agent)
        return await self.request(remote, "CancelTask", {"id": task_id})

    async def list_tasks(
        self, *, agent: RemoteAgent | str | None = None, **params: Any
    ) -> dict[str, Any]:
        """ListTasks (``pageSize``, ``pageToken``, ``contextId``, ``status`` as A2A names them)."""
        remote = await self._one(agent)
        return await self.request(remote, "ListTasks", params)


async def _sse_frames(response: httpx.Response) -> AsyncIterator[dict[str, Any]]:
    """Parse ``text/event-stream``: yield each event's JSON data (``event: error`` included)."""
    data: list[str] = []
    async for line in response.aiter_lines():
        if line == "":
            if data:
                yield json.loads("\n".join(data))
                data = []
        elif line.startswith("data:"):
            data.append(line[5:].lstrip(" "))
    if data:
        yield json.loads("\n".join(data))
