"""The state package's curated ``__all__``: complete, resolvable, nothing public left out."""

from __future__ import annotations

import importlib
import inspect
import pkgutil
from types import ModuleType

import pytest

import woa_registry.state

PACKAGES = ["woa_registry.state", "woa_registry.state.store"]
MODULES = sorted(
    info.name
    for info in pkgutil.walk_packages(woa_registry.state.__path__, prefix="woa_registry.state.")
    if not info.ispkg
)


def public_names(module: ModuleType) -> set[str]:
    return {
        name
        for name, value in vars(module).items()
        if not name.startswith("_") and not isinstance(value, ModuleType) and name != "annotations"
    }


@pytest.mark.parametrize("name", PACKAGES)
def test_package_all_names_exactly_its_public_objects(name: str) -> None:
    package = importlib.import_module(name)
    exported = list(package.__all__)
    assert len(exported) == len(set(exported))
    assert set(exported) == public_names(package)


@pytest.mark.parametrize("name", MODULES)
def test_module_all_lists_what_the_module_defines(name: str) -> None:
    module = importlib.import_module(name)
    exported = getattr(module, "__all__", None)
    assert exported is not None, f"{name} has no __all__"
    for item in exported:
        assert hasattr(module, item), f"{name}.__all__ names missing {item}"
    defined_here = {
        attr
        for attr, value in vars(module).items()
        if not attr.startswith("_")
        and (inspect.isclass(value) or inspect.isfunction(value))
        and getattr(value, "__module__", None) == name
    }
    assert defined_here <= set(exported), f"public but not exported: {defined_here - set(exported)}"
