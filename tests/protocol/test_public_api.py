from __future__ import annotations

import importlib
import inspect
import pkgutil
from types import ModuleType

import pytest

import woa_protocol

PACKAGES = ["woa_protocol", "woa_protocol.models", "woa_protocol.httpsig"]
MODULES = sorted(
    info.name
    for info in pkgutil.walk_packages(woa_protocol.__path__, prefix="woa_protocol.")
    if not info.ispkg
)


def public_names(module: ModuleType) -> set[str]:
    """Names a user can reach on the package, other than its submodules."""
    return {
        name
        for name, value in vars(module).items()
        if not name.startswith("_")
        and not isinstance(value, ModuleType)
        and name != "annotations"  # from __future__ import annotations
    }


@pytest.mark.parametrize("name", PACKAGES)
def test_package_all_names_exactly_its_public_objects(name: str) -> None:
    package = importlib.import_module(name)
    exported = list(package.__all__)
    assert len(exported) == len(set(exported)), "duplicates in __all__"
    assert set(exported) == public_names(package)
    for item in exported:
        assert getattr(package, item) is not None


@pytest.mark.parametrize("name", MODULES)
def test_module_all_resolves_and_lists_what_the_module_defines(name: str) -> None:
    module = importlib.import_module(name)
    exported = getattr(module, "__all__", None)
    assert exported is not None, f"{name} has no __all__"
    assert len(exported) == len(set(exported))
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


@pytest.mark.parametrize("name", PACKAGES)
def test_package_exports_come_from_its_modules(name: str) -> None:
    package = importlib.import_module(name)
    for item in package.__all__:
        value = getattr(package, item)
        origin = getattr(value, "__module__", None)
        if origin is not None and (inspect.isclass(value) or inspect.isfunction(value)):
            assert origin.startswith(name), f"{name}.{item} comes from {origin}"


def test_modules_were_found() -> None:
    assert "woa_protocol.canonical" in MODULES
    assert "woa_protocol.httpsig.profile" in MODULES
    assert "woa_protocol.models.a2a" in MODULES
