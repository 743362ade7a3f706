"""End to end over real sockets: ``woa registry serve`` in a subprocess, restarts, SIGKILL."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from woa_agents import RegistryClient, RegistryError, TransportError
from woa_protocol import SigningKey
from woa_registry import discover

from ._support import make_card

CLI = [sys.executable, "-c", "from woa_cli.main import app; app()"]


class ServeProcess:
    """``woa registry serve`` on a free port; the URL is read from its first output line."""

    def __init__(self, tmp: Path, command: list[str] | None = None) -> None:
        env = {k: v for k, v in os.environ.items() if not k.startswith("WOA_REGISTRY_")}
        env["WOA_REGISTRY_SWEEP_INTERVAL_SECONDS"] = "3600"
        env["WOA_REGISTRY_DATABASE_URL"] = f"sqlite:///{tmp}/registry.db"
        env["WOA_REGISTRY_KEY_FILE"] = str(tmp / "key.pem")
        env["WOA_REGISTRY_PORT"] = "0"
        self.proc = subprocess.Popen(
            command
            or [
                *CLI,
                "registry",
                "serve",
                "--port",
                "0",
                "--no-mdns",
                "--log-level",
                "warning",
                "--database-url",
                f"sqlite:///{tmp}/registry.db",
                "--key-file",
                str(tmp / "key.pem"),
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        self.url = self._read_url()

    def _read_url(self) -> str:
        found: list[str] = []

        def read() -> None:
            assert self.proc.stdout is not None
            for line in self.proc.stdout:
                if "listening on" in line:
                    found.append(line.rsplit(" ", 1)[-1].strip())
                    return

        reader = threading.Thread(target=read, daemon=True)
        reader.start()
        reader.join(timeout=60)
        if not found:
            self.proc.kill()
            _, err = self.proc.communicate(timeout=10)
            raise AssertionError(f"registry did not start: {err[-2000:]}")
        return found[0]

    async def ready(self) -> None:
        async with RegistryClient(self.url, None) as client:
            for _ in range(200):
                try:
                    await client.describe()
                    return
                except (OSError, TransportError):  # not listening yet
                    await asyncio.sleep(0.05)
        raise AssertionError("registry never answered")

    def stop(self, sig: int = signal.SIGTERM) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            self.proc.wait(timeout=30)
        if self.proc.stdout:
            self.proc.stdout.close()
        if self.proc.stderr:
            self.proc.stderr.close()


@pytest.fixture
def serve(tmp_path: Path) -> Iterator[list[ServeProcess]]:
    started: list[ServeProcess] = []
    yield started
    for process in started:
        process.stop(signal.SIGKILL)


async def _start(tmp_path: Path, started: list[ServeProcess]) -> ServeProcess:
    process = ServeProcess(tmp_path)
    started.append(process)
    await process.ready()
    return process


@pytest.mark.req("REG-082")
@pytest.mark.req("REG-050")
async def test_serve_register_search_watch_restart(
    tmp_path: Path, serve: list[ServeProcess]
) -> None:
    first = await _start(tmp_path, serve)
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

    second = await _start(tmp_path, serve)
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
    tmp_path: Path, serve: list[ServeProcess]
) -> None:
    process = await _start(tmp_path, serve)
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

    restarted = await _start(tmp_path, serve)
    async with RegistryClient(restarted.url, None) as reader:
        stored = {a["did"] async for a in reader.search_all(limit=100)}
    missing = set(acknowledged) - stored
    assert not missing, f"{len(missing)} acknowledged registrations lost"


@pytest.mark.req("REG-090")
async def test_woa_run_starts_the_registry_on_the_embedded_default(
    tmp_path: Path, serve: list[ServeProcess]
) -> None:
    process = ServeProcess(tmp_path, [*CLI, "run"])  # settings from WOA_REGISTRY_* (port 0)
    serve.append(process)
    await process.ready()
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
