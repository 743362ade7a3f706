"""``woa up``: the whole web on loopback — the registry and every sample agent, one command.

Each part runs as its own process (exactly what ``docker compose up`` runs, one container
each), with its output in ``.woa/logs/NAME.log``. ``woa up`` waits until every agent is
registered, prints who is where, and on Ctrl-C stops the agents (they deregister) and then
the registry.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import httpx
import typer
from rich.live import Live
from rich.table import Table

from ._console import console, fail

__all__ = ["Process", "Stack", "default_agents", "up"]


def default_agents() -> list[str]:
    """Every installed agent of the sample catalog (what ``woa agents run`` knows)."""
    from woa_samples import CATALOG

    return [name for name, spec in CATALOG.items() if spec.installed()]


def woa_executable() -> list[str]:
    """The command line that runs ``woa`` in this environment."""
    beside = Path(sys.executable).with_name("woa")
    if beside.exists():
        return [str(beside)]
    return [sys.executable, "-c", "from woa_cli.main import app; app()"]


@dataclass
class Process:
    """One part of the stack: its name, command line, URL and the running process."""

    name: str
    argv: list[str]
    url: str
    log_path: Path
    env: dict[str, str] = field(default_factory=dict)
    proc: subprocess.Popen[bytes] | None = None
    did: str | None = None
    skills: list[str] = field(default_factory=list)
    status: str = "starting"
    _log: IO[bytes] | None = None

    def start(self) -> None:
        """Start the process, its output going to :attr:`log_path`."""
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        self._log = self.log_path.open("ab")
        self.proc = subprocess.Popen(  # noqa: S603 - our own executable, argv built here
            self.argv,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            env={**os.environ, **self.env},
            start_new_session=True,  # Ctrl-C reaches us only; we stop the children in order
        )

    def exited(self) -> int | None:
        """The exit code when the process has ended, else None."""
        return None if self.proc is None else self.proc.poll()

    def stop(self, timeout: float) -> None:
        """Ask the process to stop (SIGTERM), kill it after ``timeout`` seconds."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        if self._log is not None:
            self._log.close()
            self._log = None


@dataclass
class Stack:
    """The registry and the agents ``woa up`` runs."""

    registry: Process | None
    registry_url: str
    agents: list[Process]

    def all(self) -> Iterator[Process]:
        """The registry (when this stack runs one) and then the agents."""
        if self.registry is not None:
            yield self.registry
        yield from self.agents

    def stop(self, timeout: float = 10.0) -> None:
        """Stop the agents first (they deregister), then the registry."""
        for agent in self.agents:
            agent.stop(timeout)
        if self.registry is not None:
            self.registry.stop(timeout)


def plan_stack(
    agent_names: Sequence[str],
    *,
    host: str,
    registry_port: int,
    registry_url: str | None,
    database_url: str | None,
    first_agent_port: int,
    log_dir: Path,
) -> Stack:
    """The processes to start, with their command lines, ports and URLs."""
    woa = woa_executable()
    registry: Process | None = None
    if registry_url is None:
        registry_url = f"http://{host}:{registry_port}"
        argv = [*woa, "registry", "serve", "--host", host, "--port", str(registry_port)]
        if database_url:
            argv += ["--database-url", database_url]
        registry = Process("registry", argv, registry_url, log_dir / "registry.log")
    agents = []
    for offset, name in enumerate(agent_names):
        port = first_agent_port + offset
        url = f"http://{host}:{port}"
        argv = [*woa, "agents", "run", name, "--host", host, "--port", str(port)]
        argv += ["--registry-url", registry_url]
        agents.append(Process(name, argv, url, log_dir / f"{name}.log"))
    return Stack(registry, registry_url, agents)


async def _ready(client: httpx.AsyncClient, url: str) -> bool:
    with contextlib.suppress(httpx.HTTPError):
        return (await client.get(url)).status_code == 200
    return False


async def _card_did(client: httpx.AsyncClient, agent: Process) -> None:
    with contextlib.suppress(httpx.HTTPError, ValueError, KeyError, TypeError):
        card: dict[str, Any] = (await client.get(f"{agent.url}/.well-known/agent-card.json")).json()
        agent.skills = [skill["id"] for skill in card.get("skills", [])]
        for ext in card.get("capabilities", {}).get("extensions", []):
            did = (ext.get("params") or {}).get("did")
            if isinstance(did, str):
                agent.did = did


async def _registered(client: httpx.AsyncClient, registry_url: str, did: str) -> bool:
    with contextlib.suppress(httpx.HTTPError):
        return (await client.get(f"{registry_url}/v1/agents/{did}")).status_code == 200
    return False


def _table(stack: Stack) -> Table:
    table = Table(title="Web of Agents", expand=False)
    table.add_column("part", no_wrap=True)
    table.add_column("status", no_wrap=True)
    table.add_column("URL", no_wrap=True)
    table.add_column("skills", min_width=12)
    table.add_column("DID", no_wrap=True)
    for part in stack.all():
        colour = {"ready": "green", "registered": "green", "failed": "red"}.get(part.status)
        status = f"[{colour}]{part.status}[/{colour}]" if colour else part.status
        did = f"…{part.did[-8:]}" if part.did else ""  # the whole DID: woa agents list
        table.add_row(part.name, status, part.url, ", ".join(part.skills), did)
    return table


async def wait_until_up(stack: Stack, timeout: float, live: Live | None = None) -> list[str]:
    """Wait until the registry answers and every agent is registered; the failures' names."""
    deadline = time.monotonic() + timeout
    async with httpx.AsyncClient(timeout=3.0) as client:
        while time.monotonic() < deadline:
            for part in stack.all():
                if part.status in ("registered", "ready", "failed"):
                    continue
                if part.exited() is not None:
                    part.status = "failed"
                elif part is stack.registry:
                    if await _ready(client, f"{part.url}/healthz"):
                        part.status = "ready"
                elif part.did is None:
                    await _card_did(client, part)
                elif await _registered(client, stack.registry_url, part.did):
                    part.status = "registered"
            if live is not None:
                live.update(_table(stack))
            if all(p.status in ("registered", "ready", "failed") for p in stack.all()):
                break
            await asyncio.sleep(0.25)
    for part in stack.all():
        if part.status == "starting":
            part.status = "failed"
    if live is not None:
        live.update(_table(stack))
    return [p.name for p in stack.all() if p.status == "failed"]


def _interrupt(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt


def up(
    agents: str = typer.Option(
        None,
        "--agents",
        help="Comma-separated sample agents to start (default: every one `woa agents run` lists).",
    ),
    host: str = typer.Option("127.0.0.1", help="Address every part binds."),
    registry_port: int = typer.Option(8470, "--registry-port", min=1, max=65535),
    first_agent_port: int = typer.Option(
        8481, "--first-agent-port", min=1, max=65535, help="Agents take this port and the next."
    ),
    registry_url: str = typer.Option(
        None, "--registry-url", help="Use a registry already running instead of starting one."
    ),
    database_url: str = typer.Option(
        None, "--database-url", help="The registry's database (default: embedded SQLite)."
    ),
    log_dir: Path = typer.Option(Path(".woa/logs"), "--log-dir", help="Where each part logs."),
    timeout: float = typer.Option(
        180.0, min=1.0, help="Seconds to wait for every agent to register (models load first)."
    ),
) -> None:
    """Start the registry and the sample agents on loopback; Ctrl-C stops them all."""
    from woa_samples import CATALOG

    names = [n.strip() for n in (agents or ",".join(default_agents())).split(",") if n.strip()]
    unknown = [name for name in names if name not in CATALOG]
    if unknown:
        fail(f"no sample agent {', '.join(unknown)}; choose among: {', '.join(CATALOG)}")
    stack = plan_stack(
        names,
        host=host,
        registry_port=registry_port,
        registry_url=registry_url,
        database_url=database_url,
        first_agent_port=first_agent_port,
        log_dir=log_dir,
    )
    console.print(f"logs: {log_dir}/<part>.log", soft_wrap=True)
    signal.signal(signal.SIGTERM, _interrupt)  # `kill` stops the web as Ctrl-C does
    try:
        if stack.registry is not None:
            stack.registry.start()
        for agent in stack.agents:
            agent.start()
        with Live(_table(stack), console=console, refresh_per_second=4) as live:
            failed = asyncio.run(wait_until_up(stack, timeout, live))
        if failed:
            stack.stop()
            fail(f"did not come up: {', '.join(failed)} (see {log_dir}/<name>.log)")
        console.print(
            f"\nRegistry {stack.registry_url}  (dashboard {stack.registry_url}/ui)\n"
            "Try, in a second terminal:\n"
            "  .venv/bin/woa demo\n"
            "  .venv/bin/woa agents list\n"
            '  .venv/bin/woa agent call embed --input \'{"texts": ["hello"]}\'\n'
            "Ctrl-C stops everything.",
            soft_wrap=True,
        )
        while any(p.exited() is None for p in stack.all()):
            time.sleep(0.5)
        fail("a part of the stack exited; see its log")
    except KeyboardInterrupt:
        console.print("stopping: agents first (they deregister), then the registry")
    finally:
        stack.stop()
