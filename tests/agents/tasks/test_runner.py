"""The runner serialises an ended task once: the store and the answer get the same bytes."""

from __future__ import annotations

import pydantic_core
from pydantic import BaseModel

from woa_agents.skills import Skill
from woa_agents.tasks import InMemoryTaskStore, TaskRunner, TaskStore
from woa_agents.tasks import runner as runner_module
from woa_agents.tracing import TraceContext
from woa_protocol.models import Message, ModelFamily, Part, Role, Task, TaskState


class Text(BaseModel):
    text: str


async def _echo(value: Text) -> Text:
    return value


class _Spy(InMemoryTaskStore):
    def __init__(self) -> None:
        super().__init__()
        self.settled: list[bytes] = []

    async def save_settled(self, task: Task, owner: str | None, wire: bytes) -> None:
        self.settled.append(wire)
        await super().save_settled(task, owner, wire)


def _message() -> Message:
    return Message(message_id="m1", role=Role.USER, parts=[Part(data={"text": "hi"})])


async def _run(runner: TaskRunner, skill: Skill) -> Task:
    return await runner.start(
        skill, Text(text="hi"), _message(), owner="did:key:a", trace=TraceContext.new(), inline=True
    )


def _skill() -> Skill:
    return Skill(
        id="echo",
        name="echo",
        description="echoes",
        handler=_echo,
        input_model=Text,
        output_model=Text,
        family=ModelFamily.CLASSICAL,
    )


async def test_an_ended_task_is_written_once_for_the_store_and_the_answer() -> None:
    store = _Spy()
    runner = TaskRunner(store)
    task = await _run(runner, _skill())
    assert task.status.state is TaskState.COMPLETED
    (wire,) = store.settled
    assert wire == pydantic_core.to_json(task, by_alias=True, exclude_none=True)
    assert runner.settled_json(task.id) == wire
    assert runner.settled_json(task.id) is None  # handed out once


async def test_unclaimed_task_json_is_bounded() -> None:
    store: TaskStore = InMemoryTaskStore()
    runner = TaskRunner(store)
    skill = _skill()
    ids = [(await _run(runner, skill)).id for _ in range(runner_module._SETTLED_JSON_KEPT + 5)]
    assert len(runner._settled_json) == runner_module._SETTLED_JSON_KEPT
    assert runner.settled_json(ids[0]) is None  # the oldest were dropped
    assert runner.settled_json(ids[-1]) is not None
