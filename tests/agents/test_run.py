"""``Agent.run`` as a person sees it: where it serves, where it registered, loud retries."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from .test_e2e import free_port

SCRIPT = """
import sys
from pydantic import BaseModel
from woa_agents import Agent

class Text(BaseModel):
    text: str

agent = Agent("echo", "Echoes text.", registry_url=sys.argv[2])

@agent.skill(family="classical")
async def echo(request: Text) -> Text:
    return request

if __name__ == "__main__":
    agent.run(port=int(sys.argv[1]))
"""


@pytest.fixture
def live_registry_url(tmp_path: Path) -> Iterator[str]:
    """``woa registry serve`` in its own process, on a free port."""
    port = free_port()
    woa = Path(sys.executable).with_name("woa")
    process = subprocess.Popen(
        [str(woa), "registry", "serve", "--port", str(port), "--no-mdns",
         "--database-url", f"sqlite:///{tmp_path}/r.db", "--key-file", str(tmp_path / "r.pem")],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )  # fmt: skip
    try:
        read_until(process.stdout, "listening on")
        yield f"http://127.0.0.1:{port}"
    finally:
        stop(process)


def start(tmp_path: Path, registry_url: str) -> subprocess.Popen[str]:
    script = tmp_path / "echo_agent.py"
    script.write_text(SCRIPT, encoding="utf-8")
    return subprocess.Popen(
        [sys.executable, "-u", str(script), str(free_port()), registry_url],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )


def read_until(stream: object, needle: str, timeout: float = 20) -> list[str]:
    lines: list[str] = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        line = stream.readline()  # type: ignore[attr-defined]
        if not line:
            break
        lines.append(line)
        if needle in line:
            return lines
    raise AssertionError(f"{needle!r} not seen in {lines}")


def stop(process: subprocess.Popen[str]) -> None:
    process.send_signal(signal.SIGINT)
    try:
        process.wait(10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(5)


@pytest.mark.timeout(60)
def test_run_says_where_it_registered(tmp_path: Path, live_registry_url: str) -> None:
    process = start(tmp_path, live_registry_url)
    try:
        lines = read_until(process.stdout, "registered with")
    finally:
        stop(process)
    text = "".join(lines)
    assert "serving at http://127.0.0.1:" in text
    assert f"registering with {live_registry_url}" in text
    assert f"registered with {live_registry_url}" in text


@pytest.mark.timeout(60)
def test_run_warns_loudly_while_the_registry_is_unreachable(tmp_path: Path) -> None:
    url = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    process = start(tmp_path, url)
    try:
        warning = read_until(process.stderr, "cannot reach the registry")[-1]
        assert process.poll() is None  # still serving, still retrying
    finally:
        stop(process)
    assert warning.startswith("WARNING woa_agents.lifecycle:")
    assert url in warning
    assert "All connection attempts failed" in warning  # the reason
    assert "retrying" in warning
