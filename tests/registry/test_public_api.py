"""The package's curated public names."""

from __future__ import annotations

import woa_registry


def test_all_is_curated_and_importable() -> None:
    assert len(woa_registry.__all__) == len(set(woa_registry.__all__))
    assert set(woa_registry.__all__) == {
        "AGENT_SERVICE_TYPE",
        "REGISTRY_SERVICE_TYPE",
        "REGISTRY_VERSION",
        "DiscoveredService",
        "RegistrySettings",
        "create_app",
        "discover",
    }
    for name in woa_registry.__all__:
        assert getattr(woa_registry, name) is not None


def test_every_registry_module_lists_exactly_its_public_names() -> None:
    import importlib
    import pkgutil
    from types import ModuleType

    for info in pkgutil.walk_packages(woa_registry.__path__, prefix="woa_registry."):
        module = importlib.import_module(info.name)
        if not info.name.startswith(("woa_registry.replay", "woa_registry.db")):
            continue
        public = {
            name
            for name, value in vars(module).items()
            if not name.startswith("_")
            and not isinstance(value, ModuleType)
            and name not in ("annotations", "log")
            and getattr(value, "__module__", None) == info.name  # classes and functions
        }
        exported = set(module.__all__)
        assert public <= exported, (info.name, public - exported)
        assert all(hasattr(module, name) for name in exported), info.name
