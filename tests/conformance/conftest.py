"""Fixtures for the conformance tests: the real registry and SDK agent, served in-process."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx
from httpx_ws.transport import ASGIWebSocketTransport
from pydantic import BaseModel, Field

from woa_agents import Agent, SkillContext
from woa_conformance import Options, Report, run_checks
from woa_protocol import SigningKey
from woa_protocol.models import Message, Part, Role
from woa_registry import RegistrySettings, create_app

REGISTRY_URL = "http://registry.test"
AGENT_URL = "http://agent.test"
FAST = Options(timeout=5.0, lease_wait=10.0, oversize_bytes=2 * 1024 * 1024)

RunRegistry = Callable[..., Awaitable[Report]]


class EchoIn(BaseModel):
    text: str = Field(max_length=1000)
    times: int = Field(default=1, ge=1, le=5)


class EchoOut(BaseModel):
    text: str
    caller: str | None = None


def make_agent(**kwargs: Any) -> Agent:
    """A real SDK agent: two typed skills (one with an example input) and a text one."""
    agent = Agent("conformance sample", "A sample agent the conformance suite checks.", **kwargs)

    @agent.skill(family="classical", tags=["demo"], idempotent=True, examples=[EchoIn(text="hi")])
    async def echo(request: EchoIn, ctx: SkillContext) -> EchoOut:
        """Repeat the text, naming the caller."""
        return EchoOut(text=request.text * request.times, caller=ctx.caller_did)

    @agent.skill(family="classical", tags=["demo"])
    async def shout(request: EchoIn) -> EchoOut:
        """Upper-case the text."""
        return EchoOut(text=request.text.upper())

    @agent.skill(family="classical", tags=["demo"])
    async def greet(text: str) -> Message:
        """Answer at once with a message (no task)."""
        return Message(
            message_id=uuid.uuid4().hex, role=Role.AGENT, parts=[Part(text=f"hi {text}")]
        )

    return agent


def registry_settings(tmp_path: Path, **overrides: Any) -> RegistrySettings:
    """Settings that let the suite see a lease lapse quickly (min 1 s, sweep every 0.2 s)."""
    values: dict[str, Any] = {
        "database_url": f"sqlite:///{tmp_path}/registry.db",
        "key_file": tmp_path / "registry-key.pem",
        "mdns_enabled": False,
        "lease_min_seconds": 1,
        "sweep_interval_seconds": 0.2,
        **overrides,
    }
    return RegistrySettings(**values)


async def run_against_registry(
    settings: RegistrySettings, *, only: list[str] | None = None, level: str = "should"
) -> Report:
    """Run the registry checks against the real registry app, in-process."""
    app = create_app(settings, key=SigningKey.generate())
    async with app.router.lifespan_context(app), ASGIWebSocketTransport(app=app) as transport:
        return await run_checks(
            "registry",
            REGISTRY_URL,
            transport=transport,
            options=FAST,
            only=only,
            level=level,  # type: ignore[arg-type]
        )


async def run_against_agent(agent: Any = None, *, only: list[str] | None = None) -> Report:
    """Run the agent checks against an SDK agent app (the tests' sample agent by default)."""
    agent = agent or make_agent()
    app = agent.app(AGENT_URL + "/")
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        return await run_checks("agent", AGENT_URL, transport=transport, options=FAST, only=only)


def failed(report: Report) -> dict[str, str]:
    """Requirement ID -> message, for every requirement the run failed."""
    return {i: v.message for i, v in report.verdicts().items() if v.status == "failed"}
