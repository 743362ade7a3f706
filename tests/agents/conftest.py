"""Shared pieces for the agent SDK tests: models, a sample agent, a raw signed caller."""

from __future__ import annotations

import asyncio
import contextlib
import json
import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from pydantic import BaseModel, Field

from woa_agents import (
    Agent,
    AgentClient,
    InputRequired,
    Partial,
    Progress,
    Rejected,
    RemoteAgent,
    SkillContext,
)
from woa_protocol import HttpRequest, MessageSigner, SigningKey


class EchoIn(BaseModel):
    text: str = Field(max_length=1000)
    times: int = Field(default=1, ge=1, le=5)


class EchoOut(BaseModel):
    text: str
    caller: str | None = None


class CountIn(BaseModel):
    n: int = Field(ge=0, le=10)


class CountOut(BaseModel):
    total: int


def make_agent(**kwargs: Any) -> Agent:
    """An agent with the skills the tests exercise."""
    agent = Agent("tester", "An agent for tests.", **kwargs)
    gate: dict[str, asyncio.Event] = {}
    agent.gate = gate  # type: ignore[attr-defined]

    @agent.skill(family="classical", tags=["demo"], idempotent=True, examples=[EchoIn(text="hi")])
    async def echo(request: EchoIn, ctx: SkillContext) -> EchoOut:
        """Repeat the text, naming the caller."""
        return EchoOut(text=request.text * request.times, caller=ctx.caller_did)

    @agent.skill(family="classical")
    async def count(request: CountIn) -> AsyncIterator[Progress | Partial | CountOut]:
        """Count to n, streaming progress."""
        for i in range(request.n):
            yield Progress(f"step {i + 1}")
            yield Partial({"at": i + 1})
        yield CountOut(total=request.n)

    @agent.skill(family="classical")
    async def wait(request: EchoIn) -> EchoOut:
        """Wait until the test opens the gate named by the text."""
        event = gate.setdefault(request.text, asyncio.Event())
        await event.wait()
        return EchoOut(text=request.text)

    @agent.skill(family="classical")
    async def fail(request: EchoIn) -> EchoOut:
        """Always fails."""
        raise RuntimeError(f"cannot do {request.text}")

    @agent.skill(family="classical")
    async def reject(request: EchoIn) -> EchoOut:
        """Always refuses."""
        raise Rejected("not my job")

    @agent.skill(family="classical")
    async def ask(request: EchoIn, ctx: SkillContext) -> EchoOut:
        """Asks for a name first unless the text holds one."""
        if not request.text.startswith("name:"):
            raise InputRequired("what is your name? send 'name:<you>'")
        return EchoOut(text=f"hello {request.text[5:]} after {len(ctx.history)} messages")

    @agent.skill(family="classical")
    async def bad_output(request: EchoIn) -> EchoOut:
        """Returns something that is not an EchoOut."""
        return {"nope": 1}  # type: ignore[return-value]

    return agent


@contextlib.asynccontextmanager
async def stuck_then_open() -> AsyncIterator[tuple[AgentClient, list[RemoteAgent]]]:
    """Two running agents and a client knowing both: ``wait`` on "go" hangs on the first only."""
    first, second = make_agent(), make_agent()
    second.gate["go"] = asyncio.Event()  # type: ignore[attr-defined]
    second.gate["go"].set()  # type: ignore[attr-defined]
    async with (
        first.running() as a,
        second.running() as b,
        AgentClient(SigningKey.generate(), timeout=5) as client,
    ):
        yield client, [await client.agent(a.url), await client.agent(b.url)]


@pytest.fixture
def agent() -> Agent:
    return make_agent()


def message(skill: str | None, data: Any, **extra: Any) -> dict[str, Any]:
    msg: dict[str, Any] = {
        "messageId": uuid.uuid4().hex,
        "role": "ROLE_USER",
        "parts": [{"data": data}],
        **extra,
    }
    if skill is not None:
        msg["metadata"] = {"woa.skill": skill}
    return msg


class RawCaller:
    """Posts raw bodies to an in-memory agent app, signed or not, and returns the response."""

    def __init__(self, app: Any, key: SigningKey | None, url: str = "http://agent.test/") -> None:
        self.url = url
        self.key = key
        self.signer = MessageSigner(key) if key else None
        self.http = httpx.AsyncClient(transport=httpx.ASGITransport(app=app))

    def signed_headers(self, body: bytes, extra: dict[str, str] | None = None) -> dict[str, str]:
        headers = {"content-type": "application/json", **(extra or {})}
        if self.signer is not None:
            req = HttpRequest("POST", self.url, dict(headers), body)
            headers.update(self.signer.sign_request(req))
        return headers

    async def post(
        self,
        body: bytes | dict[str, Any] | list[Any],
        *,
        headers: dict[str, str] | None = None,
        sign: bool = True,
    ) -> httpx.Response:
        raw = body if isinstance(body, bytes) else json.dumps(body).encode()
        if sign:  # extra fields signed with the rest (MSG-012 covers A2A-Version)
            hdrs = self.signed_headers(raw, headers)
        else:
            hdrs = {"content-type": "application/json", **(headers or {})}
        return await self.http.post(self.url, content=raw, headers=hdrs)

    async def rpc(self, method: str, params: Any, **kw: Any) -> dict[str, Any]:
        response = await self.post(
            {"jsonrpc": "2.0", "id": 1, "method": method, "params": params}, **kw
        )
        body: dict[str, Any] = response.json()
        return body


@pytest.fixture
async def raw(agent: Agent) -> AsyncIterator[RawCaller]:
    app = agent.app("http://agent.test/")
    async with app.router.lifespan_context(app):
        caller = RawCaller(app, SigningKey.generate())
        caller.app = app  # type: ignore[attr-defined]
        yield caller
        await caller.http.aclose()
