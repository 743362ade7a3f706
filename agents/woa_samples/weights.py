"""Weight files: import the package that ships them (naming the extra) and check their SHA-256."""

from __future__ import annotations

import hashlib
import importlib
import importlib.util
from pathlib import Path
from types import ModuleType

from .errors import MissingExtraError, WeightChecksumError

__all__ = ["package_dir", "require", "sha256_of", "verified"]

_CHUNK = 1 << 20


def require(module: str, extra: str, hint: str | None = None) -> ModuleType:
    """Import ``module``, or raise :class:`MissingExtraError` naming ``extra`` (and ``hint``)."""
    try:
        return importlib.import_module(module)
    except ModuleNotFoundError as exc:
        if exc.name is None or module == exc.name or module.startswith(exc.name + "."):
            raise MissingExtraError(extra, module, hint) from exc
        raise


def package_dir(package: str, extra: str, hint: str | None = None) -> Path:
    """The folder of an installed package, found without running its code.

    Weight packages are data: their files are read, their ``__init__`` never runs.
    """
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise MissingExtraError(extra, package, hint)
    return Path(next(iter(spec.submodule_search_locations)))


def sha256_of(path: Path) -> str:
    """The SHA-256 of a file, in hex."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def verified(path: Path, expected: str) -> Path:
    """Return ``path`` if its SHA-256 is ``expected``; else raise :class:`WeightChecksumError`."""
    actual = sha256_of(path)
    if actual != expected.lower():
        raise WeightChecksumError(str(path), expected, actual)
    return path
