"""The README's "first ten minutes", run as written: three terminals, real processes."""

from __future__ import annotations

import os
import re
import shlex
import signal
import socket
import subprocess
import time
from pathlib import Path
from typing import IO

import pytest

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"


def first_ten_minutes() -> dict[str, list[str]]:
    """The block's command lines, by terminal ("setup" for the lines before terminal 1)."""
    text = README.read_text(encoding="utf-8")
    section = text.split("## The first ten minutes", 1)[1]
    block = re.search(r"```sh\n(.*?)```", section, re.S)
    assert block is not None
    terminals: dict[str, list[str]] = {"setup": []}
    current = "setup"
    for line in block.group(1).splitlines():
        header = re.match(r"# (terminal \d)", line)
        if header:
            current = header.group(1)
            terminals[current] = []
        elif line.strip():
            terminals[current].append(line.split("  #", 1)[0].strip())
    return terminals


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_for(stream: IO[str], needle: str, timeout: float = 30) -> str:
    seen = ""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        line = stream.readline()
        if not line:
            break
        seen += line
        if needle in line:
            return seen
    raise AssertionError(f"{needle!r} never printed; got:\n{seen}")


def test_the_block_names_the_makefile_setup_and_three_terminals() -> None:
    terminals = first_ten_minutes()
    assert terminals["setup"] == ["make venv"]
    assert "venv:" in (ROOT / "Makefile").read_text(encoding="utf-8")
    assert list(terminals) == ["setup", "terminal 1", "terminal 2", "terminal 3"]


@pytest.mark.timeout(180)
def test_first_ten_minutes_run_as_written(tmp_path: Path) -> None:
    terminals = first_ten_minutes()
    (tmp_path / ".venv").symlink_to(ROOT / ".venv")
    (tmp_path / "docs").symlink_to(ROOT / "docs")
    port = free_port()
    env = {
        **os.environ,
        "WOA_REGISTRY_PORT": str(port),  # the README's own knobs, so the test's ports are free
        "WOA_REGISTRY_URL": f"http://127.0.0.1:{port}",
        "GREETER_PORT": "0",
        "PYTHONUNBUFFERED": "1",
    }
    services: list[subprocess.Popen[str]] = []

    def serve(command: str) -> subprocess.Popen[str]:
        process = subprocess.Popen(
            shlex.split(command),
            cwd=tmp_path,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        services.append(process)
        return process

    outputs: dict[str, str] = {}
    try:
        (registry,) = terminals["terminal 1"]
        assert registry.startswith(".venv/bin/woa registry serve")
        printed = wait_for(serve(registry).stdout, "listening on")  # type: ignore[arg-type]
        assert f"http://127.0.0.1:{port}" in printed
        (agent,) = terminals["terminal 2"]
        printed = wait_for(serve(agent).stdout, "registered with")  # type: ignore[arg-type]
        assert f"registered with http://127.0.0.1:{port}" in printed
        for command in terminals["terminal 3"]:
            result = subprocess.run(
                shlex.split(command),
                cwd=tmp_path,
                env=env,
                capture_output=True,
                text=True,
                timeout=60,
                check=False,
            )
            assert result.returncode == 0, f"{command}\n{result.stdout}\n{result.stderr}"
            outputs[command] = result.stdout
    finally:
        for process in reversed(services):
            process.send_signal(signal.SIGINT)
            try:
                process.wait(15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(5)
    said = "\n".join(outputs.values())
    assert "greeter" in said  # agents list
    assert '"text": "Hello, Ada!"' in said  # agent call
    assert "1 entries verified" in said  # state history
