from __future__ import annotations

import json
import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from woa_protocol import InvalidKeyError, SigningKey
from woa_protocol.keyfile import load_key, save_key

from ._support import KEY1, KEY2


@pytest.fixture
def permissive_umask() -> Iterator[None]:
    previous = os.umask(0)
    try:
        yield
    finally:
        os.umask(previous)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.mark.req("ID-004")
@pytest.mark.usefixtures("permissive_umask")
@pytest.mark.parametrize("fmt", ["pem", "jwk"])
def test_saved_key_has_mode_0600_and_loads_back(tmp_path: Path, fmt: str) -> None:
    path = tmp_path / "keys" / f"agent.{fmt}"
    save_key(KEY1, path, fmt)  # type: ignore[arg-type]
    assert mode(path) == 0o600
    assert load_key(path).seed == KEY1.seed


@pytest.mark.req("ID-004")
def test_jwk_file_is_rfc8037_json(tmp_path: Path) -> None:
    path = tmp_path / "agent.jwk"
    save_key(KEY1, path, "jwk")
    data = json.loads(path.read_text())
    assert data["kty"] == "OKP"
    assert data["crv"] == "Ed25519"
    assert data["kid"].startswith(KEY1.did + "#")


@pytest.mark.req("ID-004")
@pytest.mark.parametrize("fmt", ["pem", "jwk"])
def test_existing_file_is_not_overwritten(tmp_path: Path, fmt: str) -> None:
    path = tmp_path / "agent.key"
    save_key(KEY1, path, fmt)  # type: ignore[arg-type]
    before = path.read_bytes()
    with pytest.raises(FileExistsError):
        save_key(KEY2, path, fmt)  # type: ignore[arg-type]
    assert path.read_bytes() == before
    assert load_key(path).seed == KEY1.seed


@pytest.mark.req("ID-004")
def test_overwrite_replaces_and_tightens_mode(tmp_path: Path) -> None:
    path = tmp_path / "agent.pem"
    path.write_text("old, world-readable")
    path.chmod(0o644)
    save_key(KEY2, path, "pem", overwrite=True)
    assert mode(path) == 0o600
    assert load_key(path).seed == KEY2.seed


@pytest.mark.parametrize(
    "content",
    [b"", b"hello", b"{not json", b'{"kty": "OKP"}', b"-----BEGIN PRIVATE KEY-----\nxx\n"],
    ids=["empty", "text", "bad-json", "jwk-without-key", "bad-pem"],
)
def test_unreadable_key_file_is_rejected(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "bad.key"
    path.write_bytes(content)
    path.chmod(0o600)
    with pytest.raises(InvalidKeyError):
        load_key(path)


def test_missing_file_raises_file_not_found(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        load_key(tmp_path / "absent.pem")


def test_generated_key_survives_both_formats(tmp_path: Path) -> None:
    key = SigningKey.generate()
    save_key(key, tmp_path / "k.pem", "pem")
    save_key(key, tmp_path / "k.jwk", "jwk")
    assert load_key(tmp_path / "k.pem").did == load_key(tmp_path / "k.jwk").did == key.did


@pytest.mark.req("ID-007")
@pytest.mark.skipif(os.name != "posix", reason="POSIX file modes")
@pytest.mark.parametrize("mode", [0o644, 0o640, 0o604, 0o620, 0o666])
def test_a_key_file_open_to_others_is_refused(tmp_path: Path, mode: int) -> None:
    path = tmp_path / "k.pem"
    save_key(KEY1, path)
    path.chmod(mode)
    with pytest.raises(InvalidKeyError, match=f"mode {mode:04o}.*chmod 600"):
        load_key(path)
    path.chmod(0o600)
    assert load_key(path).seed == KEY1.seed
    path.chmod(0o400)
    assert load_key(path).seed == KEY1.seed
