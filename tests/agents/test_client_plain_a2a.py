"""The SDK's client calls ordinary a2a-sdk agents over real sockets: text, files, data,
Message replies, multi-turn input-required, streams and subscriptions, on both bindings.

The agents are built only from a2a-sdk's server classes (``a2a_sdk_agents``): no Web of
Agents identity, no ``woa.skill`` routing; they serve JSON-RPC and HTTP+JSON.
"""

from __future__ import annotations

import asyncio
from functools import partial

import pytest

from woa_agents import (
    AgentCallError,
    AgentClient,
    File,
    RemoteAgent,
    RpcError,
    data_of,
    files_of,
    text_of,
)
from woa_protocol import SigningKey
from woa_protocol.models import BINDING_HTTP_JSON, BINDING_JSONRPC, Message, Task, TaskState

from .a2a_sdk_agents import a2a_sdk_app, executors, serve

pytestmark = pytest.mark.interop

BOTH = pytest.mark.parametrize("binding", [BINDING_JSONRPC, BINDING_HTTP_JSON])


def client(binding: str = BINDING_JSONRPC) -> AgentClient:
    return AgentClient(SigningKey.generate(), allow_unsigned=True, timeout=10, bindings=[binding])


@BOTH
@pytest.mark.req("AGT-062")
@pytest.mark.req("AGT-065")
async def test_text_in_text_out(binding: str) -> None:
    async with serve(partial(a2a_sdk_app, "shout")) as url, client(binding) as c:
        remote = await c.agent(url)
        assert remote.binding == binding
        assert remote.url.endswith("/rest" if binding == BINDING_HTTP_JSON else "/")
        assert await c.call("shout", "hello plain a2a", agent=remote) == "HELLO PLAIN A2A"
        answer = await c.send(None, "no skill named", agent=remote)
        assert isinstance(answer, Task)
        assert answer.status.state == TaskState.COMPLETED
        assert text_of(answer) == "NO SKILL NAMED"


@BOTH
@pytest.mark.req("AGT-062")
async def test_files_and_data_both_ways(binding: str) -> None:
    image = File(raw=b"\x89PNG\x00\x01", media_type="image/png", filename="dot.png")
    async with serve(partial(a2a_sdk_app, "shout")) as url, client(binding) as c:
        answer = await c.send("shout", image, agent=url)
        assert isinstance(answer, Task)
        [returned] = files_of(answer)
        assert returned.raw == b"\x01\x00GNP\x89"
        assert returned.media_type == "image/png"
        assert returned.filename == "reversed-dot.png"
        assert text_of(answer) == "got dot.png (image/png, 6 bytes)"
        mixed = await c.send("shout", ("caption", image, {"n": 1}), agent=url)
        assert text_of(mixed).endswith("CAPTION")
        assert data_of(mixed) == [{"echo": {"n": 1}}]
        assert await c.call("shout", {"n": 2}, agent=url) == {"echo": {"n": 2}}


@BOTH
@pytest.mark.req("AGT-062")
async def test_message_reply(binding: str) -> None:
    async with serve(partial(a2a_sdk_app, "greet")) as url, client(binding) as c:
        answer = await c.send(None, "Ada", agent=url)
        assert isinstance(answer, Message)
        assert text_of(answer) == "Hello, Ada!"
        assert await c.call("greet", "Grace", agent=url) == "Hello, Grace!"
        events = [e async for e in c.stream("greet", "Alan", agent=url)]
        assert [e.kind for e in events] == ["message", "result"]
        assert events[-1].output == "Hello, Alan!"


@BOTH
async def test_multi_turn_input_required(binding: str) -> None:
    async with serve(partial(a2a_sdk_app, "ask")) as url, client(binding) as c:
        first = await c.send(None, "hi", agent=url)
        assert isinstance(first, Task)
        assert first.status.state == TaskState.INPUT_REQUIRED
        assert text_of(first) == "What is your name?"  # the status message
        second = await c.send(None, "Ada", agent=url, task_id=first.id, context_id=first.context_id)
        assert isinstance(second, Task)
        assert second.id == first.id
        assert second.status.state == TaskState.COMPLETED
        assert text_of(second) == "Nice to meet you, Ada"
        with pytest.raises(AgentCallError, match="INPUT_REQUIRED: What is your name"):
            await c.call("ask", "hi", agent=url)


@BOTH
async def test_stream_subscribe_and_cancel(binding: str) -> None:
    async with serve(partial(a2a_sdk_app, "shout")) as url, client(binding) as c:
        events = [e async for e in c.stream("shout", "streamed", agent=url)]
        assert events[0].kind == "task"
        assert "artifact" in [e.kind for e in events]
        assert events[-1].kind == "result"
        assert events[-1].output == "STREAMED"
    async with serve(partial(a2a_sdk_app, "slow")) as url, client(binding) as c:
        task = await c.send(None, "work", agent=url, return_immediately=True)
        assert isinstance(task, Task)

        async def cancel_soon() -> Task:
            await asyncio.sleep(0.3)
            return await c.cancel(task.id, agent=url)

        canceller = asyncio.create_task(cancel_soon())
        seen = [e async for e in c.subscribe(task.id, agent=url)]
        assert (await canceller).status.state == TaskState.CANCELED
        assert seen[-1].kind == "result"
        final = seen[-1].task
        assert final is not None
        assert final.status.state == TaskState.CANCELED
        assert (await c.get_task(task.id, agent=url)).status.state == TaskState.CANCELED


@BOTH
async def test_errors_are_typed_on_both_bindings(binding: str) -> None:
    async with serve(partial(a2a_sdk_app, "shout")) as url, client(binding) as c:
        with pytest.raises(RpcError) as info:
            await c.get_task("no-such-task", agent=url)
        assert info.value.code == -32001
        listed = await c.list_tasks(agent=url)
        assert listed.tasks == []


@pytest.mark.req("AGT-065")
async def test_binding_is_chosen_from_the_card() -> None:
    rest_only = partial(a2a_sdk_app, "shout", bindings=(BINDING_HTTP_JSON,))
    async with serve(rest_only) as url, client(BINDING_JSONRPC) as strict:
        with pytest.raises(AgentCallError, match="offers no binding this client speaks"):
            await strict.agent(url)
    async with serve(rest_only) as url, AgentClient(None, allow_unsigned=True) as default:
        remote = await default.agent(url)
        assert remote.binding == BINDING_HTTP_JSON
        assert await default.call("shout", "rest", agent=remote) == "REST"
    both = partial(a2a_sdk_app, "shout")
    async with serve(both) as url, AgentClient(None, allow_unsigned=True) as default:
        assert (await default.agent(url)).binding == BINDING_JSONRPC  # preferred
    card = {
        "name": "grpc only",
        "description": "",
        "version": "1",
        "supportedInterfaces": [{"url": "http://x", "protocolBinding": "GRPC"}],
        "capabilities": {},
        "defaultInputModes": [],
        "defaultOutputModes": [],
        "skills": [],
    }
    with pytest.raises(AgentCallError, match="it offers GRPC"):
        RemoteAgent.from_card(card, allow_unsigned=True)


@pytest.mark.req("AGT-063")
async def test_timed_out_attempt_is_cancelled_before_the_next_agent() -> None:
    slow = executors()["slow"]()
    async with (
        serve(partial(a2a_sdk_app, "slow", executor=slow)) as slow_url,
        serve(partial(a2a_sdk_app, "shout")) as fast_url,
        client() as c,
    ):
        agents = [await c.agent(slow_url), await c.agent(fast_url)]
        out = await c.call("x", "go", agents=agents, timeout=0.5, retry_non_idempotent=True)
        assert out == "GO"
        assert len(slow.started) == 1
        assert slow.cancelled == slow.started  # the agent saw CancelTask for its task
