"""docker-compose.yml and the Dockerfile: valid by the Compose Specification, and every
service's own command, environment and healthcheck proven by running it natively."""

from __future__ import annotations

import json
import os
import secrets
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from tests.registry._support import make_card
from woa_agents import RegistryClient
from woa_protocol import SigningKey

from .compose_native import (
    COMPOSE_SCHEMA,
    ROOT,
    NativeService,
    load_compose,
    native_services,
    start_order,
)

REGISTRIES = ["registry-1", "registry-2"]


def compose_schema() -> dict[str, Any]:
    """The Compose Specification's schema from ../shared (CI has it: missing there fails)."""
    if not COMPOSE_SCHEMA.exists():
        if os.environ.get("CI"):
            pytest.fail(f"{COMPOSE_SCHEMA} is missing")
        pytest.skip(f"{COMPOSE_SCHEMA} is missing")
    schema: dict[str, Any] = json.loads(COMPOSE_SCHEMA.read_text())
    return schema


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    return load_compose()


def test_compose_file_is_valid_by_the_compose_specification(compose: dict[str, Any]) -> None:
    jsonschema.Draft7Validator(compose_schema()).validate(compose)


def test_a_broken_compose_file_is_refused_by_the_schema(compose: dict[str, Any]) -> None:
    schema = compose_schema()
    broken = json.loads(json.dumps(compose))
    broken["services"]["registry-1"]["depends_on"]["postgres"]["condition"] = "when-ready"
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.Draft7Validator(schema).validate(broken)


def test_every_service_has_a_healthcheck_and_waits_for_what_it_needs(
    compose: dict[str, Any],
) -> None:
    services = compose["services"]
    assert set(REGISTRIES) <= set(services)
    assert "volumes" in services["postgres"]
    for name, service in services.items():
        assert "healthcheck" in service, name
        for dep, how in (service.get("depends_on") or {}).items():
            assert dep in services, (name, dep)
            assert how["condition"] == "service_healthy", (name, dep)
    for name in REGISTRIES:
        env = services[name]["environment"]
        assert "postgres:5432" in env["WOA_REGISTRY_DATABASE_URL"]
        assert "postgres" in services[name]["depends_on"]
    agents = [n for n, s in services.items() if s.get("command", [])[:2] == ["agents", "run"]]
    assert agents, "no sample agent in the compose file"
    for name in agents:
        assert "registry-1" in services[name]["depends_on"]
        assert services[name]["command"][2] == name
    assert start_order(services).index("postgres") < start_order(services).index("registry-2")


def test_the_dockerfile_is_multi_stage_and_runs_as_a_user() -> None:
    text = (ROOT / "Dockerfile").read_text()
    stages = [line for line in text.splitlines() if line.startswith("FROM ")]
    assert len(stages) >= 2
    assert " AS runtime" in stages[-1]
    runtime = text.split(stages[-1], 1)[1]
    assert "USER woa" in runtime
    assert "build-essential" not in runtime  # no compiler in the image that runs
    ignored = (ROOT / ".dockerignore").read_text().split()
    assert {".git", ".venv", "*.pem"} <= set(ignored)


@pytest.fixture
async def compose_database(postgres_dsn: str) -> AsyncIterator[str]:
    import asyncpg

    schema = f"woa_compose_{secrets.token_hex(5)}"
    yield f"{postgres_dsn}?schema={schema}"
    conn = await asyncpg.connect(postgres_dsn, timeout=5)
    try:
        await conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
    finally:
        await conn.close()


@pytest.fixture
def registries(
    compose: dict[str, Any], compose_database: str, tmp_path: Path
) -> Iterator[list[NativeService]]:
    started: list[NativeService] = []
    try:
        for service in native_services(compose, REGISTRIES, compose_database, tmp_path):
            service.start()
            started.append(service)
            service.wait_healthy(60)  # depends_on: service_healthy, as compose waits
        yield started
    finally:
        for service in reversed(started):
            service.stop()


async def test_the_two_registry_replicas_run_natively_on_one_postgresql(
    registries: list[NativeService],
) -> None:
    first, second = registries
    key = SigningKey.generate()
    async with RegistryClient(first.url, key) as on_first, RegistryClient(second.url) as on_second:
        assert (await on_first.describe())["did"] == (await on_second.describe())["did"]
        await on_first.register(make_card(key), lease_seconds=120)
        found = await on_second.get(key.did)
        assert found is not None
        await on_first.deregister()
        assert await on_second.get(key.did) is None
