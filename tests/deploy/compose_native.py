"""Run docker-compose.yml's services natively: each service's own command, environment and
healthcheck, on loopback, with this machine's PostgreSQL standing in for the ``postgres``
service. Docker cannot run here; this is how the tests prove the compose file's services.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[2]
COMPOSE_FILE = ROOT / "docker-compose.yml"
COMPOSE_SCHEMA = next(
    (
        folder / "shared" / "reference" / "compose-spec.json"
        for folder in (ROOT.parent, ROOT.parent.parent)  # a clone, or a git worktree
        if (folder / "shared" / "reference" / "compose-spec.json").exists()
    ),
    ROOT.parent / "shared" / "reference" / "compose-spec.json",
)
WOA = [str(Path(sys.executable).with_name("woa"))]
PORT_VARIABLES = ("WOA_REGISTRY_PORT", "WOA_AGENT_PORT")


def load_compose() -> dict[str, Any]:
    """The compose file, YAML anchors and merge keys resolved."""
    document: dict[str, Any] = yaml.safe_load(COMPOSE_FILE.read_text())
    return document


def free_port() -> int:
    """A TCP port free on 127.0.0.1 right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def start_order(services: dict[str, Any]) -> list[str]:
    """Service names, each after the services it depends on."""
    order: list[str] = []

    def visit(name: str, path: tuple[str, ...]) -> None:
        if name in order:
            return
        if name in path:
            raise ValueError(f"dependency cycle: {' -> '.join((*path, name))}")
        for dep in services[name].get("depends_on", {}) or {}:
            visit(dep, (*path, name))
        order.append(name)

    for name in services:
        visit(name, ())
    return order


def container_port(service: dict[str, Any]) -> int | None:
    """The port the service listens on inside its container."""
    env = service.get("environment", {}) or {}
    for variable in PORT_VARIABLES:
        if variable in env:
            return int(env[variable])
    return None


@dataclass
class NativeService:
    """One compose service run as a local process."""

    name: str
    argv: list[str]
    env: dict[str, str]
    healthcheck: list[str]
    port: int
    log: Path
    proc: subprocess.Popen[bytes] | None = field(default=None, repr=False)

    @property
    def url(self) -> str:
        """Where the service answers on this machine."""
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        """Start the process with the compose environment, output to :attr:`log`."""
        with self.log.open("ab") as out:
            self.proc = subprocess.Popen(
                self.argv,
                env={**os.environ, **self.env},
                stdout=out,
                stderr=subprocess.STDOUT,
                cwd=self.log.parent,
            )

    def healthy(self) -> bool:
        """Run the service's own healthcheck command, as Docker would."""
        result = subprocess.run(self.healthcheck, capture_output=True, timeout=10, check=False)
        return result.returncode == 0

    def wait_healthy(self, timeout: float) -> None:
        """Wait until the healthcheck passes; raise with the log's tail when it does not."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc is not None and self.proc.poll() is not None:
                break
            if self.healthy():
                return
            time.sleep(0.5)
        tail = self.log.read_text(errors="replace")[-3000:]
        raise AssertionError(f"service {self.name} not healthy in {timeout:.0f}s:\n{tail}")

    def stop(self) -> None:
        """SIGTERM, then SIGKILL after 15 s."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)


def native_services(
    compose: dict[str, Any], names: list[str], database_url: str, workdir: Path
) -> list[NativeService]:
    """Translate ``names`` (in start order) into local processes.

    Host names ``http://SERVICE:PORT`` become ``http://127.0.0.1:NATIVE_PORT``, each service
    gets a free port in place of its container port, the ``postgres`` service's URL becomes
    ``database_url``, and container paths (``/keys``, ``/data``) move under ``workdir``.
    """
    services = compose["services"]
    ports = {name: free_port() for name in services if container_port(services[name])}

    def rewrite(text: str) -> str:
        for name, port in ports.items():
            inner = container_port(services[name])
            text = text.replace(f"http://{name}:{inner}", f"http://127.0.0.1:{port}")
        text = re.sub(r"postgresql://[^@]+@postgres:5432/\w+", database_url, text)
        for mount in ("/keys", "/data"):
            text = re.sub(rf"(?<![\w.]){mount}(?=/|$)", str(workdir / mount.strip("/")), text)
        return text

    result = []
    for name in names:
        service = services[name]
        port = ports[name]
        env = {k: rewrite(str(v)) for k, v in (service.get("environment") or {}).items()}
        for variable in PORT_VARIABLES:
            if variable in env:
                env[variable] = str(port)
        for key, value in env.items():
            if value == "0.0.0.0":
                env[key] = "127.0.0.1"
        inner = container_port(service)
        check = [str(part) for part in service["healthcheck"]["test"]]
        assert check[0] == "CMD", f"{name}: healthcheck must be exec form (CMD)"
        check = [
            sys.executable if part == "python" else part.replace(f":{inner}/", f":{port}/")
            for part in check[1:]
        ]
        (workdir / "data").mkdir(parents=True, exist_ok=True)
        (workdir / "keys").mkdir(parents=True, exist_ok=True)
        argv = [*WOA, *(rewrite(str(part)) for part in service["command"])]
        result.append(NativeService(name, argv, env, check, port, workdir / f"{name}.log"))
    return result
