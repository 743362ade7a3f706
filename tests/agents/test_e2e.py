"""End to end on real ports: a registry and three agents that find and call each other.

The registry is the real one (``woa_registry.create_app`` on a temporary SQLite file,
served by uvicorn on 127.0.0.1); the agents reach it over HTTP only. Covered: discovery
by skill, family, text and payload; an agent calling another it found in the registry;
failover when an agent crashes (it stays listed until its lease ends); deregistration on a
clean stop; re-registration after the registry restarts on a fresh store.
"""

from __future__ import annotations

import asyncio
import socket
from pathlib import Path

import pytest
import uvicorn
from pydantic import BaseModel

from woa_agents import Agent, AgentClient, RegistryClient, SkillContext
from woa_protocol import SigningKey

REGISTRY_KEY = SigningKey.generate()


class Text(BaseModel):
    text: str


class Shouted(BaseModel):
    text: str
    by: str


class RegistryServer:
    """A real registry on 127.0.0.1:port with its own SQLite file, started and stopped at will."""

    def __init__(self, tmp: Path, port: int, db: str) -> None:
        from woa_registry import RegistrySettings, create_app

        settings = RegistrySettings(
            host="127.0.0.1",
            port=port,
            database_url=f"sqlite:///{tmp}/{db}",
            key_file=tmp / "registry.pem",
            mdns_enabled=False,
            lease_min_seconds=10,
            sweep_interval_seconds=3600,
            rate_per_did=0,
            rate_per_address=0,
        )
        self.url = f"http://127.0.0.1:{port}"
        self.port = port
        self.server = uvicorn.Server(
            uvicorn.Config(
                create_app(settings, key=REGISTRY_KEY),
                log_level="warning",
                timeout_graceful_shutdown=2,
            )
        )
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._serving: asyncio.Task[None] | None = None

    async def start(self) -> RegistryServer:
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", self.port))
        self._serving = asyncio.create_task(self.server.serve(sockets=[self.sock]))
        while not self.server.started:
            assert not self._serving.done(), "registry failed to start"
            await asyncio.sleep(0.01)
        return self

    async def stop(self) -> None:
        if self._serving is not None and not self._serving.done():
            self.server.should_exit = True
            await self._serving
        self.sock.close()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def upper_agent(name: str) -> Agent:
    agent = Agent(name, f"{name}: upper-cases text", lease_seconds=10, heartbeat_interval=0.3)

    @agent.skill(family="classical", tags=["text"], idempotent=True)
    async def upper(request: Text) -> Shouted:
        """Upper-case the text."""
        return Shouted(text=request.text.upper(), by=name)

    return agent


def shouter(registry_url: str) -> Agent:
    agent = Agent(
        "shouter", "adds emphasis using an upper agent", lease_seconds=10, heartbeat_interval=0.3
    )

    @agent.skill(family="slm", tags=["text", "emphasis"])
    async def shout(request: Text, ctx: SkillContext) -> Shouted:
        """Shout the text: asks an upper agent found in the registry."""
        async with AgentClient(agent.key, registry_url=registry_url, timeout=5) as client:
            loud = await client.call("upper", request, Shouted)
        return Shouted(text=loud.text + "!", by=loud.by)

    return agent


async def until(condition: object, timeout: float = 10.0) -> None:
    async with asyncio.timeout(timeout):
        while not condition():  # type: ignore[operator]
            await asyncio.sleep(0.05)


@pytest.mark.req("AGT-070")
@pytest.mark.req("AGT-072")
@pytest.mark.req("AGT-060")
async def test_registry_and_three_agents(tmp_path: Path) -> None:
    port = free_port()
    reg = await RegistryServer(tmp_path, port, "first.db").start()
    url = reg.url
    first, second, third = upper_agent("upper-1"), upper_agent("upper-2"), shouter(url)
    try:
        async with (
            first.running(registry_url=url) as a,
            second.running(registry_url=url) as b,
            third.running(registry_url=url) as c,
            AgentClient(SigningKey.generate(), registry_url=url, timeout=5) as client,
        ):
            for running in (a, b, c):
                assert running.lifecycle is not None
                await asyncio.wait_for(running.lifecycle.registered.wait(), 10)

            uppers = await client.find(skill="upper")
            assert sorted(x.did or "" for x in uppers) == sorted([first.did, second.did])
            assert [x.did for x in await client.find(family="slm")] == [third.did]
            assert [x.did for x in await client.find(text="emphasis")] == [third.did]
            by_payload = await client.find_for_payload({"text": "hi"})
            assert {skill for _, skill in by_payload} == {"upper", "shout"}

            # an agent that finds and calls another through the registry
            out = await client.call("shout", Text(text="hey"), Shouted)
            assert out.text == "HEY!"
            assert out.by in ("upper-1", "upper-2")

            # crash one upper agent: it stays listed, calls fail over to the other
            await a.kill()
            assert len(await client.find(skill="upper")) == 2
            ordered = sorted(uppers, key=lambda x: x.did != first.did)  # the dead one first
            for _ in range(3):
                again = await client.call("upper", Text(text="x"), Shouted, agents=ordered)
                assert again.by == "upper-2"
            assert (await client.call("shout", Text(text="yo"), Shouted)).by == "upper-2"

            # a clean stop deregisters; the crashed agent stays until its lease ends
            await b.stop()
            async with RegistryClient(url) as reader:
                assert await reader.get(second.did) is None
                assert await reader.get(first.did) is not None

            # the registry restarts on a fresh store: the live agent registers again
            assert c.lifecycle is not None
            before = c.lifecycle.registrations
            await reg.stop()
            reg = await RegistryServer(tmp_path, port, "second.db").start()
            await until(lambda: c.lifecycle is not None and c.lifecycle.registrations > before)
            async with RegistryClient(url) as reader:
                assert await reader.get(third.did) is not None
                assert await reader.get(first.did) is None  # the fresh store never saw it
            assert (await client.find(skill="shout"))[0].did == third.did
    finally:
        await reg.stop()


@pytest.mark.req("AGT-071")
async def test_heartbeat_answered_404_registers_again(tmp_path: Path) -> None:
    reg = await RegistryServer(tmp_path, free_port(), "r.db").start()
    agent = upper_agent("forgotten")
    try:
        async with agent.running(registry_url=reg.url) as running:
            lifecycle = running.lifecycle
            assert lifecycle is not None
            await asyncio.wait_for(lifecycle.registered.wait(), 10)
            async with RegistryClient(reg.url, agent.key) as as_agent:
                await as_agent.deregister()  # the registry forgets the agent
                assert await as_agent.get(agent.did) is None
                await until(lambda: lifecycle.registrations >= 2)
                assert await as_agent.get(agent.did) is not None
    finally:
        await reg.stop()


@pytest.mark.req("AGT-070")
@pytest.mark.req("AGT-073")
async def test_agent_finds_the_registry_over_mdns(tmp_path: Path) -> None:
    from woa_registry.mdns import RegistryAdvertiser

    reg = await RegistryServer(tmp_path, free_port(), "mdns.db").start()
    advertiser = RegistryAdvertiser(
        did=REGISTRY_KEY.did, version="test", host="127.0.0.1", port=reg.port
    )
    await advertiser.start()
    agent = Agent(
        "lan-agent",
        "finds its registry on the LAN",
        discover_registry=True,
        mdns=True,
        mdns_interfaces=["127.0.0.1"],
        registry_did=REGISTRY_KEY.did,
        lease_seconds=10,
    )

    @agent.skill(family="classical")
    async def upper(request: Text) -> Shouted:
        return Shouted(text=request.text.upper(), by="lan")

    try:
        async with agent.running() as running:
            assert running.lifecycle is not None
            await asyncio.wait_for(running.lifecycle.registered.wait(), 15)
            assert running.lifecycle.registry_url == reg.url
            async with RegistryClient(reg.url, registry_did=REGISTRY_KEY.did) as reader:
                assert await reader.get(agent.did) is not None
    finally:
        await advertiser.close()
        await reg.stop()
