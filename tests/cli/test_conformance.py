"""``woa conformance`` as a user runs it: subprocesses, real sockets, report files, exit codes."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import socket
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from pydantic import BaseModel

pytestmark = pytest.mark.timeout(240)

WOA = str(Path(sys.executable).with_name("woa"))


class Echo(BaseModel):
    text: str


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextlib.contextmanager
def registry_process(tmp_path: Path) -> Iterator[str]:
    """``woa registry serve`` on a free 127.0.0.1 port, with a 1 s minimum lease."""
    port = _free_port()
    env = {
        **os.environ,
        "WOA_REGISTRY_LEASE_MIN_SECONDS": "1",
        "WOA_REGISTRY_SWEEP_INTERVAL_SECONDS": "0.2",
    }
    cmd = [
        WOA,
        "registry",
        "serve",
        "--port",
        str(port),
        "--no-mdns",
        "--log-level",
        "warning",
        "--database-url",
        f"sqlite:///{tmp_path}/registry.db",
        "--key-file",
        str(tmp_path / "k.pem"),
    ]
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(url + "/healthz", timeout=1).status_code == 200:
                    break
            assert proc.poll() is None, proc.stderr.read().decode() if proc.stderr else ""
            assert time.monotonic() < deadline, "the registry did not start"
            time.sleep(0.1)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def test_woa_conformance_registry_passes_the_real_registry(tmp_path: Path) -> None:
    with registry_process(tmp_path) as url:
        result = subprocess.run(
            [
                WOA,
                "conformance",
                "registry",
                url,
                "--lease-wait",
                "10",
                "--timeout",
                "10",
                "--json",
                str(tmp_path / "r.json"),
                "--junit",
                str(tmp_path / "r.xml"),
            ],
            capture_output=True,
            text=True,
            timeout=200,
            check=False,
        )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    assert "PASSED" in result.stdout
    assert "REG-031" in result.stdout  # the summary table lists requirements
    report = json.loads((tmp_path / "r.json").read_text())
    assert report["passed"] is True
    assert report["target"] == {"kind": "registry", "url": url}
    statuses = {r["id"]: r["status"] for r in report["requirements"]}
    assert statuses["REG-031"] == statuses["STATE-043"] == statuses["RPL-003"] == "passed"
    assert set(report["counts"]) == {"passed"}
    suite = ET.parse(tmp_path / "r.xml").getroot()
    assert suite.tag == "testsuite"
    assert (suite.get("failures"), suite.get("errors")) == ("0", "0")
    names = [case.get("name") for case in suite.iter("testcase")]
    assert len(names) == len(report["checks"])
    assert any("replay_refused [RPL-003" in str(n) for n in names)


def test_woa_conformance_exits_1_when_a_must_fails(tmp_path: Path) -> None:
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        url = f"http://127.0.0.1:{server.getsockname()[1]}"
        # Nobody accepts: every request times out (the listen backlog holds the connects).
        result = subprocess.run(
            [
                WOA,
                "conformance",
                "agent",
                url,
                "--timeout",
                "0.5",
                "--level",
                "must",
                "--junit",
                str(tmp_path / "a.xml"),
            ],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
    assert result.returncode == 1, result.stdout[-2000:]
    assert "FAILED" in result.stdout
    assert "AGT-002" in result.stdout
    suite = ET.parse(tmp_path / "a.xml").getroot()
    assert int(suite.get("failures", "0")) + int(suite.get("errors", "0")) > 0


def test_help_lists_both_targets() -> None:
    result = subprocess.run(
        [WOA, "conformance", "--help"], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0
    assert "registry" in result.stdout
    assert "agent" in result.stdout
    result = subprocess.run(
        [WOA, "conformance", "registry", "--help"], capture_output=True, text=True, check=False
    )
    for option in ("--level", "--timeout", "--json", "--junit", "--lease-wait"):
        assert option in result.stdout


def test_requirements_lists_where_each_is_checked() -> None:
    result = subprocess.run(
        [WOA, "conformance", "requirements", "--json"], capture_output=True, text=True, check=False
    )
    rows = {r["id"]: r for r in json.loads(result.stdout)}
    assert rows["REG-031"]["checks"] == ["registry.lease_expiry"]
    assert rows["ID-005"]["appliesTo"] == ["library"]
    assert rows["ID-005"]["reason"]
    assert rows["AGT-073"]["appliesTo"] == ["deployment"]


async def test_woa_conformance_agent_passes_a_real_sdk_agent(tmp_path: Path) -> None:
    from woa_agents import Agent

    agent = Agent("socket sample", "Served on a real socket for the conformance CLI.")

    @agent.skill(family="classical", tags=["demo"], examples=[Echo(text="hi")])
    async def echo(request: Echo) -> Echo:
        """Repeat the text."""
        return request

    async with agent.running() as running:
        proc = await asyncio.create_subprocess_exec(
            WOA,
            "conformance",
            "agent",
            running.url,
            "--json",
            str(tmp_path / "a.json"),
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
        )
        out, _ = await asyncio.wait_for(proc.communicate(), timeout=180)
    assert proc.returncode == 0, out.decode()[-3000:]
    report = json.loads((tmp_path / "a.json").read_text())
    statuses = {r["id"]: r["status"] for r in report["requirements"]}
    for ident in ("AGT-030", "AGT-033", "MSG-010", "RPL-003", "EXT-001", "AGT-012"):
        assert statuses[ident] == "passed", (ident, statuses[ident])
