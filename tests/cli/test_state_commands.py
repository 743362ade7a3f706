"""``woa state namespace|get|put|patch|watch|history`` against a real registry on 127.0.0.1."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.registry._support import LiveServer
from woa_cli.main import app
from woa_protocol import SigningKey
from woa_protocol.keyfile import save_key
from woa_registry import RegistrySettings
from woa_registry.settings import load_or_create_key

runner = CliRunner()


@pytest.fixture
def registry_url(tmp_path: Path) -> Iterator[str]:
    settings = RegistrySettings(
        database_url=f"sqlite:///{tmp_path}/r.db",
        key_file=tmp_path / "key.pem",
        rate_per_address=0,
    )
    server = LiveServer(settings, key=load_or_create_key(settings.key_file)).start()
    yield server.url
    server.stop()


@pytest.fixture
def key_file(tmp_path: Path) -> Path:
    path = tmp_path / "agent.pem"
    save_key(SigningKey.generate(), path)
    return path


def woa(*args: str) -> str:
    result = runner.invoke(app, list(args))
    assert result.exit_code == 0, result.output
    return result.output


@pytest.mark.parametrize("command", ["namespace", "get", "put", "patch", "watch", "history"])
def test_help(command: str) -> None:
    assert "Usage" in woa("state", command, "--help")


def test_bench_state_is_registered() -> None:
    out = woa("bench", "state", "--help")
    assert "signed no-op" in out


@pytest.mark.req("STATE-012")
@pytest.mark.req("STATE-032")
def test_put_get_patch_watch_history(registry_url: str, key_file: Path) -> None:
    r = ["-r", registry_url, "-k", str(key_file)]
    created = json.loads(woa("state", "namespace", "plans", "--public-read", *r))
    assert created["publicRead"] is True
    assert "version 1" in woa("state", "put", "plans", "goal", '{"steps": []}', "--create", *r)
    out = woa(
        "state",
        "patch",
        "plans",
        "goal",
        '[{"op": "add", "path": "/steps/-", "value": "ocr"}]',
        "--if-match",
        "1",
        *r,
    )
    assert '"ocr"' in out
    assert "version 2" in out
    doc = json.loads(woa("state", "get", "plans", "goal", "--json", "-r", registry_url))
    assert doc["value"] == {"steps": ["ocr"]}
    assert doc["version"] == 2
    watched = woa("state", "watch", "plans", "--since", "0", "--count", "2", "-r", registry_url)
    assert [json.loads(line)["version"] for line in watched.splitlines()] == [1, 2]
    history = woa("state", "history", "plans", "goal", "-r", registry_url)
    assert "2 entries verified" in history


def test_refusals_are_reported(registry_url: str, key_file: Path) -> None:
    r = ["-r", registry_url, "-k", str(key_file)]
    woa("state", "namespace", "plans", *r)
    woa("state", "put", "plans", "goal", "1", "--create", *r)
    stale = runner.invoke(app, ["state", "put", "plans", "goal", "2", "--if-match", "7", *r])
    assert stale.exit_code == 1
    assert "state-version-mismatch" in stale.output
    assert "current version 1" in stale.output
    both = runner.invoke(app, ["state", "put", "plans", "goal", "2", *r])
    assert both.exit_code == 1
    assert "--if-match" in both.output
    bad = runner.invoke(app, ["state", "put", "plans", "goal", "{nope", "--create", *r])
    assert bad.exit_code == 1
    assert "not JSON" in bad.output
    anonymous = runner.invoke(app, ["state", "get", "plans", "goal", "-r", registry_url])
    assert anonymous.exit_code == 1
    assert "state-forbidden" in anonymous.output
    # watch reports a refusal the way every other state command does
    got = runner.invoke(app, ["state", "get", "nowhere", "k", "-r", registry_url])
    watched = runner.invoke(app, ["state", "watch", "nowhere", "-r", registry_url])
    assert watched.exit_code == got.exit_code == 1
    assert watched.output == got.output
    assert "urn:woa:problem:state-namespace-not-found" in watched.output
