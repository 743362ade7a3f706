from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from woa_cli.main import app
from woa_protocol import SigningKey
from woa_protocol.keyfile import save_key

runner = CliRunner()


def _card() -> dict[str, Any]:
    return {
        "name": "echo",
        "description": "Echoes its input.",
        "supportedInterfaces": [{"url": "http://127.0.0.1:9000/a2a", "protocolBinding": "JSONRPC"}],
        "version": "1.0.0",
        "capabilities": {"streaming": True},
        "defaultInputModes": ["application/json"],
        "defaultOutputModes": ["application/json"],
        "skills": [{"id": "echo", "name": "Echo", "description": "Echo", "tags": ["test"]}],
    }


@pytest.fixture
def key_file(tmp_path: Path) -> tuple[Path, SigningKey]:
    key = SigningKey.generate()
    path = tmp_path / "key.pem"
    save_key(key, path)
    return path, key


@pytest.mark.req("CARD-004")
def test_sign_then_verify_then_tamper(tmp_path: Path, key_file: tuple[Path, SigningKey]) -> None:
    path, key = key_file
    card_path = tmp_path / "card.json"
    card_path.write_text(json.dumps(_card()))
    signed_path = tmp_path / "signed.json"
    signed = runner.invoke(
        app, ["card", "sign", str(card_path), "--key", str(path), "-o", str(signed_path)]
    )
    assert signed.exit_code == 0, signed.output
    ok = runner.invoke(app, ["card", "verify", str(signed_path), "--did", key.did])
    assert ok.exit_code == 0, ok.output
    assert key.did in ok.output

    other = SigningKey.generate().did
    wrong = runner.invoke(app, ["card", "verify", str(signed_path), "--did", other])
    assert wrong.exit_code == 1

    data = json.loads(signed_path.read_text())
    data["description"] = "Echoes its input, and more."
    signed_path.write_text(json.dumps(data))
    tampered = runner.invoke(app, ["card", "verify", str(signed_path)])
    assert tampered.exit_code == 1
    assert "does not verify" in tampered.output


def test_verify_unsigned_and_non_json(tmp_path: Path) -> None:
    card_path = tmp_path / "card.json"
    card_path.write_text(json.dumps(_card()))
    result = runner.invoke(app, ["card", "verify", str(card_path)])
    assert result.exit_code == 1
    assert "no signatures" in result.output
    card_path.write_text("[1,2")
    assert runner.invoke(app, ["card", "verify", str(card_path)]).exit_code == 1
