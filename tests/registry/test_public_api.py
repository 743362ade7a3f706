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
