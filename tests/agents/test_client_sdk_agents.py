"""The client against the SDK's own plain-A2A skills on a real socket, signed both ways.

Text to a text skill and to a typed skill with one string field, files to a file skill,
several result artifacts, a Message reply, routing without the skill key.
"""

from __future__ import annotations

from typing import Annotated

import pytest
from pydantic import BaseModel

from woa_agents import (
    Agent,
    AgentClient,
    AgentIdentityError,
    File,
    RemoteAgent,
    RpcError,
    files_of,
    text_of,
)
from woa_agents.files import MediaTypes
from woa_protocol import SigningKey
from woa_protocol.models import BINDING_HTTP_JSON, Message, Task, TaskState

from .plain_skills import Answer, plain_agent


class Caption(BaseModel):
    image: Annotated[File, MediaTypes("image/png")]


def build() -> Agent:
    agent = plain_agent()

    @agent.skill()
    async def caption(request: Caption) -> list[str | File]:
        assert request.image.raw is not None
        flipped = File(raw=request.image.raw[::-1], media_type="image/png", filename="out.png")
        return [f"{len(request.image.raw)} bytes", flipped]

    return agent


@pytest.mark.req("AGT-062")
async def test_text_files_and_messages_with_the_sdks_own_agent() -> None:
    key = SigningKey.generate()
    async with build().running() as running, AgentClient(key, timeout=10) as client:
        remote = await client.agent(running.url)
        assert remote.did is not None  # signed: every answer below was verified
        assert await client.call("chat", "hello", agent=remote) == "HELLO"
        routed = await client.send(None, "no key", agent=remote)  # the default skill
        assert isinstance(routed, Task)
        assert text_of(routed) == "NO KEY"
        answer = await client.call("ask", "olleh", Answer, agent=remote)  # text fills the field
        assert answer == Answer(answer="hello", lang="en")
        png = File(raw=b"\x89PNG", media_type="image/png", filename="in.png")
        captioned = await client.send("caption", png, agent=remote)
        assert isinstance(captioned, Task)
        assert captioned.status.state == TaskState.COMPLETED
        assert text_of(captioned) == "4 bytes"
        assert [f.raw for f in files_of(captioned)] == [b"GNP\x89"]
        assert await client.call("caption", png, agent=remote) == [
            "4 bytes",
            files_of(captioned)[0],
        ]
        reply = await client.send("hello", "Ada", agent=remote)
        assert isinstance(reply, Message)
        assert await client.call("hello", "Ada", agent=remote) == "hi Ada"
        assert await client.call("strict", {"text": "as data"}, agent=remote) == "as data"
        with pytest.raises(RpcError) as info:  # no text mode: a str goes as JSON data
            await client.call("strict", "bare", agent=remote)
        assert info.value.code == -32602


@pytest.mark.req("AGT-065")
@pytest.mark.req("AGT-035")
async def test_signed_calls_over_http_json() -> None:
    from .conftest import CountOut, EchoOut, make_agent

    agent, key = make_agent(), SigningKey.generate()
    async with (
        agent.running() as running,
        AgentClient(key, timeout=10, bindings=[BINDING_HTTP_JSON]) as client,
    ):
        remote = await client.agent(running.url)
        assert remote.binding == BINDING_HTTP_JSON
        assert remote.did == agent.did
        out = await client.call("echo", {"text": "rest", "times": 2}, EchoOut, agent=remote)
        assert out == EchoOut(text="restrest", caller=key.did)  # signed request, verified answer
        events = [e async for e in client.stream("count", {"n": 2}, CountOut, agent=remote)]
        assert events[-1].output == CountOut(total=2)  # the stream head checked, then GetTask
        task = await client.send("wait", {"text": "never"}, agent=remote, return_immediately=True)
        assert isinstance(task, Task)
        assert (await client.cancel(task.id, agent=remote)).status.state == TaskState.CANCELED
        assert (await client.get_task(task.id, agent=remote)).status.state == TaskState.CANCELED
        assert (await client.list_tasks(agent=remote)).tasks[0].id == task.id
        with pytest.raises(RpcError) as info:
            await client.call("echo", {"text": 1}, agent=remote)
        assert info.value.code == -32602
        with pytest.raises(RpcError) as missing:
            await client.get_task("no-such-task", agent=remote)
        assert missing.value.code == -32001
    impostor = make_agent()
    async with impostor.running() as other, AgentClient(key, bindings=[BINDING_HTTP_JSON]) as c:
        genuine = RemoteAgent.from_card(agent.card(other.url), bindings=[BINDING_HTTP_JSON])
        assert genuine.binding == BINDING_HTTP_JSON
        with pytest.raises(AgentIdentityError, match="not signed by"):
            await c.call("fail", {"text": "x"}, agent=genuine)  # not idempotent: raised
