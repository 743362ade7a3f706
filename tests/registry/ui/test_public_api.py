"""The dashboard package's ``__all__``: complete and resolvable."""

from __future__ import annotations

import importlib
import inspect
import pkgutil

import pytest

import woa_registry.ui

MODULES = sorted(
    info.name for info in pkgutil.walk_packages(woa_registry.ui.__path__, prefix="woa_registry.ui.")
)


def test_package_all() -> None:
    assert set(woa_registry.ui.__all__) == {
        "POLICY",
        "PagePolicyMiddleware",
        "STATIC_PATH",
        "install_ui",
        "router",
    }
    for name in woa_registry.ui.__all__:
        assert getattr(woa_registry.ui, name) is not None


@pytest.mark.parametrize("name", MODULES)
def test_module_all_lists_what_it_defines(name: str) -> None:
    module = importlib.import_module(name)
    exported = module.__all__
    assert all(hasattr(module, item) for item in exported)
    defined = {
        attr
        for attr, value in vars(module).items()
        if not attr.startswith("_")
        and (inspect.isclass(value) or inspect.isfunction(value))
        and value.__module__ == name
    }
    assert defined <= set(exported)
