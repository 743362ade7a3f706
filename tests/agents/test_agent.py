"""Declaring skills and the signed card they produce."""

from __future__ import annotations

import asyncio
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel

from woa_agents import Agent, AgentClient
from woa_protocol import verify_card
from woa_protocol.models import AgentCard, ModelFamily, read_extension

from .conftest import EchoIn, EchoOut, make_agent


def test_card_carries_skills_schemas_and_extension() -> None:
    agent = make_agent()
    card = agent.card("http://127.0.0.1:9/")
    verify_card(card, expected_did=agent.did)
    model = AgentCard.model_validate(card)
    assert model.supported_interfaces[0].url == "http://127.0.0.1:9/"
    assert model.supported_interfaces[0].protocol_binding == "JSONRPC"
    assert model.capabilities.streaming is True
    ext = read_extension(model)
    assert ext is not None
    assert ext.did == agent.did
    echo = ext.skills["echo"]
    assert echo.family is ModelFamily.CLASSICAL
    assert echo.idempotent is True
    assert echo.input_schema["properties"]["text"]["type"] == "string"
    assert echo.examples
    assert echo.examples[0].input == {"text": "hi", "times": 1}
    skill = next(s for s in model.skills if s.id == "echo")
    assert skill.tags == ["demo"]
    assert skill.description == "Repeat the text, naming the caller."
    assert ext.skills["fail"].idempotent is False


def test_explicit_models_and_errors() -> None:
    agent = Agent("a", "b")

    @agent.skill("shout", input=EchoIn, output=EchoOut, family="slm", tags=["x"])
    async def handler(value):  # type: ignore[no-untyped-def]
        return EchoOut(text=value.text.upper())

    assert agent.skills["shout"].family is ModelFamily.SLM
    with pytest.raises(ValueError, match="twice"):
        agent.skill("shout", input=EchoIn, output=EchoOut)(handler)
    with pytest.raises(TypeError, match="annotate the handler"):

        @agent.skill()
        async def untyped(value):  # type: ignore[no-untyped-def]
            return value

    with pytest.raises(TypeError, match="takes"):

        @agent.skill(input=EchoIn, output=EchoOut)
        async def too_many(a: EchoIn, b: object, c: object) -> EchoOut:
            return EchoOut(text="")

    with pytest.raises(ValueError, match="no skills"):
        Agent("empty", "none").card("http://x/")


def test_key_from_file(tmp_path: pytest.TempPathFactory) -> None:
    from pathlib import Path

    from woa_protocol import SigningKey
    from woa_protocol.keyfile import save_key

    key = SigningKey.generate()
    path = Path(str(tmp_path)) / "agent.pem"
    save_key(key, path)
    assert Agent("k", "k", key=path).did == key.did


class _Unused(BaseModel):
    x: int


def test_a_handler_that_takes_a_context_is_never_called_without_one() -> None:
    from woa_agents.context import SkillContext
    from woa_agents.skills import Skill

    async def with_ctx(request: EchoIn, ctx: SkillContext) -> EchoOut:
        return EchoOut(text=request.text)

    async def without(request: EchoIn) -> EchoOut:
        return EchoOut(text=request.text)

    skill = Skill("s", "s", "s", with_ctx, EchoIn, EchoOut, ModelFamily.CLASSICAL)
    assert skill.wants_context
    with pytest.raises(TypeError, match="takes a context"):
        skill.invoke(EchoIn(text="x"), None)
    plain = Skill("p", "p", "p", without, EchoIn, EchoOut, ModelFamily.CLASSICAL)
    assert not plain.wants_context
    coro = plain.invoke(EchoIn(text="x"), None)
    coro.close()


_SERVE = """
import asyncio, sys
from pydantic import BaseModel
from woa_agents import Agent

class Text(BaseModel):
    text: str

agent = Agent("loop-probe", "Says which event loop serves it.")

@agent.skill(family="classical")
async def loop(request: Text) -> Text:
    return Text(text=type(asyncio.get_running_loop()).__module__)

agent.run(port=int(sys.argv[1]))
"""


class Text(BaseModel):
    text: str


def test_run_serves_on_uvloop_until_interrupted(tmp_path: Path) -> None:
    import uvloop

    from woa_agents.agent import _loop_factory
    from woa_protocol import SigningKey

    from .test_e2e import free_port

    assert _loop_factory() is uvloop.new_event_loop
    script = tmp_path / "serve.py"
    script.write_text(_SERVE, encoding="utf-8")
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, str(script), str(port)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert proc.stdout is not None
        assert "serving at" in proc.stdout.readline()

        async def call() -> Any:
            async with AgentClient(SigningKey.generate()) as client:
                url = f"http://127.0.0.1:{port}/"
                return await client.call("loop", Text(text=""), Text, agent=url)

        assert asyncio.run(call()).text == "uvloop"
    finally:
        proc.send_signal(signal.SIGINT)
        assert proc.wait(20) == 0


async def test_served_connections_send_without_nagle_delay() -> None:
    """Accepted connections have TCP_NODELAY (else each answer waits ~40 ms for an ACK)."""
    import socket

    import httpx

    agent = make_agent()
    async with agent.running() as running, httpx.AsyncClient() as http:
        response = await http.get(running.url + ".well-known/agent-card.json")
        assert response.status_code == 200
        connections = list(running.server.server_state.connections)
        assert connections
        for connection in connections:
            sock = connection.transport.get_extra_info("socket")  # type: ignore[attr-defined]
            assert sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) != 0
