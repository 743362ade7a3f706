"""Reading and writing key files.

The one place in the protocol package that touches the file system: keys are protocol
material and every part (CLI, registry, agents) loads them the same way. Private key files
are created with mode 0600 and never overwritten silently.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Literal

from . import strict_json
from .errors import CanonicalizationError, InvalidKeyError, MalformedJsonError
from .identity import SigningKey

__all__ = ["KeyFormat", "check_key_file_mode", "load_key", "save_key"]

KeyFormat = Literal["pem", "jwk"]


def save_key(
    key: SigningKey, path: Path, fmt: KeyFormat = "pem", *, overwrite: bool = False
) -> None:
    """Write a private key to ``path`` with mode 0600 (refuses to overwrite unless told)."""
    data = key.to_pem() if fmt == "pem" else (json.dumps(key.to_jwk(), indent=2) + "\n").encode()
    flags = os.O_WRONLY | os.O_CREAT | (os.O_TRUNC if overwrite else os.O_EXCL)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, flags, 0o600)
    try:
        os.fchmod(fd, 0o600)
        os.write(fd, data)
    finally:
        os.close(fd)


def check_key_file_mode(path: Path) -> None:
    """Refuse a key file that other users may read or write (ID-007); POSIX only."""
    if os.name != "posix":
        return
    mode = path.stat().st_mode & 0o777
    if mode & 0o077:
        raise InvalidKeyError(
            f"{path} is a private key that other users may read or change (mode {mode:04o});"
            f" make it private with: chmod 600 {path}"
        )


def load_key(path: Path) -> SigningKey:
    """Read a private key file written as PEM or JWK (the format is detected).

    Raises :class:`InvalidKeyError` when the file is open to other users (ID-007) or holds
    no Ed25519 key, :class:`FileNotFoundError` when it does not exist.
    """
    check_key_file_mode(path)
    data = path.read_bytes()
    if data.lstrip().startswith(b"{"):
        try:
            return SigningKey.from_jwk(strict_json.loads(data))
        except (MalformedJsonError, CanonicalizationError) as exc:
            raise InvalidKeyError(f"{path}: not valid I-JSON: {exc.detail}") from exc
    if b"-----BEGIN" in data:
        return SigningKey.from_pem(data)
    raise InvalidKeyError(f"{path}: neither a PEM nor a JWK key file")
