"""The A2A TCK's MUST scenarios through the REAL a2a-sdk client, over real sockets, on both
bindings (JSON-RPC and HTTP+JSON), against the TCK system under test in ``examples/tck``
(an agent written with the SDK's public API only).

Each test names the TCK requirements whose behaviour it runs; the official TCK itself runs
from its own repository (``examples/tck/README.md``).
"""

from __future__ import annotations

import asyncio
import importlib.util
import sys
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from a2a.client import ClientConfig, create_client
from a2a.client.client import Client
from a2a.types import AgentCard as ProtoAgentCard
from a2a.types.a2a_pb2 import (
    CancelTaskRequest,
    GetTaskRequest,
    ListTasksRequest,
    Message,
    Part,
    Role,
    SendMessageConfiguration,
    SendMessageRequest,
    SubscribeToTaskRequest,
)
from a2a.utils.errors import (
    A2AError,
    ContentTypeNotSupportedError,
    TaskNotCancelableError,
    TaskNotFoundError,
    UnsupportedOperationError,
)
from a2a.utils.signing import create_signature_verifier
from google.protobuf.json_format import MessageToDict, ParseDict
from jwt import PyJWK

from woa_agents import RunningAgent
from woa_protocol import resolve_did

pytestmark = pytest.mark.interop

ROOT = Path(__file__).resolve().parents[2]
BINDINGS = ["JSONRPC", "HTTP+JSON"]


def _load_sut() -> ModuleType:
    spec = importlib.util.spec_from_file_location("tck_sut", ROOT / "examples/tck/tck_sut.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["tck_sut"] = module
    spec.loader.exec_module(module)
    return module


sut = _load_sut()


@pytest.fixture
async def running() -> AsyncIterator[RunningAgent]:
    async with sut.build(delay=0.3).running() as agent:
        yield agent


async def connect(running: RunningAgent, binding: str, *, streaming: bool = False) -> Client:
    config = ClientConfig(streaming=streaming, supported_protocol_bindings=[binding])
    return await create_client(running.url, config)


def message(prefix: str, *parts: Part, task_id: str = "", context_id: str = "") -> Message:
    return Message(
        message_id=f"{prefix}-{uuid.uuid4().hex[:8]}",
        role=Role.ROLE_USER,
        parts=list(parts) or [Part(text="hello")],
        task_id=task_id,
        context_id=context_id,
    )


async def send(client: Client, msg: Message, **config: Any) -> dict[str, Any]:
    """SendMessage; with a streaming client, the last event carrying a task or message."""
    request = SendMessageRequest(message=msg, configuration=SendMessageConfiguration(**config))
    events = [MessageToDict(e) async for e in client.send_message(request)]
    return next(e for e in reversed(events) if "task" in e or "message" in e)


@pytest.mark.req("AGT-005")
async def test_card_lists_both_bindings_and_verifies_in_a2a_sdk(running: RunningAgent) -> None:
    # CARD-DISC-001, CARD-STRUCT-001, CARD-PROTO-001
    client = await connect(running, "JSONRPC")
    await client.close()
    import httpx

    async with httpx.AsyncClient() as http:
        card = (await http.get(running.url + ".well-known/agent-card.json")).json()
    bindings = [i["protocolBinding"] for i in card["supportedInterfaces"]]
    assert bindings == ["JSONRPC", "HTTP+JSON"]
    verify = create_signature_verifier(
        lambda kid, jku: PyJWK(resolve_did(str(kid)).to_jwk()), ["EdDSA"]
    )
    verify(ParseDict(card, ProtoAgentCard(), ignore_unknown_fields=True))


@pytest.mark.req("AGT-005")
@pytest.mark.req("AGT-017")
@pytest.mark.parametrize("binding", BINDINGS)
async def test_send_message_task_and_artifacts(running: RunningAgent, binding: str) -> None:
    # CORE-SEND-001/002, CORE-EXECUTION-MODE-001, artifacts (text, file, file URL, data)
    client = await connect(running, binding)
    done = (await send(client, message("tck-complete-task")))["task"]
    assert done["status"]["state"] == "TASK_STATE_COMPLETED"
    assert done["status"]["message"]["parts"] == [{"text": "Hello from TCK"}]
    text = (await send(client, message("tck-artifact-text")))["task"]
    assert text["artifacts"][0]["parts"] == [{"text": "Generated text content"}]
    raw = (await send(client, message("tck-artifact-file")))["task"]
    assert raw["artifacts"][0]["parts"] == [
        {"raw": "dGNr", "mediaType": "text/plain", "filename": "output.txt"}
    ]
    url = (await send(client, message("tck-artifact-file-url")))["task"]
    assert url["artifacts"][0]["parts"][0]["url"] == "https://example.com/output.txt"
    data = (await send(client, message("tck-artifact-data")))["task"]
    assert data["artifacts"][0]["parts"] == [{"data": {"key": "value", "count": 42.0}}]
    await client.close()


@pytest.mark.req("AGT-018")
@pytest.mark.parametrize("binding", BINDINGS)
async def test_message_response(running: RunningAgent, binding: str) -> None:
    # CORE-SEND-002 (a Message instead of a Task)
    client = await connect(running, binding)
    reply = await send(client, message("tck-message-response"))
    assert reply["message"]["parts"] == [{"text": "Direct message response"}]
    assert reply["message"]["role"] == "ROLE_AGENT"
    await client.close()


@pytest.mark.req("AGT-025")
@pytest.mark.req("AGT-022")
@pytest.mark.parametrize("binding", BINDINGS)
async def test_input_required_multi_turn_reject_and_cancel(
    running: RunningAgent, binding: str
) -> None:
    # CORE-MULTI-*, CORE-CANCEL-001/002, task states
    client = await connect(running, binding)
    paused = (await send(client, message("tck-input-required")))["task"]
    assert paused["status"]["state"] == "TASK_STATE_INPUT_REQUIRED"
    follow = message("tck-input-required", task_id=paused["id"], context_id=paused["contextId"])
    resumed = (await send(client, follow))["task"]
    assert resumed["status"]["state"] == "TASK_STATE_COMPLETED"
    assert resumed["contextId"] == paused["contextId"]
    rejected = (await send(client, message("tck-reject-task")))["task"]
    assert rejected["status"]["state"] == "TASK_STATE_REJECTED"
    other = (await send(client, message("tck-input-required")))["task"]
    canceled = MessageToDict(await client.cancel_task(CancelTaskRequest(id=other["id"])))
    assert canceled["status"]["state"] == "TASK_STATE_CANCELED"
    with pytest.raises(TaskNotCancelableError):
        await client.cancel_task(CancelTaskRequest(id=resumed["id"]))
    with pytest.raises(UnsupportedOperationError):  # a terminal task takes no messages
        await send(client, message("tck-complete-task", task_id=resumed["id"]))
    await client.close()


@pytest.mark.req("AGT-001")
@pytest.mark.req("AGT-004")
@pytest.mark.parametrize("binding", BINDINGS)
async def test_get_and_list_tasks(running: RunningAgent, binding: str) -> None:
    # CORE-GET-001/002, CORE-HIST-*, CORE-LIST-*
    client = await connect(running, binding)
    task = (await send(client, message("tck-complete-task"), history_length=0))["task"]
    got = MessageToDict(await client.get_task(GetTaskRequest(id=task["id"])))
    assert got["id"] == task["id"]
    assert got["history"][0]["parts"] == [{"text": "hello"}]
    short = MessageToDict(await client.get_task(GetTaskRequest(id=task["id"], history_length=0)))
    assert "history" not in short
    with pytest.raises(TaskNotFoundError):
        await client.get_task(GetTaskRequest(id="no-such-task"))
    listed = MessageToDict(
        await client.list_tasks(ListTasksRequest(context_id=task["contextId"], page_size=5))
    )
    assert [t["id"] for t in listed["tasks"]] == [task["id"]]
    assert listed["pageSize"] == 5
    await client.close()


@pytest.mark.req("AGT-016")
@pytest.mark.parametrize("binding", BINDINGS)
async def test_unsupported_media_type(running: RunningAgent, binding: str) -> None:
    # CORE-SEND-003
    client = await connect(running, binding)
    odd = Part(raw=b"tck", media_type="application/x-unsupported-tck-type")
    with pytest.raises(ContentTypeNotSupportedError):
        await send(client, message("tck-complete-task", odd))
    await client.close()


def _aggregate(events: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    """Artifacts as A2A's append rules build them from artifactUpdate events."""
    out: dict[str, list[dict[str, Any]]] = {}
    for event in events:
        update = event.get("artifactUpdate")
        if update is None:
            continue
        artifact = update["artifact"]
        parts = artifact["parts"]
        key = artifact["artifactId"]
        out[key] = [*out.get(key, []), *parts] if update.get("append") else list(parts)
    return out


@pytest.mark.req("AGT-023")
@pytest.mark.req("AGT-017")
@pytest.mark.parametrize("binding", BINDINGS)
async def test_streaming_lifecycle_and_chunks(running: RunningAgent, binding: str) -> None:
    # CORE-STREAM-001/002/003, STREAM-ORDER-001, streaming artifacts (text, file, chunked)
    client = await connect(running, binding, streaming=True)
    for prefix, text in [
        ("tck-stream-001", "Stream hello from TCK"),
        ("tck-stream-ordering-001", "Ordered output"),
        ("tck-stream-artifact-chunked", "chunk-1 chunk-2"),
    ]:
        request = SendMessageRequest(message=message(prefix))
        events = [MessageToDict(e) async for e in client.send_message(request)]
        assert "task" in events[0]
        states = [e["statusUpdate"]["status"]["state"] for e in events if "statusUpdate" in e]
        assert states == ["TASK_STATE_WORKING", "TASK_STATE_COMPLETED"]
        assert "statusUpdate" in events[-1]
        chunks = [e["artifactUpdate"] for e in events if "artifactUpdate" in e]
        assert chunks[-1]["lastChunk"] is True
        streamed = _aggregate(events)["result"]
        assert "".join(p["text"] for p in streamed) == text
        got = MessageToDict(await client.get_task(GetTaskRequest(id=events[0]["task"]["id"])))
        assert got["artifacts"][0]["parts"] == streamed
    only = SendMessageRequest(message=message("tck-stream-002"))
    events = [MessageToDict(e) async for e in client.send_message(only)]
    assert events[-1]["statusUpdate"]["status"]["state"] == "TASK_STATE_COMPLETED"
    await client.close()


@pytest.mark.req("AGT-023")
@pytest.mark.parametrize("binding", BINDINGS)
async def test_subscribe_to_a_running_task(running: RunningAgent, binding: str) -> None:
    # STREAM-SUB-001/002/003 (resubscription to a long-running task; terminal task refused)
    sender = await connect(running, binding)
    started = await send(sender, message("test-resubscribe-message-id"), return_immediately=True)
    await sender.close()
    client = await connect(running, binding, streaming=True)
    task_id = started["task"]["id"]
    events = [MessageToDict(e) async for e in client.subscribe(SubscribeToTaskRequest(id=task_id))]
    assert events[0]["task"]["id"] == task_id
    assert events[-1]["statusUpdate"]["status"]["state"] == "TASK_STATE_COMPLETED"
    with pytest.raises((UnsupportedOperationError, A2AError)):
        async for _ in client.subscribe(SubscribeToTaskRequest(id=task_id)):
            pass
    await client.close()


@pytest.mark.req("AGT-023")
@pytest.mark.parametrize("binding", BINDINGS)
async def test_subscribe_to_an_input_required_task_until_it_ends(
    running: RunningAgent, binding: str
) -> None:
    sender = await connect(running, binding)
    paused = (await send(sender, message("tck-input-required")))["task"]
    client = await connect(running, binding, streaming=True)
    collected: list[dict[str, Any]] = []

    async def listen() -> None:
        async for event in client.subscribe(SubscribeToTaskRequest(id=paused["id"])):
            collected.append(MessageToDict(event))

    listening = asyncio.create_task(listen())
    await asyncio.sleep(0.2)
    await send(sender, message("tck-input-required", task_id=paused["id"]))
    await asyncio.wait_for(listening, 5)
    await sender.close()
    assert collected[0]["task"]["status"]["state"] == "TASK_STATE_INPUT_REQUIRED"
    assert collected[-1]["statusUpdate"]["status"]["state"] == "TASK_STATE_COMPLETED"
    await client.close()
