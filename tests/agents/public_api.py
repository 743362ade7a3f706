"""The one rule for a package's public names, checked by each package's public-API test."""

from __future__ import annotations

import importlib


def check_all(module: str) -> None:
    """``module.__all__`` is sorted (constants first) and every name in it imports."""
    mod = importlib.import_module(module)
    names = list(mod.__all__)
    assert names == sorted(names, key=lambda n: (not n.isupper(), n))
    for name in names:
        assert getattr(mod, name) is not None
