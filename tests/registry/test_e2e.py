"""End to end over real sockets: ``woa registry serve`` in a subprocess, restarts, SIGKILL."""

from __future__ import annotations

import asyncio
import signal
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest

from woa_agents import RegistryClient, RegistryError, TransportError
from woa_protocol import SigningKey
from woa_registry import discover

from ._support import CLI, RegistryProcess, make_card

Start = Callable[..., Awaitable[RegistryProcess]]


@pytest.mark.req("REG-082")
@pytest.mark.req("REG-050")
async def test_serve_register_search_watch_restart(tmp_path: Path, registry_process: Start) -> None:
    first = await registry_process()
    keys = [SigningKey.generate() for _ in range(3)]
    for key in keys:
        async with RegistryClient(first.url, key) as client:
            await client.register(make_card(key, name=f"agent {key.did[-4:]}"), lease_seconds=600)
    async with RegistryClient(first.url, None) as reader:
        registry_did = reader.registry_did or (await reader.describe())["did"]
        found = [a["did"] async for a in reader.search_all(skill="summarize")]
        assert found == sorted(k.did for k in keys)
        feed = reader.watch(since=0)
        events = [await asyncio.wait_for(anext(feed), 15) for _ in range(3)]
        assert [e.did for e in events] == [k.did for k in keys]
        await feed.aclose()
    first.stop()
    # uvicorn shuts down gracefully, then re-raises the signal it caught
    assert first.proc.returncode in (0, -signal.SIGTERM)

    second = await registry_process()
    async with RegistryClient(second.url, None, registry_did=registry_did) as reader:
        for key in keys:
            agent = await reader.get(key.did)
            assert agent is not None
            assert agent["name"] == f"agent {key.did[-4:]}"
        feed = reader.watch(since=0)
        replay = [await asyncio.wait_for(anext(feed), 15) for _ in range(3)]
        assert [e.seq for e in replay] == [e.seq for e in events]
        await feed.aclose()


@pytest.mark.req("REG-082")
async def test_sigkill_during_writes_loses_no_acknowledged_registration(
    tmp_path: Path, registry_process: Start
) -> None:
    process = await registry_process()
    acknowledged: list[str] = []
    enough = asyncio.Event()

    async def writer(worker: int) -> None:
        for _ in range(200):
            key = SigningKey.generate()
            async with RegistryClient(process.url, key) as client:
                try:
                    await client.register(make_card(key), lease_seconds=600)
                except (RegistryError, TransportError, OSError):
                    return  # the connection drops when the process dies
            acknowledged.append(key.did)
            if len(acknowledged) >= 20:
                enough.set()

    tasks = [asyncio.create_task(writer(i)) for i in range(3)]
    await asyncio.wait_for(enough.wait(), 60)
    process.stop(signal.SIGKILL)  # writes are in flight
    await asyncio.wait_for(asyncio.gather(*tasks), 60)
    assert process.proc.returncode == -signal.SIGKILL

    restarted = await registry_process()
    async with RegistryClient(restarted.url, None) as reader:
        stored = {a["did"] async for a in reader.search_all(limit=100)}
    missing = set(acknowledged) - stored
    assert not missing, f"{len(missing)} acknowledged registrations lost"


@pytest.mark.req("REG-090")
async def test_woa_run_starts_the_registry_on_the_embedded_default(
    tmp_path: Path, registry_process: Start
) -> None:
    process = await registry_process(command=[*CLI, "run"])  # settings from WOA_REGISTRY_*
    assert process.url.startswith("http://127.0.0.1:")
    async with RegistryClient(process.url, None) as client:
        description = await client.describe()
    assert (tmp_path / "registry.db").exists()
    # `woa run` advertises over mDNS, on loopback only since it listens there
    port = int(process.url.rsplit(":", 1)[1])
    found = await discover(
        timeout=8, interfaces=["127.0.0.1"], types=(description["mdnsServiceType"],), stop_when=1
    )
    assert [s.properties["did"] for s in found if s.port == port] == [description["did"]]
