"""A2A 1.0 request handling, independent of any transport (spec AGT-001..AGT-027).

One method per A2A operation, each taking its typed request model (parsed by the binding
with :func:`parse_request`, which reports bad params as -32602 naming their paths) and
the :class:`CallInfo` of the verified caller, and returning the operation's result or, for
the streaming operations, an async iterator of stream results: JSON values, in which A2A
models may stand for their wire form (the bindings write them with ``pydantic_core.to_json``
in one pass, ``by_alias`` and without ``None`` members), or a :class:`RawJson` already
written (a finished task, as its store got it). Failures raise
:class:`~woa_agents.errors.RpcError` with A2A's codes. The bindings (JSON-RPC in
:mod:`.routes`, HTTP+JSON in :mod:`woa_agents.rest`) are built from this class and know
nothing of skills or tasks.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from woa_protocol import VerifiedMessage
from woa_protocol.ids import random_hex
from woa_protocol.models import (
    SKILL_METADATA_KEY,
    CancelTaskRequest,
    GetTaskRequest,
    ListTasksRequest,
    Message,
    Role,
    SendMessageConfiguration,
    SendMessageRequest,
    SubscribeToTaskRequest,
    Task,
    TaskState,
)

from ..context import SkillContext
from ..errors import JsonRpcCode, RpcError
from ..skills import Skill
from ..tasks import TaskRunner, TaskStore, is_terminal
from ..tracing import TraceContext

__all__ = ["SKILL_METADATA_KEY", "A2ARequestHandler", "CallInfo", "RawJson", "parse_request"]


_SETTLED = frozenset(
    {
        TaskState.COMPLETED,
        TaskState.FAILED,
        TaskState.CANCELED,
        TaskState.REJECTED,
        TaskState.INPUT_REQUIRED,
        TaskState.AUTH_REQUIRED,
    }
)
R = TypeVar("R", bound=BaseModel)


class RawJson(bytes):
    """A result already written as JSON text: the route sends these bytes as they are."""


@dataclass(frozen=True)
class CallInfo:
    """Who is calling (verified DID, or None when unsigned) and the trace they belong to."""

    caller_did: str | None
    trace: TraceContext

    @classmethod
    def of(cls, headers: Mapping[str, str], verified: VerifiedMessage | None) -> CallInfo:
        """The call a verified request makes; an ``A2A-Version`` other than 1.x is refused."""
        version = headers.get("a2a-version")
        if version and not version.startswith("1."):
            raise RpcError(
                JsonRpcCode.VERSION_NOT_SUPPORTED,
                f"A2A-Version {version} is not supported; this agent speaks 1.0",
            )
        trace = TraceContext.parse(headers.get("traceparent"))
        return cls(
            caller_did=verified.did if verified else None,
            trace=trace.child() if trace else TraceContext.new(),
        )


def _invalid(message: str, *, reason: str = "INVALID_PARAMS", **kw: Any) -> RpcError:
    return RpcError(JsonRpcCode.INVALID_PARAMS, message, reason=reason, **kw)


def _pydantic_violations(exc: ValidationError, prefix: str) -> list[dict[str, str]]:
    out = []
    for err in exc.errors():
        path = prefix + "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in err["loc"])
        out.append({"field": path, "description": err["msg"]})
    return out


def parse_request(model: type[R], params: Any) -> R:
    """Read an operation's params (either ProtoJSON spelling) or raise -32602 naming the paths."""
    if not isinstance(params, dict):
        raise _invalid("params must be an object")
    try:
        return model.model_validate(params)
    except ValidationError as exc:
        violations = _pydantic_violations(exc, "$")
        raise _invalid(
            f"invalid {model.__name__}: " + ", ".join(v["field"] for v in violations),
            violations=violations,
        ) from exc


def _task_view(
    task: Task, history_length: int | None, include_artifacts: bool = True
) -> Task | dict[str, Any]:
    """The task as answered: the model itself unless history or artifacts are cut."""
    cut_history = history_length is not None and (
        history_length <= 0 or len(task.history or ()) > history_length
    )
    if not cut_history and (include_artifacts or not task.artifacts):
        return task
    data = task.to_json_dict()
    if cut_history:
        assert history_length is not None
        if history_length <= 0:
            data.pop("history", None)
        elif "history" in data:
            data["history"] = data["history"][-history_length:]
    if not include_artifacts:
        data.pop("artifacts", None)
    return data


class A2ARequestHandler:
    """Serves one agent's skills through the A2A operations."""

    def __init__(
        self, skills: Mapping[str, Skill], store: TaskStore, *, default_skill: str | None = None
    ) -> None:
        self.skills = skills
        self.store = store
        self.default_skill = default_skill
        self.runner = TaskRunner(store)

    # -- SendMessage / SendStreamingMessage ---------------------------------------------

    def _skill_for(self, message: Message, resumed: Task | None) -> Skill:
        skill_id: Any = (message.metadata or {}).get(SKILL_METADATA_KEY)
        if skill_id is None and resumed is not None:
            skill_id = (resumed.metadata or {}).get(SKILL_METADATA_KEY)
        if skill_id is None:
            if self.default_skill is not None:
                return self.skills[self.default_skill]
            if len(self.skills) == 1:
                return next(iter(self.skills.values()))
            raise _invalid(
                f"this agent offers several skills ({', '.join(sorted(self.skills))}) and "
                f"none is the default: name one in message metadata under {SKILL_METADATA_KEY!r}",
                reason="SKILL_REQUIRED",
                metadata={"skills": ",".join(sorted(self.skills)), "key": SKILL_METADATA_KEY},
                violations=[
                    {
                        "field": f"$.message.metadata['{SKILL_METADATA_KEY}']",
                        "description": "required",
                    }
                ],
            )
        skill = self.skills.get(skill_id) if isinstance(skill_id, str) else None
        if skill is None:
            raise _invalid(
                f"unknown skill {skill_id!r}; this agent offers {sorted(self.skills)}",
                reason="UNKNOWN_SKILL",
                metadata={"skill": str(skill_id)},
            )
        return skill

    async def _begin(
        self, request: SendMessageRequest, call: CallInfo, *, blocking: bool = False
    ) -> Task | Message:
        message = request.message
        resumed_run = None
        resumed: Task | None = None
        if message.task_id:
            stored = await self.store.get(message.task_id)
            if stored is None or stored.owner != call.caller_did:
                raise RpcError(JsonRpcCode.TASK_NOT_FOUND, f"task {message.task_id} not found")
            resumed = stored.task
            resumed_run = self.runner.resumable(message.task_id)
            if resumed_run is None:
                raise RpcError(
                    JsonRpcCode.UNSUPPORTED_OPERATION,
                    f"task {message.task_id} is {stored.task.status.state.value} "
                    "and takes no more messages",
                    reason="TASK_NOT_RESUMABLE",
                )
        skill = self._skill_for(message, resumed)
        payload = skill.inputs.bind(message)
        problems = skill.input_errors(payload)
        if problems:
            raise _invalid(
                f"input fails the schema of skill {skill.id!r} at "
                + ", ".join(p["path"] for p in problems),
                reason="SCHEMA_VALIDATION_FAILED",
                metadata={"type": "urn:woa:problem:validation-failed", "skill": skill.id},
                violations=[{"field": p["path"], "description": p["message"]} for p in problems],
            )
        try:
            value = skill.parse_input(payload)
        except ValidationError as exc:  # the model is stricter than its schema
            raise _invalid(
                f"input does not fit skill {skill.id!r}",
                reason="SCHEMA_VALIDATION_FAILED",
                metadata={"type": "urn:woa:problem:validation-failed", "skill": skill.id},
                violations=_pydantic_violations(exc, "$"),
            ) from exc
        if skill.replies_with_message:
            return await self._reply(skill, value, message, call)
        config = request.configuration or _DEFAULT_CONFIG
        inline = blocking and not config.return_immediately
        return await self.runner.start(
            skill,
            value,
            message,
            owner=call.caller_did,
            trace=call.trace,
            run=resumed_run,
            inline=inline,
        )

    @staticmethod
    async def _reply(skill: Skill, value: Any, message: Message, call: CallInfo) -> Message:
        """Run a skill that answers with a Message: no task (spec AGT-018)."""
        context_id = message.context_id or random_hex(16)
        ctx = SkillContext(
            skill_id=skill.id,
            task_id="",
            context_id=context_id,
            caller_did=call.caller_did,
            trace=call.trace,
            history=[message],
        )
        try:
            reply = await skill.invoke(value, ctx)
        except Exception as exc:
            raise RpcError(
                JsonRpcCode.INTERNAL_ERROR, f"skill {skill.id!r} failed: {type(exc).__name__}"
            ) from exc
        if not isinstance(reply, Message):
            raise RpcError(
                JsonRpcCode.INTERNAL_ERROR, f"skill {skill.id!r} did not answer with a Message"
            )
        return reply.model_copy(
            update={"context_id": reply.context_id or context_id, "role": Role.AGENT}
        )

    async def send_message(
        self, request: SendMessageRequest, call: CallInfo
    ) -> dict[str, Any] | RawJson:
        """SendMessage: run the skill; answer when it settles (or at once if asked)."""
        begun = await self._begin(request, call, blocking=True)
        if isinstance(begun, Message):
            return {"message": begun}
        reply = self.runner.take_reply(begun.id)
        if reply is not None:
            return {"message": reply}
        task = begun
        config = request.configuration or _DEFAULT_CONFIG
        if not config.return_immediately and task.status.state not in _SETTLED:
            task = await self.runner.wait(task.id)
        view = _task_view(task, config.history_length)
        wire = self.runner.settled_json(task.id)  # the ended task as its store got it
        if wire is not None and view is task:
            return RawJson(b'{"task":' + wire + b"}")
        return {"task": view}

    async def send_streaming_message(
        self, request: SendMessageRequest, call: CallInfo
    ) -> AsyncIterator[dict[str, Any]]:
        """SendStreamingMessage: the task, then its status and artifact updates."""
        begun = await self._begin(request, call)
        if isinstance(begun, Message):
            reply = begun

            async def one() -> AsyncIterator[dict[str, Any]]:
                yield {"message": reply}

            return one()
        task = begun
        queue = self.runner.subscribe(task.id)
        snapshot = task.to_json_dict()

        async def events() -> AsyncIterator[dict[str, Any]]:
            yield {"task": snapshot}
            if queue is not None:
                async for event in self.runner.drain(queue):
                    yield event

        return events()

    # -- task operations -----------------------------------------------------------------

    async def _owned(self, task_id: str, call: CallInfo) -> Task:
        stored = await self.store.get(task_id)
        if stored is None or stored.owner != call.caller_did:
            raise RpcError(JsonRpcCode.TASK_NOT_FOUND, f"task {task_id} not found")
        return stored.task

    async def get_task(self, request: GetTaskRequest, call: CallInfo) -> Task | dict[str, Any]:
        """GetTask: the task as stored (only its owner sees it)."""
        if request.history_length is not None and request.history_length < 0:
            raise _invalid(
                "historyLength must not be negative",
                violations=[{"field": "$.historyLength", "description": ">= 0"}],
            )
        task = await self._owned(request.id, call)
        return _task_view(task, request.history_length)

    async def cancel_task(
        self, request: CancelTaskRequest, call: CallInfo
    ) -> Task | dict[str, Any]:
        """CancelTask: cancel a live task; a finished one is not cancelable (-32002)."""
        task = await self._owned(request.id, call)
        if is_terminal(task.status.state):
            raise RpcError(
                JsonRpcCode.TASK_NOT_CANCELABLE,
                f"task {task.id} is already {task.status.state.value}",
            )
        canceled = await self.runner.cancel(task.id)
        if canceled is None:  # stored as live by an earlier process: nothing runs it now
            raise RpcError(
                JsonRpcCode.TASK_NOT_CANCELABLE, f"task {task.id} is not running in this agent"
            )
        return _task_view(canceled, None)

    async def list_tasks(self, request: ListTasksRequest, call: CallInfo) -> dict[str, Any]:
        """ListTasks: the caller's tasks, newest first, paged."""
        if request.history_length is not None and request.history_length < 0:
            raise _invalid(
                "historyLength must not be negative",
                violations=[{"field": "$.historyLength", "description": ">= 0"}],
            )
        state = None if request.status is TaskState.UNSPECIFIED else request.status
        try:
            page = await self.store.list(
                call.caller_did,
                context_id=request.context_id or None,
                state=state,
                page_size=request.page_size,
                page_token=request.page_token or "",
            )
        except ValueError as exc:
            raise _invalid(
                str(exc), violations=[{"field": "$.pageToken", "description": "invalid"}]
            ) from exc
        after = request.status_timestamp_after
        tasks = [
            t
            for t in page.tasks
            if after is None or (t.status.timestamp is not None and t.status.timestamp > after)
        ]
        return {
            "tasks": [
                _task_view(t, request.history_length, request.include_artifacts) for t in tasks
            ],
            "nextPageToken": page.next_page_token,
            "pageSize": request.page_size,
            "totalSize": page.total_size,
        }

    async def subscribe_to_task(
        self, request: SubscribeToTaskRequest, call: CallInfo
    ) -> AsyncIterator[dict[str, Any]]:
        """SubscribeToTask: the task now, then its updates until it is terminal."""
        task = await self._owned(request.id, call)
        if is_terminal(task.status.state):
            raise RpcError(
                JsonRpcCode.UNSUPPORTED_OPERATION,
                f"task {task.id} is {task.status.state.value}: nothing to subscribe to",
            )
        queue = self.runner.subscribe(task.id, until_terminal=True)
        snapshot = task.to_json_dict()

        async def events() -> AsyncIterator[dict[str, Any]]:
            yield {"task": snapshot}
            if queue is not None:
                async for event in self.runner.drain(queue):
                    yield event

        return events()


_DEFAULT_CONFIG = SendMessageConfiguration()
