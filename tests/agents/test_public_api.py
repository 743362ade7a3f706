from __future__ import annotations

import importlib

import pytest


@pytest.mark.parametrize(
    "module",
    ["woa_agents", "woa_agents.tasks", "woa_agents.jsonrpc"],
)
def test_all_is_sorted_and_importable(module: str) -> None:
    mod = importlib.import_module(module)
    names = list(mod.__all__)
    assert names == sorted(names, key=lambda n: (not n.isupper(), n))
    for name in names:
        assert getattr(mod, name) is not None


def test_sdk_does_not_import_the_registry_server() -> None:
    import subprocess
    import sys

    code = "import sys, woa_agents; print(any(m.startswith('woa_registry') for m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
