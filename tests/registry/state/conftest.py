"""Fixtures for the shared-state tests: the registry app in-process, clients, stores."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI

from woa_agents import StateClient
from woa_protocol import SigningKey
from woa_registry import RegistrySettings, create_app
from woa_registry.state import StateRuntime
from woa_registry.state.store import SqliteStateStore, StateStore

from .._support import BASE, REGISTRY_KEY

StoreFactory = Callable[[], Awaitable[StateStore]]


@pytest.fixture
def state_settings(tmp_path: Path) -> RegistrySettings:
    return RegistrySettings(
        database_url=f"sqlite:///{tmp_path}/registry.db",
        key_file=tmp_path / "registry-key.pem",
        mdns_enabled=False,
        sweep_interval_seconds=3600,
        rate_per_address=0,
        rate_per_did=0,
    )


@pytest.fixture
async def state_app(state_settings: RegistrySettings) -> AsyncIterator[FastAPI]:
    application = create_app(state_settings, key=REGISTRY_KEY)
    async with application.router.lifespan_context(application):
        yield application


@pytest.fixture
def runtime(state_app: FastAPI) -> StateRuntime:
    rt: StateRuntime = state_app.state.woa_state
    return rt


@pytest.fixture
async def client_for(
    state_app: FastAPI,
) -> AsyncIterator[Callable[[SigningKey | None], StateClient]]:
    made: list[StateClient] = []

    def build(key: SigningKey | None) -> StateClient:
        c = StateClient(
            BASE,
            key,
            transport=httpx.ASGITransport(app=state_app),
            registry_did=REGISTRY_KEY.did,
        )
        made.append(c)
        return c

    yield build
    for c in made:
        await c.aclose()


@pytest.fixture
async def http(state_app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=state_app), base_url=BASE) as c:
        yield c


@pytest.fixture
def owner() -> SigningKey:
    return SigningKey.generate()


@pytest.fixture
def writer() -> SigningKey:
    return SigningKey.generate()


@pytest.fixture
def stranger() -> SigningKey:
    return SigningKey.generate()


# -- stores on both backends -----------------------------------------------------------


@pytest.fixture(params=["sqlite", "postgres"])
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> tuple[str, str]:
    """The backend under test and where its database lives (file path or DSN + schema)."""
    if request.param == "sqlite":
        return "sqlite", str(tmp_path / "state.db")
    dsn: str = request.getfixturevalue("postgres_dsn")  # skips or fails (CI) when unreachable
    return "postgres", dsn


@pytest.fixture
async def store_factory(backend: tuple[str, str]) -> AsyncIterator[StoreFactory]:
    """Open (several, sharing one database) state stores of the parametrized backend."""
    kind, target = backend
    opened: list[StateStore] = []
    schema = f"woa_state_t{uuid.uuid4().hex[:12]}"

    async def make() -> StateStore:
        s: StateStore
        if kind == "sqlite":
            s = SqliteStateStore(target, poll_interval=0.05)
        else:
            from woa_registry.state.store.postgres import PostgresStateStore

            s = PostgresStateStore(target, schema=schema, poll_interval=0.5, max_pool_size=12)
        await s.open()
        opened.append(s)
        return s

    yield make
    for s in opened:
        await s.close()
    if kind == "postgres":
        import asyncpg

        conn = await asyncpg.connect(target)
        try:
            await conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
        finally:
            await conn.close()


@pytest.fixture
async def store(store_factory: StoreFactory) -> StateStore:
    return await store_factory()
