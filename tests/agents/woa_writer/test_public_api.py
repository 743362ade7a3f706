from __future__ import annotations

import subprocess
import sys

import pytest

from tests.agents.public_api import check_all


@pytest.mark.parametrize(
    "module",
    [
        "woa_writer",
        "woa_writer.agent",
        "woa_writer.model",
        "woa_writer.backends",
        "woa_writer.weights",
        "woa_writer.__main__",
    ],
)
def test_all_is_sorted_and_importable(module: str) -> None:
    check_all(module)


def test_the_model_code_does_not_import_the_sdk() -> None:
    code = (
        "import sys, woa_writer.model, woa_writer.backends, woa_writer.weights; "
        "print(sorted({m.split('.')[0] for m in sys.modules if m.startswith('woa_')}))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "['woa_samples', 'woa_writer']"  # woa_samples: no SDK either


def test_the_agent_uses_only_the_sdks_public_api() -> None:
    from pathlib import Path

    import woa_writer

    source = (Path(woa_writer.__file__).parent / "agent.py").read_text(encoding="utf-8")
    assert "from woa_agents import" in source
    assert "woa_agents." not in source  # no private modules


def test_main_has_help() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "woa_writer", "--help"], capture_output=True, text=True, check=True
    )
    assert "--registry-url" in out.stdout
    assert "WOA_WRITER_BACKEND" in out.stdout
