"""The tutorial's code runs as written: its main block against a real registry, its test
block against the agent the main block defines."""

from __future__ import annotations

import asyncio
import os
import re
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
TUTORIAL = ROOT / "docs" / "tutorial.md"


def python_blocks() -> list[str]:
    return re.findall(r"```python\n(.*?)```", TUTORIAL.read_text(encoding="utf-8"), re.S)


def test_agent_block_is_under_30_lines() -> None:
    agent = python_blocks()[0].split("async def main")[0].rstrip()
    assert len(agent.splitlines()) < 30  # every line counts, imports and blank ones too


def _serve_registry(
    tmp: Path, ready: threading.Event, done: threading.Event, out: list[str]
) -> None:
    async def main() -> None:
        from .test_e2e import RegistryServer, free_port

        registry = await RegistryServer(tmp, free_port(), "tutorial.db").start()
        out.append(registry.url)
        ready.set()
        while not done.is_set():
            await asyncio.sleep(0.05)
        await registry.stop()

    asyncio.run(main())


@pytest.mark.req("AGT-002")
def test_tutorial_runs_against_a_real_registry(tmp_path: Path) -> None:
    ready, done, urls = threading.Event(), threading.Event(), []
    thread = threading.Thread(target=_serve_registry, args=(tmp_path, ready, done, urls))
    thread.start()
    try:
        assert ready.wait(20)
        script = tmp_path / "greeter.py"
        script.write_text(python_blocks()[0], encoding="utf-8")
        result = subprocess.run(
            [sys.executable, str(script)],
            env={**os.environ, "WOA_REGISTRY_URL": urls[0]},
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
    finally:
        done.set()
        thread.join(20)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "greeter -> Hello, Ada!"


def test_tutorial_test_block_passes_as_written(tmp_path: Path) -> None:
    """Both files saved as the text says, pytest run as it says, outside this repository."""
    (tmp_path / "greeter.py").write_text(python_blocks()[0], encoding="utf-8")
    (tmp_path / "test_greeter.py").write_text(python_blocks()[1], encoding="utf-8")
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "test_greeter.py"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 passed" in result.stdout


def test_commands_name_the_venv_and_the_settings() -> None:
    text = TUTORIAL.read_text(encoding="utf-8")
    commands = re.findall(r"```bash\n(.*?)```", text, re.S)
    for block in commands:
        for line in block.strip().splitlines():
            assert line.startswith(".venv/bin/"), line
    assert "WOA_REGISTRY_URL" in text.split("```python")[0]
    assert "WOA_REGISTRY_PORT" in text


@pytest.mark.req("AGT-015")
@pytest.mark.req("AGT-019")
async def test_tutorial_text_skill_answers_a_plain_text_message() -> None:
    from woa_protocol import SigningKey

    from .conftest import RawCaller

    namespace: dict[str, Any] = {}
    exec(python_blocks()[0], namespace)  # not __main__: the guard keeps main() from running
    app = namespace["agent"].app("http://agent.test/")
    async with app.router.lifespan_context(app):
        raw = RawCaller(app, SigningKey.generate())
        message = {"messageId": "m1", "role": "ROLE_USER", "parts": [{"text": "hi"}]}
        body = await raw.rpc("SendMessage", {"message": message})
        await raw.http.aclose()
    assert body["result"]["task"]["artifacts"][0]["parts"] == [{"text": "You said: hi"}]
