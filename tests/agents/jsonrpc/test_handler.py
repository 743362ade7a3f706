"""Task operations through the binding: lifecycle, cancel, list, subscribe, ownership."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest

from woa_agents import Agent
from woa_protocol import SigningKey

from ..conftest import RawCaller, message


async def send(raw: RawCaller, skill: str, data: Any, **config: Any) -> dict[str, Any]:
    params: dict[str, Any] = {"message": message(skill, data)}
    if config:
        params["configuration"] = config
    body = await raw.rpc("SendMessage", params)
    assert "result" in body, body
    task: dict[str, Any] = body["result"]["task"]
    return task


@pytest.mark.req("AGT-001")
@pytest.mark.req("AGT-013")
async def test_send_message_returns_completed_task_with_result_artifact(raw: RawCaller) -> None:
    task = await send(raw, "echo", {"text": "ab", "times": 2})
    assert task["status"]["state"] == "TASK_STATE_COMPLETED"
    assert task["status"]["timestamp"].endswith("Z")
    (artifact,) = task["artifacts"]
    assert artifact["artifactId"] == "result"
    assert artifact["parts"] == [{"data": {"text": "abab", "caller": raw.key.did}}]  # type: ignore[union-attr]
    fetched = (await raw.rpc("GetTask", {"id": task["id"]}))["result"]
    assert fetched["id"] == task["id"]
    assert fetched["artifacts"] == task["artifacts"]
    trimmed = (await raw.rpc("GetTask", {"id": task["id"], "historyLength": 0}))["result"]
    assert "history" not in trimmed


@pytest.mark.req("AGT-021")
async def test_failing_and_rejecting_handlers(raw: RawCaller) -> None:
    failed = await send(raw, "fail", {"text": "x"})
    assert failed["status"]["state"] == "TASK_STATE_FAILED"
    assert "cannot do x" in failed["status"]["message"]["parts"][0]["text"]
    rejected = await send(raw, "reject", {"text": "x"})
    assert rejected["status"]["state"] == "TASK_STATE_REJECTED"
    broken = await send(raw, "bad_output", {"text": "x"})
    assert broken["status"]["state"] == "TASK_STATE_FAILED"


@pytest.mark.req("AGT-021")
@pytest.mark.req("AGT-022")
async def test_return_immediately_then_cancel(raw: RawCaller, agent: Agent) -> None:
    task = await send(raw, "wait", {"text": "gate-1"}, returnImmediately=True)
    assert task["status"]["state"] == "TASK_STATE_SUBMITTED"
    await asyncio.sleep(0.01)
    working = (await raw.rpc("GetTask", {"id": task["id"]}))["result"]
    assert working["status"]["state"] == "TASK_STATE_WORKING"
    canceled = (await raw.rpc("CancelTask", {"id": task["id"]}))["result"]
    assert canceled["status"]["state"] == "TASK_STATE_CANCELED"
    again = await raw.rpc("CancelTask", {"id": task["id"]})
    assert again["error"]["code"] == -32002
    stored = (await raw.rpc("GetTask", {"id": task["id"]}))["result"]
    assert stored["status"]["state"] == "TASK_STATE_CANCELED"


@pytest.mark.req("AGT-022")
async def test_cancel_of_finished_or_unknown_task(raw: RawCaller) -> None:
    task = await send(raw, "echo", {"text": "done"})
    body = await raw.rpc("CancelTask", {"id": task["id"]})
    assert body["error"]["code"] == -32002
    stored = (await raw.rpc("GetTask", {"id": task["id"]}))["result"]
    assert stored["status"]["state"] == "TASK_STATE_COMPLETED"  # unchanged
    assert (await raw.rpc("CancelTask", {"id": "nope"}))["error"]["code"] == -32001
    assert (await raw.rpc("GetTask", {"id": "nope"}))["error"]["code"] == -32001
    assert (await raw.rpc("GetTask", {}))["error"]["code"] == -32602


@pytest.mark.req("AGT-023")
async def test_streaming_message_events(raw: RawCaller) -> None:
    payload = {
        "jsonrpc": "2.0",
        "id": 7,
        "method": "SendStreamingMessage",
        "params": {"message": message("count", {"n": 2})},
    }
    response = await raw.post(payload)
    assert response.headers["content-type"] == "text/event-stream"
    frames = [
        json.loads(line[6:]) for line in response.text.splitlines() if line.startswith("data: ")
    ]
    results = [f["result"] for f in frames]
    assert all(f["id"] == 7 for f in frames)
    assert list(results[0]) == ["task"]
    kinds = [next(iter(r)) for r in results[1:]]
    states = [r["statusUpdate"]["status"]["state"] for r in results if "statusUpdate" in r]
    assert states[0] == "TASK_STATE_WORKING"
    assert states[-1] == "TASK_STATE_COMPLETED"
    progress = [
        r["statusUpdate"]["status"]["message"]["parts"][0]["text"]
        for r in results
        if "statusUpdate" in r and "message" in r["statusUpdate"]["status"]
    ]
    assert progress == ["step 1", "step 2"]
    artifacts = [r["artifactUpdate"] for r in results if "artifactUpdate" in r]
    # one artifact: chunks appended to the first, then the result sent whole (AGT-017)
    assert {a["artifact"]["artifactId"] for a in artifacts} == {"result"}
    assert [a["append"] for a in artifacts] == [False, True, False]
    assert [a["lastChunk"] for a in artifacts] == [False, False, True]
    assert artifacts[-1]["artifact"]["parts"][0]["data"] == {"total": 2}
    assert kinds[-1] == "statusUpdate"


@pytest.mark.req("AGT-023")
async def test_subscribe_to_running_and_finished_task(raw: RawCaller, agent: Agent) -> None:
    task = await send(raw, "wait", {"text": "gate-2"}, returnImmediately=True)
    payload = {"jsonrpc": "2.0", "id": 1, "method": "SubscribeToTask", "params": {"id": task["id"]}}

    async def subscribe() -> list[dict[str, Any]]:
        response = await raw.post(payload)
        return [
            json.loads(line[6:])["result"]
            for line in response.text.splitlines()
            if line.startswith("data: ")
        ]

    listener = asyncio.create_task(subscribe())
    await asyncio.sleep(0.05)
    agent.gate.setdefault("gate-2", asyncio.Event()).set()  # type: ignore[attr-defined]
    events = await asyncio.wait_for(listener, 5)
    assert "task" in events[0]
    assert events[-1]["statusUpdate"]["status"]["state"] == "TASK_STATE_COMPLETED"
    finished = await raw.rpc("SubscribeToTask", {"id": task["id"]})
    assert finished["error"]["code"] == -32004


@pytest.mark.req("AGT-025")
async def test_input_required_then_resumed(raw: RawCaller) -> None:
    task = await send(raw, "ask", {"text": "hello"})
    assert task["status"]["state"] == "TASK_STATE_INPUT_REQUIRED"
    assert "your name" in task["status"]["message"]["parts"][0]["text"]
    follow = message(None, {"text": "name:ada"}, taskId=task["id"])
    resumed = (await raw.rpc("SendMessage", {"message": follow}))["result"]["task"]
    assert resumed["id"] == task["id"]
    assert resumed["status"]["state"] == "TASK_STATE_COMPLETED"
    assert resumed["artifacts"][0]["parts"][0]["data"]["text"] == "hello ada after 2 messages"
    late = await raw.rpc(
        "SendMessage", {"message": message("ask", {"text": "x"}, taskId=task["id"])}
    )
    assert late["error"]["code"] == -32004


@pytest.mark.req("AGT-024")
async def test_tasks_are_visible_to_their_caller_only(raw: RawCaller) -> None:
    task = await send(raw, "echo", {"text": "mine"})
    other = RawCaller(raw.app, SigningKey.generate())  # type: ignore[attr-defined]
    assert (await other.rpc("GetTask", {"id": task["id"]}))["error"]["code"] == -32001
    assert (await other.rpc("CancelTask", {"id": task["id"]}))["error"]["code"] == -32001
    assert (await other.rpc("SubscribeToTask", {"id": task["id"]}))["error"]["code"] == -32001
    follow = message("ask", {"text": "x"}, taskId=task["id"])
    assert (await other.rpc("SendMessage", {"message": follow}))["error"]["code"] == -32001
    assert (await other.rpc("ListTasks", {}))["result"]["tasks"] == []
    await other.http.aclose()


@pytest.mark.req("AGT-001")
async def test_list_tasks_pages_newest_first(raw: RawCaller) -> None:
    ids = [(await send(raw, "echo", {"text": str(i)}))["id"] for i in range(5)]
    first = (await raw.rpc("ListTasks", {"pageSize": 2}))["result"]
    assert [t["id"] for t in first["tasks"]] == ids[::-1][:2]
    assert first["totalSize"] == 5
    assert "artifacts" not in first["tasks"][0]
    second = await raw.rpc("ListTasks", {"pageSize": 2, "pageToken": first["nextPageToken"]})
    assert [t["id"] for t in second["result"]["tasks"]] == ids[::-1][2:4]
    full = (await raw.rpc("ListTasks", {"pageSize": 10, "includeArtifacts": True}))["result"]
    assert full["nextPageToken"] == ""
    assert "artifacts" in full["tasks"][0]
    done = (await raw.rpc("ListTasks", {"status": "TASK_STATE_COMPLETED"}))["result"]
    assert done["totalSize"] == 5
    assert (await raw.rpc("ListTasks", {"pageSize": 0}))["error"]["code"] == -32602
    assert (await raw.rpc("ListTasks", {"status": "DONE"}))["error"]["code"] == -32602
    assert (await raw.rpc("ListTasks", {"pageToken": "zz"}))["error"]["code"] == -32602


@pytest.mark.req("AGT-021")
async def test_first_stored_state_is_working_for_a_blocking_call_else_submitted() -> None:
    from woa_agents.tasks import InMemoryTaskStore
    from woa_protocol.models import Task, TaskState

    from ..conftest import make_agent

    class Recording(InMemoryTaskStore):
        def __init__(self) -> None:
            super().__init__()
            self.saved: dict[str, list[TaskState]] = {}

        async def save(self, task: Task, owner: str | None) -> None:
            self.saved.setdefault(task.id, []).append(task.status.state)
            await super().save(task, owner)

    store = Recording()
    agent = make_agent(store=store)
    app = agent.app("http://agent.test/")
    async with app.router.lifespan_context(app):
        raw = RawCaller(app, SigningKey.generate())
        blocking = await send(raw, "echo", {"text": "x"})
        later = await send(raw, "echo", {"text": "y"}, returnImmediately=True)
        for _ in range(100):
            if store.saved[later["id"]][-1] is TaskState.COMPLETED:
                break
            await asyncio.sleep(0.01)
        await raw.http.aclose()
    assert store.saved[blocking["id"]] == [TaskState.WORKING, TaskState.COMPLETED]
    assert store.saved[later["id"]] == [
        TaskState.SUBMITTED,
        TaskState.WORKING,
        TaskState.COMPLETED,
    ]
