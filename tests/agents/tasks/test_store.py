"""One contract for every task store; the SQLite store also survives a reopen."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from woa_agents.tasks import InMemoryTaskStore, SqliteTaskStore, TaskStore
from woa_protocol.models import Task, TaskState, TaskStatus


def task(i: int, state: TaskState = TaskState.COMPLETED, context: str = "c1") -> Task:
    return Task(id=f"t{i}", context_id=context, status=TaskStatus(state=state))


@pytest.fixture(params=["memory", "sqlite"])
async def store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[TaskStore]:
    s: TaskStore = (
        InMemoryTaskStore() if request.param == "memory" else SqliteTaskStore(tmp_path / "tasks.db")
    )
    await s.open()
    yield s
    await s.close()


async def test_save_get_and_owner_is_kept(store: TaskStore) -> None:
    await store.save(task(1, TaskState.WORKING), "did:key:a")
    await store.save(task(1, TaskState.COMPLETED), "did:key:b")
    stored = await store.get("t1")
    assert stored is not None
    assert stored.owner == "did:key:a"
    assert stored.task.status.state is TaskState.COMPLETED
    assert await store.get("missing") is None


async def test_list_filters_and_pages(store: TaskStore) -> None:
    for i in range(5):
        await store.save(task(i, context="c1" if i % 2 else "c2"), "did:key:a")
    await store.save(task(9), None)
    page = await store.list("did:key:a", page_size=2)
    assert [t.id for t in page.tasks] == ["t4", "t3"]
    assert page.total_size == 5
    rest = await store.list("did:key:a", page_size=10, page_token=page.next_page_token)
    assert [t.id for t in rest.tasks] == ["t2", "t1", "t0"]
    assert rest.next_page_token == ""
    assert [t.id for t in (await store.list("did:key:a", context_id="c1")).tasks] == ["t3", "t1"]
    assert (await store.list(None)).total_size == 1
    assert (await store.list("did:key:a", state=TaskState.FAILED)).tasks == []
    with pytest.raises(ValueError, match="page token"):
        await store.list("did:key:a", page_token="x")


@pytest.mark.req("AGT-026")
async def test_sqlite_store_survives_reopen(tmp_path: Path) -> None:
    path = tmp_path / "tasks.db"
    async with SqliteTaskStore(path) as first:
        await first.save(task(1), "did:key:a")
    async with SqliteTaskStore(path) as second:
        stored = await second.get("t1")
        assert stored is not None
        assert stored.task == task(1)
        assert stored.owner == "did:key:a"


async def test_sqlite_store_must_be_opened(tmp_path: Path) -> None:
    with pytest.raises(RuntimeError, match="open"):
        await SqliteTaskStore(tmp_path / "x.db").get("t1")


@pytest.mark.req("AGT-026")
async def test_completed_task_survives_an_agent_restart(tmp_path: Path) -> None:
    from woa_agents import connect
    from woa_protocol import SigningKey

    from ..conftest import EchoOut, make_agent

    agent_key, caller = SigningKey.generate(), SigningKey.generate()
    path = tmp_path / "agent-tasks.db"
    async with connect(make_agent(key=agent_key, store=SqliteTaskStore(path)), key=caller) as c:
        task = await c.send("echo", {"text": "keep me"})
        assert isinstance(task, Task)
        assert task.status.state == TaskState.COMPLETED
    restarted = make_agent(key=agent_key, store=SqliteTaskStore(path))
    async with connect(restarted, key=caller) as client:
        again = await client.get_task(task.id)
        assert again.status.state == TaskState.COMPLETED
        assert again.artifacts is not None
        data = again.artifacts[0].parts[0].data
        assert EchoOut.model_validate(data) == EchoOut(text="keep me", caller=caller.did)
    async with connect(restarted, key=SigningKey.generate()) as stranger:
        with pytest.raises(Exception, match="not found"):
            await stranger.get_task(task.id)


async def test_memory_store_is_bounded_and_keeps_live_tasks() -> None:
    store = InMemoryTaskStore(max_tasks=3)
    await store.save(task(0, TaskState.WORKING), "a")
    for i in range(1, 6):
        await store.save(task(i), "a")
    kept = [t.id for t in (await store.list("a", page_size=10)).tasks]
    assert kept == ["t5", "t4", "t0"]  # the live task survives, the oldest finished go
    with pytest.raises(ValueError, match="max_tasks"):
        InMemoryTaskStore(max_tasks=0)


async def test_memory_store_keeps_finished_tasks_out_of_the_garbage_collector() -> None:
    import gc

    store = InMemoryTaskStore()
    live = task(0, TaskState.WORKING)
    await store.save(live, "a")
    for i in range(1, 50):
        await store.save(task(i), "a")
    gc.collect()
    entries = store._tasks
    assert not any(gc.is_tracked(entries[f"t{i}"]) for i in range(1, 50))
    stored = await store.get("t0")
    assert stored is not None
    assert stored.task is live  # a live task is the object the runner updates


async def test_memory_store_returns_finished_tasks_as_copies_in_wire_form() -> None:
    from datetime import UTC, datetime

    from woa_protocol.models import Artifact, Message, Part, Role

    store = InMemoryTaskStore()
    done = Task(
        id="t1",
        context_id="c1",
        status=TaskStatus(
            state=TaskState.COMPLETED, timestamp=datetime(2026, 12, 2, 3, 4, 5, 6000, tzinfo=UTC)
        ),
        history=[Message(message_id="m", role=Role.USER, parts=[Part(data={"a": [1, None]})])],
        artifacts=[Artifact(artifact_id="result", parts=[Part(data={"b": "é"})])],
        metadata={"woa.skill": "echo", "woa.parentSpanId": None},
    )
    await store.save(done, "a")
    first, second = await store.get("t1"), await store.get("t1")
    assert first is not None
    assert second is not None
    assert first.task == done
    assert first.task.to_json_dict() == done.to_json_dict()
    assert first.task is not second.task
    first.task.status.state = TaskState.FAILED  # a caller's change does not reach the store
    again = await store.get("t1")
    assert again is not None
    assert again.task.status.state is TaskState.COMPLETED


async def test_save_settled_keeps_the_json_given(store: TaskStore) -> None:
    done = task(1)
    await store.save(task(1, TaskState.WORKING), "did:key:a")
    wire = done.model_dump_json(by_alias=True, exclude_none=True).encode()
    await store.save_settled(done, "did:key:b", wire)
    stored = await store.get("t1")
    assert stored is not None
    assert stored.owner == "did:key:a"
    assert stored.task == done
    assert (await store.list("did:key:a", state=TaskState.COMPLETED)).total_size == 1


async def test_save_settled_defaults_to_save_for_a_store_without_it() -> None:
    class Recording(InMemoryTaskStore):
        saved: list[Task]

        async def save(self, task: Task, owner: str | None) -> None:
            self.saved = [*getattr(self, "saved", []), task]
            await super().save(task, owner)

        save_settled = TaskStore.save_settled  # what a store written before the hook has

    store = Recording()
    done = task(1)
    await store.save_settled(done, "a", b"ignored by the default")
    assert store.saved == [done]
    stored = await store.get("t1")
    assert stored is not None
    assert stored.task == done


@pytest.mark.parametrize("kind", ["memory", "sqlite"])
async def test_a_subclass_that_extends_save_sees_settled_saves(kind: str, tmp_path: Path) -> None:
    base: type[TaskStore] = InMemoryTaskStore if kind == "memory" else SqliteTaskStore
    seen: list[TaskState] = []

    class Audited(base):  # type: ignore[valid-type,misc]
        async def save(self, task: Task, owner: str | None) -> None:
            seen.append(task.status.state)
            await super().save(task, owner)

    store: TaskStore = Audited() if kind == "memory" else Audited(tmp_path / "t.db")
    await store.open()
    done = task(1)
    await store.save_settled(done, "a", done.model_dump_json(by_alias=True).encode())
    assert seen == [TaskState.COMPLETED]
    stored = await store.get("t1")
    assert stored is not None
    assert stored.task == done
    await store.close()


@pytest.mark.req("AGT-028")
async def test_tasks_arriving_while_paging_do_not_shift_pages(store: TaskStore) -> None:
    for i in range(6):
        await store.save(task(i), "did:key:a")
    first = await store.list("did:key:a", page_size=2)
    assert [t.id for t in first.tasks] == ["t5", "t4"]
    for i in range(10, 13):  # three new tasks, newest first in the order
        await store.save(task(i), "did:key:a")
    seen = [t.id for t in first.tasks]
    token = first.next_page_token
    while token:
        page = await store.list("did:key:a", page_size=2, page_token=token)
        seen += [t.id for t in page.tasks]
        token = page.next_page_token
    assert seen == ["t5", "t4", "t3", "t2", "t1", "t0"]  # each once, none repeated


@pytest.mark.req("AGT-028")
@pytest.mark.parametrize("token", ["2", "k", "k!!", "kWzFd", "kbnVsbA", "x"])
async def test_page_tokens_that_name_no_position_are_refused(store: TaskStore, token: str) -> None:
    await store.save(task(1), "did:key:a")
    with pytest.raises(ValueError, match="page token"):
        await store.list("did:key:a", page_token=token)
