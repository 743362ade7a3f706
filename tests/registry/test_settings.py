"""Registry settings: documented defaults, the environment, the key file."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
from pydantic import ValidationError

from woa_registry.settings import RegistrySettings, load_or_create_key


def test_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(__import__("os").environ):
        if name.startswith("WOA_REGISTRY_"):
            monkeypatch.delenv(name)
    s = RegistrySettings()
    assert (s.host, s.port) == ("127.0.0.1", 8470)
    assert s.database_url == "sqlite:///./.woa/registry.db"
    assert s.key_file == Path("./.woa/registry-key.pem")
    assert (s.lease_min_seconds, s.lease_default_seconds, s.lease_max_seconds) == (10, 60, 3600)
    assert s.max_body_bytes == 256 * 1024
    assert s.allow_url_registration is False
    assert s.mdns_enabled is False
    assert s.base_url == "http://127.0.0.1:8470"


def test_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WOA_REGISTRY_PORT", "9001")
    monkeypatch.setenv("WOA_REGISTRY_URL_FETCH_ALLOWLIST", '["127.0.0.1/32"]')
    monkeypatch.setenv("WOA_REGISTRY_PUBLIC_URL", "https://reg.example/")
    s = RegistrySettings()
    assert s.port == 9001
    assert s.url_fetch_allowlist == ["127.0.0.1/32"]
    assert s.base_url == "https://reg.example"


@pytest.mark.parametrize(
    "bad",
    [
        {"lease_min_seconds": 100, "lease_default_seconds": 60},
        {"lease_default_seconds": 7200},
        {"url_fetch_allowlist": ["not a network"]},
        {"port": 70000},
        {"max_body_bytes": 10},
    ],
)
def test_inconsistent_settings_are_refused(bad: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        RegistrySettings(**bad)  # type: ignore[arg-type]


def test_key_file_is_created_private_and_reused(tmp_path: Path) -> None:
    path = tmp_path / "sub" / "key.pem"
    key = load_or_create_key(path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert load_or_create_key(path).did == key.did
