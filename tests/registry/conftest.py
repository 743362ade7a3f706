"""Fixtures for the registry tests: a real SQLite store, the app in-process, live servers."""

from __future__ import annotations

import signal
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from woa_agents import RegistryClient
from woa_protocol import SigningKey
from woa_registry import RegistrySettings, create_app
from woa_registry.storage import AgentStore, open_store

from ._support import BASE, REGISTRY_KEY, LiveServer, RegistryProcess


@pytest.fixture
def registry_settings(tmp_path: Path) -> RegistrySettings:
    return RegistrySettings(
        database_url=f"sqlite:///{tmp_path}/registry.db",
        key_file=tmp_path / "registry-key.pem",
        mdns_enabled=False,
        sweep_interval_seconds=3600,
    )


@pytest.fixture
async def store(registry_settings: RegistrySettings) -> AsyncIterator[AgentStore]:
    s = open_store(registry_settings.database_url)
    await s.open()
    try:
        yield s
    finally:
        await s.close()


@pytest.fixture
def make_app(registry_settings: RegistrySettings, store: AgentStore) -> Callable[..., FastAPI]:
    def build(**overrides: Any) -> FastAPI:
        settings = registry_settings.model_copy(update=overrides)
        return create_app(settings, store=store, key=REGISTRY_KEY)

    return build


@pytest.fixture
async def app(make_app: Callable[..., FastAPI]) -> AsyncIterator[FastAPI]:
    application = make_app()
    async with application.router.lifespan_context(application):
        yield application


@pytest.fixture
async def http(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=BASE) as c:
        yield c


@pytest.fixture
async def client_for(app: FastAPI) -> AsyncIterator[Callable[[SigningKey | None], RegistryClient]]:
    made: list[RegistryClient] = []

    def build(key: SigningKey | None) -> RegistryClient:
        c = RegistryClient(BASE, key, transport=httpx.ASGITransport(app=app))
        made.append(c)
        return c

    yield build
    for c in made:
        await c.aclose()


@pytest.fixture
def live_server(registry_settings: RegistrySettings) -> Iterator[Callable[..., LiveServer]]:
    started: list[LiveServer] = []

    def start(port: int = 0, **overrides: Any) -> LiveServer:
        server = LiveServer(registry_settings.model_copy(update=overrides), port=port).start()
        started.append(server)
        return server

    yield start
    for server in started:
        if server.thread.is_alive():
            server.stop()


@pytest.fixture
def registry_process(tmp_path: Path) -> Iterator[Callable[..., Awaitable[RegistryProcess]]]:
    """Start ready registry processes (options of :class:`RegistryProcess`); SIGKILL at the end."""
    started: list[RegistryProcess] = []

    async def start(**options: Any) -> RegistryProcess:
        process = RegistryProcess(options.pop("tmp", tmp_path), **options)
        started.append(process)
        return await process.ready()

    yield start
    for process in started:
        process.stop(signal.SIGKILL)
