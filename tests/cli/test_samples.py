"""``woa agents run NAME``: a sample agent started from the command line, found and called."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
from typer.testing import CliRunner

from woa_benchmarks._harness import registry_server
from woa_cli.main import app

runner = CliRunner()


def test_help_lists_every_sample_agent() -> None:
    from woa_samples import CATALOG

    result = runner.invoke(app, ["agents", "run", "--help"])
    assert result.exit_code == 0
    for name in CATALOG:
        assert name in result.output
    assert "web-of-agents[NAME]" in result.output


def test_an_unknown_name_is_refused() -> None:
    result = runner.invoke(app, ["agents", "run", "painter", "--no-register"])
    assert result.exit_code == 1
    assert "no sample agent 'painter'" in result.output


def test_run_the_embedder_then_find_and_call_it(tmp_path: Path) -> None:
    with registry_server(f"sqlite:///{tmp_path}/r.db", tmp_path, {}) as (registry, _pid):
        command = [
            sys.executable, "-c", "from woa_cli.main import app; app()",
            "agents", "run", "embedder", "--port", "0", "--registry-url", registry,
        ]  # fmt: skip
        proc = subprocess.Popen(
            command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
        )
        lines: list[str] = []
        threading.Thread(target=lambda: lines.extend(proc.stdout or ()), daemon=True).start()
        try:
            deadline = time.monotonic() + 120
            listed: list[dict[str, object]] = []
            while not listed:
                assert proc.poll() is None, "".join(lines)
                assert time.monotonic() < deadline, "".join(lines)
                time.sleep(0.2)
                page = httpx.get(f"{registry}/v1/agents", params={"skill": "classify"}).json()
                listed = page.get("agents", [])
            assert any("loading the model" in line for line in lines)
            assert any("serving at http://127.0.0.1:" in line for line in lines)
            payload = {"text": "It will rain all weekend.", "labels": ["sports", "weather"]}
            result = runner.invoke(
                app,
                [
                    "agent",
                    "call",
                    "classify",
                    "--registry",
                    registry,
                    "--input",
                    json.dumps(payload),
                ],
            )
            assert result.exit_code == 0, result.output
            assert json.loads(result.output)["label"] == "weather"
        finally:
            proc.send_signal(signal.SIGINT)
            assert proc.wait(timeout=30) == 0
        page = httpx.get(f"{registry}/v1/agents", params={"skill": "classify"}).json()
        assert page["agents"] == []  # Ctrl-C deregistered it
