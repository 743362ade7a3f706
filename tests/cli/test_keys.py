from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest
from typer.testing import CliRunner

from woa_cli.main import app
from woa_protocol.keyfile import load_key

runner = CliRunner()


@pytest.mark.req("ID-004")
def test_keys_new_writes_0600_and_refuses_to_overwrite(tmp_path: Path) -> None:
    path = tmp_path / "me.pem"
    result = runner.invoke(app, ["keys", "new", "--out", str(path)])
    assert result.exit_code == 0, result.output
    did = result.output.strip().splitlines()[-1]
    assert did == load_key(path).did
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    again = runner.invoke(app, ["keys", "new", "--out", str(path)])
    assert again.exit_code == 1
    assert "exists" in again.output
    assert load_key(path).did == did  # untouched


def test_keys_new_jwk_and_show_json(tmp_path: Path) -> None:
    path = tmp_path / "me.jwk"
    assert runner.invoke(app, ["keys", "new", "--out", str(path), "--format", "jwk"]).exit_code == 0
    shown = runner.invoke(app, ["keys", "show", str(path), "--json"])
    assert shown.exit_code == 0, shown.output
    info = json.loads(shown.output)
    assert info["did"] == load_key(path).did
    assert info["kid"] == f"{info['did']}#{info['did'][len('did:key:') :]}"
    assert info["publicJwk"]["kty"] == "OKP"
    assert "d" not in info["publicJwk"]


def test_keys_show_rejects_garbage(tmp_path: Path) -> None:
    path = tmp_path / "bad.pem"
    path.write_text("not a key")
    path.chmod(0o600)
    result = runner.invoke(app, ["keys", "show", str(path)])
    assert result.exit_code == 1
    assert "neither a PEM nor a JWK" in result.output


def test_unknown_format_is_refused(tmp_path: Path) -> None:
    result = runner.invoke(app, ["keys", "new", "--out", str(tmp_path / "k"), "--format", "der"])
    assert result.exit_code == 1
    assert not (tmp_path / "k").exists()
