"""A2A 1.0 request handling, independent of any transport (spec AGT-001..AGT-027).

One method per A2A operation. Each takes the already parsed ``params`` object and the
:class:`CallInfo` of the verified caller, and returns the JSON-RPC ``result`` or, for the
streaming operations, an async iterator of stream results: JSON values, in which A2A
models may stand for their wire form (the route writes them with ``pydantic_core.to_json``
in one pass, ``by_alias`` and without ``None`` members), or a :class:`RawJson` already
written (a finished task, as its store got it). Failures raise
:class:`~woa_agents.errors.RpcError` with A2A's codes. The JSON-RPC route
(:mod:`.routes`) is built from this class and knows nothing of skills or tasks.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from woa_protocol.models import Message, Task, TaskState

from ..errors import JsonRpcCode, RpcError
from ..skills import Skill
from ..tasks import TaskRunner, TaskStore, is_terminal
from ..tracing import TraceContext

__all__ = ["SKILL_METADATA_KEY", "A2ARequestHandler", "CallInfo", "RawJson"]

SKILL_METADATA_KEY = "woa.skill"
"""Message metadata key naming the skill a typed call invokes (spec AGT-002)."""

_MAX_PAGE = 100
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


class RawJson(bytes):
    """A result already written as JSON text: the route sends these bytes as they are."""


@dataclass(frozen=True)
class CallInfo:
    """Who is calling (verified DID, or None when unsigned) and the trace they belong to."""

    caller_did: str | None
    trace: TraceContext


def _invalid(message: str, *, reason: str = "INVALID_PARAMS", **kw: Any) -> RpcError:
    return RpcError(JsonRpcCode.INVALID_PARAMS, message, reason=reason, **kw)


def _pydantic_violations(exc: ValidationError, prefix: str) -> list[dict[str, str]]:
    out = []
    for err in exc.errors():
        path = prefix + "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in err["loc"])
        out.append({"field": path, "description": err["msg"]})
    return out


def _params_object(params: Any) -> dict[str, Any]:
    if not isinstance(params, dict):
        raise _invalid("params must be an object")
    return params


def _task_view(
    task: Task, history_length: Any, include_artifacts: bool = True
) -> Task | dict[str, Any]:
    """The task as answered: the model itself unless history or artifacts are cut."""
    cut_history = (
        isinstance(history_length, int)
        and not isinstance(history_length, bool)
        and (history_length <= 0 or len(task.history or ()) > history_length)
    )
    if not cut_history and (include_artifacts or not task.artifacts):
        return task
    data = task.to_json_dict()
    if cut_history:
        assert isinstance(history_length, int)
        if history_length <= 0:
            data.pop("history", None)
        elif "history" in data:
            data["history"] = data["history"][-history_length:]
    if not include_artifacts:
        data.pop("artifacts", None)
    return data


class A2ARequestHandler:
    """Serves one agent's skills through the A2A operations."""

    def __init__(self, skills: Mapping[str, Skill], store: TaskStore) -> None:
        self.skills = skills
        self.store = store
        self.runner = TaskRunner(store)

    # -- SendMessage / SendStreamingMessage ---------------------------------------------

    def _skill_for(self, message: Message, resumed: Task | None) -> Skill:
        skill_id: Any = (message.metadata or {}).get(SKILL_METADATA_KEY)
        if skill_id is None and resumed is not None:
            skill_id = (resumed.metadata or {}).get(SKILL_METADATA_KEY)
        if skill_id is None:
            if len(self.skills) == 1:
                return next(iter(self.skills.values()))
            raise _invalid(
                f"message metadata must name the skill under {SKILL_METADATA_KEY!r}",
                reason="SKILL_REQUIRED",
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

    @staticmethod
    def _payload(message: Message) -> Any:
        data_parts = [p for p in message.parts if "data" in p.model_fields_set]
        if len(data_parts) != 1 or len(message.parts) != 1:
            kinds = [
                next(k for k in ("text", "raw", "url", "data") if k in p.model_fields_set)
                for p in message.parts
            ]
            raise RpcError(
                JsonRpcCode.INVALID_PARAMS,
                f"a typed skill call carries exactly one data part; got {kinds}",
                reason="INVALID_PARTS",
                violations=[{"field": "$.message.parts", "description": "exactly one data part"}],
            )
        return data_parts[0].data

    async def _begin(
        self, params: Any, call: CallInfo, *, blocking: bool = False
    ) -> tuple[Task, dict[str, Any]]:
        params = _params_object(params)
        raw = params.get("message")
        if not isinstance(raw, dict):
            raise _invalid(
                "params.message is required",
                violations=[{"field": "$.message", "description": "required object"}],
            )
        try:
            message = Message.model_validate(raw)
        except ValidationError as exc:
            raise _invalid(
                "params.message is not a valid Message",
                violations=_pydantic_violations(exc, "$.message"),
            ) from exc
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
        payload = self._payload(message)
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
            value = skill.input_model.model_validate(payload)
        except ValidationError as exc:  # the model is stricter than its schema
            raise _invalid(
                f"input does not fit skill {skill.id!r}",
                reason="SCHEMA_VALIDATION_FAILED",
                metadata={"type": "urn:woa:problem:validation-failed", "skill": skill.id},
                violations=_pydantic_violations(exc, "$"),
            ) from exc
        config = params.get("configuration")
        config = config if isinstance(config, dict) else {}
        inline = blocking and not skill.streaming and not config.get("returnImmediately")
        task = await self.runner.start(
            skill,
            value,
            message,
            owner=call.caller_did,
            trace=call.trace,
            run=resumed_run,
            inline=inline,
        )
        return task, config

    async def send_message(self, params: Any, call: CallInfo) -> dict[str, Any] | RawJson:
        """SendMessage: run the skill; answer when it settles (or at once if asked)."""
        task, config = await self._begin(params, call, blocking=True)
        if not config.get("returnImmediately") and task.status.state not in _SETTLED:
            task = await self.runner.wait(task.id)
        view = _task_view(task, config.get("historyLength"))
        wire = self.runner.settled_json(task.id)  # the ended task as its store got it
        if wire is not None and view is task:
            return RawJson(b'{"task":' + wire + b"}")
        return {"task": view}

    async def send_streaming_message(
        self, params: Any, call: CallInfo
    ) -> AsyncIterator[dict[str, Any]]:
        """SendStreamingMessage: the task, then its status and artifact updates."""
        task, _ = await self._begin(params, call)
        queue = self.runner.subscribe(task.id)
        snapshot = task.to_json_dict()

        async def events() -> AsyncIterator[dict[str, Any]]:
            yield {"task": snapshot}
            if queue is not None:
                async for event in self.runner.drain(queue):
                    yield event

        return events()

    # -- task operations -----------------------------------------------------------------

    async def _owned(self, params: Any, call: CallInfo) -> Task:
        params = _params_object(params)
        task_id = params.get("id")
        if not isinstance(task_id, str) or not task_id:
            raise _invalid(
                "params.id (the task id) is required",
                violations=[{"field": "$.id", "description": "required string"}],
            )
        stored = await self.store.get(task_id)
        if stored is None or stored.owner != call.caller_did:
            raise RpcError(JsonRpcCode.TASK_NOT_FOUND, f"task {task_id} not found")
        return stored.task

    async def get_task(self, params: Any, call: CallInfo) -> Task | dict[str, Any]:
        """GetTask: the task as stored (only its owner sees it)."""
        task = await self._owned(params, call)
        return _task_view(task, params.get("historyLength"))

    async def cancel_task(self, params: Any, call: CallInfo) -> Task | dict[str, Any]:
        """CancelTask: cancel a live task; a finished one is not cancelable (-32002)."""
        task = await self._owned(params, call)
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

    async def list_tasks(self, params: Any, call: CallInfo) -> dict[str, Any]:
        """ListTasks: the caller's tasks, newest first, paged."""
        params = _params_object(params)
        page_size = params.get("pageSize", 50)
        if (
            not isinstance(page_size, int)
            or isinstance(page_size, bool)
            or not 1 <= page_size <= _MAX_PAGE
        ):
            raise _invalid(
                f"pageSize must be an integer from 1 to {_MAX_PAGE}",
                violations=[{"field": "$.pageSize", "description": f"1..{_MAX_PAGE}"}],
            )
        state: TaskState | None = None
        if params.get("status") not in (None, "", TaskState.UNSPECIFIED.value):
            try:
                state = TaskState(params["status"])
            except ValueError as exc:
                raise _invalid(
                    f"unknown task state {params['status']!r}",
                    violations=[{"field": "$.status", "description": "a TASK_STATE_* value"}],
                ) from exc
        context_id = params.get("contextId") or None
        try:
            page = await self.store.list(
                call.caller_did,
                context_id=context_id if isinstance(context_id, str) else None,
                state=state,
                page_size=page_size,
                page_token=str(params.get("pageToken") or ""),
            )
        except ValueError as exc:
            raise _invalid(
                str(exc), violations=[{"field": "$.pageToken", "description": "invalid"}]
            ) from exc
        include = bool(params.get("includeArtifacts", False))
        return {
            "tasks": [_task_view(t, params.get("historyLength"), include) for t in page.tasks],
            "nextPageToken": page.next_page_token,
            "pageSize": page_size,
            "totalSize": page.total_size,
        }

    async def subscribe_to_task(self, params: Any, call: CallInfo) -> AsyncIterator[dict[str, Any]]:
        """SubscribeToTask: the task now, then its updates until it settles."""
        task = await self._owned(params, call)
        if is_terminal(task.status.state):
            raise RpcError(
                JsonRpcCode.UNSUPPORTED_OPERATION,
                f"task {task.id} is {task.status.state.value}: nothing to subscribe to",
            )
        queue = self.runner.subscribe(task.id)
        snapshot = task.to_json_dict()

        async def events() -> AsyncIterator[dict[str, Any]]:
            yield {"task": snapshot}
            if queue is not None:
                async for event in self.runner.drain(queue):
                    yield event

        return events()
