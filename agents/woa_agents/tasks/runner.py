"""Runs skill handlers as tasks: state changes through the table, events to subscribers.

Each started task runs in its own ``asyncio.Task`` so that CancelTask can cancel it. Every
state change is checked against :data:`~woa_agents.tasks.states.TRANSITIONS`, saved in the
store, and published to the task's subscribers as A2A stream events (``statusUpdate``,
``artifactUpdate``), in wire form. The stream of SendStreamingMessage ends after a
terminal or interrupted (input-required, auth-required) state; a SubscribeToTask stream
only after a terminal one (spec AGT-023).

Partial results stream as chunks of the result artifact (``artifactId`` ``"result"``):
the first with ``append: false``, the next ones with ``append: true``; the finished
artifact is then sent whole with ``lastChunk: true`` and is what GetTask returns (adjacent
text chunks joined into one text part).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from woa_protocol.ids import random_hex
from woa_protocol.models import Artifact, Message, Part, Role, Task, TaskState, TaskStatus

from ..context import InputRequired, Partial, Progress, Rejected, SkillContext
from ..parts import output_parts
from ..skills import RESULT_ARTIFACT_ID, Skill
from ..tracing import TraceContext, current_trace
from .states import check_transition, is_terminal
from .store import TaskStore

__all__ = ["DEFAULT_PAUSED_TTL", "PAUSED_TTL_ENV", "RESULT_ARTIFACT_ID", "TaskRunner"]

log = logging.getLogger(__name__)

DEFAULT_PAUSED_TTL = 3600.0
"""Seconds a task may stay paused for input before it is canceled (AGT-029)."""
PAUSED_TTL_ENV = "WOA_AGENT_PAUSED_TASK_TTL_SECONDS"
"""Environment variable that sets the paused-task TTL for every agent in the process."""
_INTERRUPTED = frozenset({TaskState.INPUT_REQUIRED, TaskState.AUTH_REQUIRED})
_SETTLED_JSON_KEPT = 256


def _new_id() -> str:
    """A random 128-bit id in hex (as ``uuid4().hex`` writes it, at a tenth of its cost)."""
    return random_hex(16)


def _now() -> datetime:
    return datetime.now(UTC)


def _agent_text(text: str) -> Message:
    return Message(message_id=_new_id(), role=Role.AGENT, parts=[Part(text=text)])


def _status(state: TaskState, message: Message | None = None) -> TaskStatus:
    return TaskStatus(state=state, message=message, timestamp=_now())


_Queue = asyncio.Queue[dict[str, Any] | None]


def _merge_text(parts: list[Part], more: list[Part]) -> list[Part]:
    """``parts + more``, a text part following a text part joined to it."""
    out = list(parts)
    for part in more:
        if out and part.text is not None and out[-1].text is not None and not part.metadata:
            out[-1] = out[-1].model_copy(update={"text": out[-1].text + part.text})
        else:
            out.append(part)
    return out


@dataclass
class _Run:
    task: Task
    owner: str | None
    skill: Skill
    subscribers: list[tuple[_Queue, bool]] = field(default_factory=list)
    """Each subscriber's queue, and whether it stays open through interruptions."""
    streamed: list[Part] = field(default_factory=list)
    unsaved: bool = False
    """Not stored yet: a Message result may still answer instead of the task (AGT-018)."""
    reply: Message | None = None
    job: asyncio.Task[Any] | None = None
    inline: bool = False
    settled: asyncio.Event = field(default_factory=asyncio.Event)


class TaskRunner:
    """Starts, tracks, cancels and publishes tasks of one agent."""

    def __init__(
        self,
        store: TaskStore,
        *,
        paused_ttl: float | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.store = store
        self._runs: dict[str, _Run] = {}
        self._settled_json: dict[str, bytes] = {}
        if paused_ttl is None:
            paused_ttl = float(os.environ.get(PAUSED_TTL_ENV, DEFAULT_PAUSED_TTL))
        self.paused_ttl = paused_ttl
        """Seconds a task may wait in input-required/auth-required before it is canceled."""
        self._clock = clock
        self._next_sweep = clock() + paused_ttl / 10

    # -- starting and resuming -----------------------------------------------------------

    async def start(
        self,
        skill: Skill,
        value: Any,
        message: Message,
        *,
        owner: str | None,
        trace: TraceContext,
        run: _Run | None = None,
        inline: bool = False,
    ) -> Task:
        """Create (or resume) the task for ``message`` and run its handler.

        By default the handler runs in a task of its own and this returns at once. With
        ``inline`` it runs in the caller's task and this returns when the task settles
        (the fast path of a blocking SendMessage: no extra task, no extra wake-ups);
        CancelTask then cancels the caller's task, and the cancellation is absorbed here.
        """
        if run is None:
            if self._clock() >= self._next_sweep:  # a cheap check; the sweep is rare
                await self.expire_paused()
            task = Task(
                id=_new_id(),
                context_id=message.context_id or _new_id(),
                # run inline, the task starts at once: no one can see it submitted
                status=_status(TaskState.WORKING if inline else TaskState.SUBMITTED),
                history=[message],
                metadata={
                    "woa.skill": skill.id,
                    "woa.traceId": trace.trace_id,
                    "woa.spanId": trace.span_id,
                    "woa.parentSpanId": trace.parent_id,
                },
            )
            run = _Run(task, owner, skill)
            self._runs[task.id] = run
            if inline and skill.may_reply:  # nobody knows the task yet: store it on change
                run.unsaved = True
            else:
                await self.store.save(task, owner)
        else:
            run.task.history = [*(run.task.history or []), message]
            run.settled = asyncio.Event()
            run.streamed = []
            # working before this returns: a waiter must not see the old interrupted state
            await self._set_state(run, TaskState.WORKING)
        ctx = None
        if skill.wants_context:  # a handler that takes no context cannot use one
            ctx = SkillContext(
                skill_id=skill.id,
                task_id=run.task.id,
                context_id=run.task.context_id,
                caller_did=owner,
                trace=trace,
                history=list(run.task.history or []),
            )
            ctx._emit = lambda item: self._emit(run, item)
        run.inline = inline
        if inline:
            run.job = asyncio.current_task()
            await self._execute(run, value, ctx, trace, inline=True)
        else:
            run.job = asyncio.create_task(self._execute(run, value, ctx, trace))
        return run.task

    def resumable(self, task_id: str) -> _Run | None:
        """The run of a task paused in input-required or auth-required, if this process has it."""
        run = self._runs.get(task_id)
        if run is not None and run.task.status.state in _INTERRUPTED:
            return run
        return None

    async def expire_paused(self) -> list[str]:
        """Cancel the tasks paused longer than :attr:`paused_ttl`; return their ids (AGT-029).

        A paused task holds its run in memory until input arrives; a caller that never
        answers must not keep it for ever. Runs on its own every ``paused_ttl / 10``
        seconds, when a new task starts.
        """
        now = self._clock()
        self._next_sweep = now + self.paused_ttl / 10
        expired = []
        for run in list(self._runs.values()):
            status = run.task.status
            if status.state not in _INTERRUPTED or status.timestamp is None:
                continue
            if now - status.timestamp.timestamp() < self.paused_ttl:
                continue
            text = f"no input within {self.paused_ttl:g} s: the paused task was canceled"
            await self._set_state(run, TaskState.CANCELED, _agent_text(text))
            expired.append(run.task.id)
        return expired

    # -- observing -----------------------------------------------------------------------

    async def wait(self, task_id: str) -> Task:
        """Wait until the task is terminal or interrupted; return it."""
        run = self._runs.get(task_id)
        if run is None:
            stored = await self.store.get(task_id)
            if stored is None:
                raise KeyError(task_id)
            return stored.task
        await run.settled.wait()
        return run.task

    def take_reply(self, task_id: str) -> Message | None:
        """The Message a handler answered with instead of the task (then no task exists)."""
        run = self._runs.get(task_id)
        if run is None or run.reply is None:
            return None
        del self._runs[task_id]
        return run.reply

    def settled_json(self, task_id: str) -> bytes | None:
        """Take the JSON of a task that ended here: the bytes its store got, or None.

        Kept for the last few tasks that reached a terminal state, so that the answer
        that reports one writes the bytes already written for the store; each is handed
        out once.
        """
        return self._settled_json.pop(task_id, None)

    def subscribe(self, task_id: str, *, until_terminal: bool = False) -> _Queue | None:
        """Return a queue of the task's future events (None ends it), or None if not live.

        The queue ends when the task settles, or with ``until_terminal`` only when it
        reaches a terminal state (an interrupted task may be subscribed to and resumed).
        """
        run = self._runs.get(task_id)
        if run is None or is_terminal(run.task.status.state):
            return None
        if run.settled.is_set() and not until_terminal:
            return None
        queue: _Queue = asyncio.Queue()
        run.subscribers.append((queue, until_terminal))
        return queue

    @staticmethod
    async def drain(queue: _Queue) -> AsyncIterator[dict[str, Any]]:
        """Yield events from a subscription until it ends."""
        while (event := await queue.get()) is not None:
            yield event

    # -- cancelling ----------------------------------------------------------------------

    async def cancel(self, task_id: str) -> Task | None:
        """Cancel a live task; return it, or None when this process does not run it."""
        run = self._runs.get(task_id)
        if run is None or is_terminal(run.task.status.state):
            return None
        job = run.job
        if job is not None and not job.done() and not run.settled.is_set():
            job.cancel()
            if run.inline:  # the job is a request's task: it settles the run and answers
                await run.settled.wait()
            else:
                with contextlib.suppress(asyncio.CancelledError):
                    await job
        if not is_terminal(run.task.status.state):  # paused: no running handler
            await self._set_state(run, TaskState.CANCELED, _agent_text("canceled by the caller"))
        return run.task

    async def close(self) -> None:
        """Cancel every running handler (agent shutdown)."""
        for run in list(self._runs.values()):
            job = run.job
            if job is not None and not job.done() and not run.settled.is_set():
                job.cancel()
                with contextlib.suppress(TimeoutError, asyncio.CancelledError):
                    await asyncio.wait_for(
                        run.settled.wait() if run.inline else asyncio.shield(job), 5
                    )

    # -- internals -----------------------------------------------------------------------

    async def _execute(
        self,
        run: _Run,
        value: Any,
        ctx: SkillContext | None,
        trace: TraceContext,
        *,
        inline: bool = False,
    ) -> None:
        token = current_trace.set(trace)
        try:
            if run.task.status.state is not TaskState.WORKING:
                await self._set_state(run, TaskState.WORKING)
            output: Any = None
            if run.skill.streaming:
                async for item in run.skill.invoke(value, ctx):
                    if isinstance(item, Progress | Partial):
                        await self._emit(run, item)
                    else:
                        output = item
            else:
                output = await run.skill.invoke(value, ctx)
            if isinstance(output, Message) and run.unsaved:  # answered without a task
                run.reply = output.model_copy(
                    update={"context_id": output.context_id or run.task.context_id}
                )
                run.settled.set()
                return
            artifacts, message = run.skill.results(output)
            if not artifacts and run.streamed:  # the chunks were the result
                artifacts = [self._streamed(run)]
            run.task.artifacts = artifacts or None
            if run.subscribers:
                for artifact in artifacts:
                    self._publish(run, self._artifact_event(run, artifact, append=False, last=True))
            if message is not None:
                message = message.model_copy(
                    update={"task_id": run.task.id, "context_id": run.task.context_id}
                )
            await self._set_state(run, TaskState.COMPLETED, message)
        except asyncio.CancelledError:
            await self._set_state(run, TaskState.CANCELED, _agent_text("canceled by the caller"))
            current = asyncio.current_task()
            if not inline or current is None:
                raise
            current.uncancel()  # the request that ran the task inline still answers
        except InputRequired as exc:
            await self._set_state(run, TaskState.INPUT_REQUIRED, _agent_text(exc.question))
        except Rejected as exc:
            await self._set_state(run, TaskState.REJECTED, _agent_text(exc.reason))
        except Exception as exc:
            log.warning("skill %s failed: %r", run.skill.id, exc)
            await self._set_state(
                run, TaskState.FAILED, _agent_text(f"{type(exc).__name__}: {exc}")
            )
        finally:
            current_trace.reset(token)
            if not run.settled.is_set():  # a bug above must not leave waiters hanging
                log.error("task %s ended without settling", run.task.id)
                run.settled.set()
                for queue, _ in run.subscribers:
                    queue.put_nowait(None)

    @staticmethod
    def _streamed(run: _Run) -> Artifact:
        return Artifact(artifact_id=RESULT_ARTIFACT_ID, name=RESULT_ARTIFACT_ID, parts=run.streamed)

    async def _emit(self, run: _Run, item: Progress | Partial) -> None:
        if isinstance(item, Progress):
            await self._set_state(run, TaskState.WORKING, _agent_text(item.text))
            return
        chunk = output_parts(item.data)
        first = not run.streamed
        run.streamed = _merge_text(run.streamed, chunk)
        run.task.artifacts = [self._streamed(run)]  # GetTask shows the result so far
        if run.subscribers:
            artifact = Artifact(
                artifact_id=RESULT_ARTIFACT_ID, name=RESULT_ARTIFACT_ID, parts=chunk
            )
            self._publish(run, self._artifact_event(run, artifact, append=not first, last=False))

    async def _set_state(self, run: _Run, state: TaskState, message: Message | None = None) -> None:
        check_transition(run.task.status.state, state)
        run.task.status = _status(state, message)
        run.unsaved = False
        if is_terminal(state):  # serialised once, for the store and for the answer
            wire = run.task.to_json_bytes()
            await self.store.save_settled(run.task, run.owner, wire)
            kept = self._settled_json
            kept[run.task.id] = wire
            if len(kept) > _SETTLED_JSON_KEPT:  # nobody took the oldest: drop it
                del kept[next(iter(kept))]
        else:
            await self.store.save(run.task, run.owner)
        if run.subscribers:  # events are built only when someone listens
            self._publish(
                run,
                {
                    "statusUpdate": {
                        "taskId": run.task.id,
                        "contextId": run.task.context_id,
                        "status": run.task.status.to_json_dict(),
                    }
                },
            )
        if is_terminal(state) or state in _INTERRUPTED:
            run.settled.set()
            ending = [(q, keep) for q, keep in run.subscribers if is_terminal(state) or not keep]
            for queue, _ in ending:
                queue.put_nowait(None)
            run.subscribers = [s for s in run.subscribers if s not in ending]
            if is_terminal(state):
                self._runs.pop(run.task.id, None)

    @staticmethod
    def _artifact_event(
        run: _Run, artifact: Artifact, *, append: bool, last: bool
    ) -> dict[str, Any]:
        return {
            "artifactUpdate": {
                "taskId": run.task.id,
                "contextId": run.task.context_id,
                "artifact": artifact.to_json_dict(),
                "append": append,
                "lastChunk": last,
            }
        }

    @staticmethod
    def _publish(run: _Run, event: dict[str, Any]) -> None:
        for queue, _ in run.subscribers:
            queue.put_nowait(event)
