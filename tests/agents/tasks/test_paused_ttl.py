"""Tasks paused for input are canceled once their TTL passes, not kept for ever (AGT-029)."""

from __future__ import annotations

import pytest
from pydantic import BaseModel

from woa_agents import InputRequired
from woa_agents.skills import Skill
from woa_agents.tasks import InMemoryTaskStore, TaskRunner
from woa_agents.tasks import runner as runner_module
from woa_agents.tracing import TraceContext
from woa_protocol.models import Message, ModelFamily, Part, Role, Task, TaskState


class Text(BaseModel):
    text: str


async def _ask(value: Text) -> Text:
    if value.text != "answer":
        raise InputRequired("say 'answer'")
    return value


SKILL = Skill(
    id="ask",
    name="ask",
    description="asks once",
    handler=_ask,
    input_model=Text,
    output_model=Text,
    family=ModelFamily.CLASSICAL,
)


class Clock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


async def _start(runner: TaskRunner, text: str = "hi") -> Task:
    message = Message(message_id=text, role=Role.USER, parts=[Part(data={"text": text})])
    return await runner.start(
        SKILL, Text(text=text), message, owner=None, trace=TraceContext.new(), inline=True
    )


@pytest.mark.req("AGT-029")
async def test_a_paused_task_is_canceled_after_its_ttl() -> None:
    store = InMemoryTaskStore()
    task = await _start(TaskRunner(store))  # real clock: the task paused just now
    assert task.status.state is TaskState.INPUT_REQUIRED
    clock = Clock(task.status.timestamp.timestamp() if task.status.timestamp else 0.0)
    runner = TaskRunner(store, paused_ttl=60, clock=clock)
    paused = await _start(runner)
    clock.now += 59
    assert await runner.expire_paused() == []
    assert runner.resumable(paused.id) is not None
    clock.now += 2
    assert await runner.expire_paused() == [paused.id]
    assert runner.resumable(paused.id) is None  # the run is gone from memory
    stored = await store.get(paused.id)
    assert stored is not None
    assert stored.task.status.state is TaskState.CANCELED
    assert "no input within 60 s" in str(stored.task.status.message)


@pytest.mark.req("AGT-029")
async def test_the_sweep_runs_by_itself_when_tasks_start(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(runner_module.PAUSED_TTL_ENV, "100")
    clock = Clock(0.0)
    runner = TaskRunner(InMemoryTaskStore(), clock=clock)
    assert runner.paused_ttl == 100
    clock.now = (await _start(runner)).status.timestamp.timestamp()  # type: ignore[union-attr]
    paused_ids = list(runner._runs)
    clock.now += 101
    done = await _start(runner, "answer")  # starting any task sweeps (every ttl/10 s)
    assert done.status.state is TaskState.COMPLETED
    assert all(runner.resumable(i) is None for i in paused_ids)
