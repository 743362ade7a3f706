"""The catalog, the public API, the READMEs, and what the model wrappers import."""

from __future__ import annotations

import importlib
import subprocess
import sys
from pathlib import Path

import pytest

from tests.agents.public_api import check_all
from woa_samples import CATALOG

ROOT = Path(__file__).resolve().parents[3]


def test_catalog_lists_the_four_agents() -> None:
    assert set(CATALOG) >= {"embedder", "segmenter", "reader", "transcriber"}
    for name, spec in CATALOG.items():
        assert spec.name == name
        assert spec.summary


@pytest.mark.parametrize(
    "module",
    [
        "woa_samples",
        "woa_samples.inputs",
        "woa_embedder",
        "woa_embedder.agent",
        "woa_segmenter",
        "woa_segmenter.agent",
        "woa_reader",
        "woa_reader.agent",
        "woa_transcriber",
        "woa_transcriber.agent",
    ],
)
def test_all_is_sorted_and_importable(module: str) -> None:
    check_all(module)


def test_model_wrappers_do_not_import_the_sdk() -> None:
    code = (
        "import sys, woa_embedder, woa_segmenter, woa_reader, woa_transcriber; "
        "print(sorted(m for m in sys.modules if m.startswith('woa_agents')))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


WRAPPERS = {
    "embedder": "woa_embedder.encoder",
    "segmenter": "woa_segmenter.model",
    "reader": "woa_reader.ocr",
    "transcriber": "woa_transcriber.speech",
}


@pytest.mark.req("SMP-006")
@pytest.mark.parametrize("name", sorted(WRAPPERS))
def test_each_readme_records_model_licence_checksum_and_a_call(name: str) -> None:
    readme = (ROOT / "agents" / f"woa_{name}" / "README.md").read_text(encoding="utf-8")
    wrapper = importlib.import_module(WRAPPERS[name])
    pinned = [
        getattr(wrapper, a) for a in ("MODEL_SHA256", "TOKENIZER_SHA256") if hasattr(wrapper, a)
    ]
    assert pinned
    for digest in pinned:
        assert digest in readme, f"{digest} is not in woa_{name}/README.md"
    for needed in ("Licence", "woa agent call", "woa agents run", "Latency"):
        assert needed in readme, f"woa_{name}/README.md does not mention {needed!r}"
