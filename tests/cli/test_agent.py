"""``woa agent call`` and ``woa agent card`` against real agents (and a registry) on loopback."""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.agents.conftest import make_agent
from woa_cli.main import app
from woa_protocol import SigningKey
from woa_protocol.keyfile import save_key

runner = CliRunner()


class Background:
    """Runs a registry and an agent registered with it in a thread with its own event loop."""

    def __init__(self, tmp: Path) -> None:
        self.tmp = tmp
        self.ready = threading.Event()
        self.done = threading.Event()
        self.agent = make_agent(lease_seconds=10, heartbeat_interval=0.5)
        self.agent_url = ""
        self.registry_url = ""
        self.thread = threading.Thread(target=lambda: asyncio.run(self._main()), daemon=True)

    async def _main(self) -> None:
        from tests.agents.test_e2e import RegistryServer, free_port

        registry = await RegistryServer(self.tmp, free_port(), "cli.db").start()
        try:
            async with self.agent.running(registry_url=registry.url) as running:
                assert running.lifecycle is not None
                await asyncio.wait_for(running.lifecycle.registered.wait(), 10)
                self.agent_url, self.registry_url = running.url, registry.url
                self.ready.set()
                while not self.done.is_set():
                    await asyncio.sleep(0.05)
        finally:
            await registry.stop()

    def __enter__(self) -> Background:
        self.thread.start()
        assert self.ready.wait(20), "background agent did not start"
        return self

    def __exit__(self, *exc: object) -> None:
        self.done.set()
        self.thread.join(20)


@pytest.fixture
def background(tmp_path: Path) -> Iterator[Background]:
    with Background(tmp_path) as bg:
        yield bg


def test_card_prints_the_checked_card(background: Background) -> None:
    result = runner.invoke(app, ["agent", "card", background.agent_url])
    assert result.exit_code == 0, result.output
    assert background.agent.did in result.output
    assert '"name": "tester"' in result.output


@pytest.mark.req("AGT-050")
def test_call_through_the_registry_and_directly(background: Background, tmp_path: Path) -> None:
    key = SigningKey.generate()
    save_key(key, tmp_path / "me.pem")
    args = [
        "agent",
        "call",
        "echo",
        "--input",
        '{"text": "cli"}',
        "--key",
        str(tmp_path / "me.pem"),
    ]
    through_registry = runner.invoke(app, [*args, "--registry", background.registry_url])
    assert through_registry.exit_code == 0, through_registry.output
    assert json.loads(through_registry.output) == {"text": "cli", "caller": key.did}
    direct = runner.invoke(app, [*args, "--agent", background.agent_url])
    assert direct.exit_code == 0, direct.output
    assert json.loads(direct.output)["text"] == "cli"


def test_call_with_bad_input(background: Background) -> None:
    not_json = runner.invoke(
        app, ["agent", "call", "echo", "--input", "{", "--agent", background.agent_url]
    )
    assert not_json.exit_code == 1
    assert "not JSON" in not_json.output
    invalid = runner.invoke(
        app, ["agent", "call", "echo", "--input", '{"text": 3}', "--agent", background.agent_url]
    )
    assert invalid.exit_code == 1
    assert "$.text" in invalid.output
    unknown = runner.invoke(
        app, ["agent", "call", "nope", "--input", "{}", "--registry", background.registry_url]
    )
    assert unknown.exit_code == 1
    assert "no registered agent offers 'nope'" in unknown.output


def test_card_of_nothing_fails_cleanly() -> None:
    result = runner.invoke(app, ["agent", "card", "http://127.0.0.1:9/"])
    assert result.exit_code == 1
    assert "cannot fetch" in result.output


def test_call_with_no_registry_fails_cleanly() -> None:
    result = runner.invoke(
        app, ["agent", "call", "echo", "--input", "{}", "--registry", "http://127.0.0.1:9"]
    )
    assert result.exit_code == 1
    assert "unreachable" in result.output


# -- plain A2A: --text and --file against an ordinary a2a-sdk agent --------------------------


@pytest.fixture
def plain_agent() -> Iterator[str]:
    from functools import partial

    from tests.agents.a2a_sdk_agents import a2a_sdk_app, serve_in_thread

    with serve_in_thread(partial(a2a_sdk_app, "shout")) as url:
        yield url


@pytest.mark.req("AGT-062")
def test_text_and_files_to_a_plain_a2a_agent(plain_agent: str, tmp_path: Path) -> None:
    base = ["agent", "call", "shout", "--agent", plain_agent, "--allow-unsigned"]
    text = runner.invoke(app, [*base, "--text", "hello cli"])
    assert text.exit_code == 0, text.output
    assert text.output == "HELLO CLI\n"  # text is printed as it is, not as JSON
    picture = tmp_path / "dot.png"
    picture.write_bytes(b"\x89PNG-bytes")
    out = tmp_path / "out"
    saved = runner.invoke(app, [*base, "--file", str(picture), "--out", str(out)])
    assert saved.exit_code == 0, saved.output
    assert (out / "reversed-dot.png").read_bytes() == b"setyb-GNP\x89"
    assert "got dot.png (image/png, 10 bytes)" in saved.output
    assert "image/png" in saved.output
    typed = runner.invoke(app, [*base, "--file", str(picture), "--media-type", "image/x-test"])
    assert typed.exit_code == 0, typed.output
    assert "got dot.png (image/x-test, 10 bytes)" in typed.output
    assert "pass --out DIR to save it" in typed.output  # nothing written without --out
    mixed = runner.invoke(app, [*base, "--text", "hi", "--input", '{"n": 1}'])
    assert mixed.exit_code == 0, mixed.output
    assert json.loads(mixed.output) == {"echo": {"n": 1}}


def test_call_needs_some_input_and_readable_files(tmp_path: Path) -> None:
    nothing = runner.invoke(app, ["agent", "call", "echo", "--agent", "http://127.0.0.1:9/"])
    assert nothing.exit_code == 1
    assert "--input JSON, --text TEXT and/or --file PATH" in nothing.output
    missing = runner.invoke(
        app, ["agent", "call", "echo", "--file", str(tmp_path / "nope.png"), "--agent", "x"]
    )
    assert missing.exit_code == 1
    assert "nope.png" in missing.output.replace("\n", "")  # a long tmp path may wrap
