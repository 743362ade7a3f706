"""Leases lapse: the sweeper removes the agent and the feed announces it, once."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import httpx
import pytest
from fastapi import FastAPI

from woa_protocol import SigningKey
from woa_registry.context import utcnow
from woa_registry.storage import AgentStore, EventKind
from woa_registry.sweeper import LeaseSweeper

from ._support import BASE, put_agent, wait_until


@pytest.mark.req("REG-031")
async def test_sweep_removes_lapsed_agents_once(http: httpx.AsyncClient, store: AgentStore) -> None:
    short, long = SigningKey.generate(), SigningKey.generate()
    assert (await put_agent(http, short, leaseSeconds=10)).status_code == 201
    assert (await put_agent(http, long, leaseSeconds=600)).status_code == 201
    later = utcnow() + timedelta(seconds=30)
    sweeper = LeaseSweeper(store, 3600, clock=lambda: later)
    events = await sweeper.sweep_once()
    assert [(e.kind, e.did) for e in events] == [(EventKind.EXPIRED, short.did)]
    assert await sweeper.sweep_once() == []
    assert (await http.get(f"/v1/agents/{short.did}")).status_code == 404
    assert (await http.get(f"/v1/agents/{long.did}")).status_code == 200
    kinds = [e.kind for e in await store.events_since(0) if e.did == short.did]
    assert kinds == [EventKind.REGISTERED, EventKind.EXPIRED]


@pytest.mark.req("REG-031")
async def test_background_sweeper_runs(make_app: Callable[..., FastAPI], store: AgentStore) -> None:
    app = make_app(lease_min_seconds=1, sweep_interval_seconds=0.1)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=BASE) as http,
    ):
        key = SigningKey.generate()
        assert (await put_agent(http, key, leaseSeconds=1)).status_code == 201

        async def gone() -> bool:
            return await store.get(key.did) is None

        await wait_until(gone, timeout=10)
        assert (await store.events_since(0))[-1].kind is EventKind.EXPIRED


@pytest.mark.req("REG-054")
async def test_the_sweeper_prunes_the_feed_past_its_retention(
    http: httpx.AsyncClient, store: AgentStore
) -> None:
    for _ in range(3):
        key = SigningKey.generate()
        assert (await put_agent(http, key, leaseSeconds=600)).status_code == 201
    later = utcnow() + timedelta(days=8)
    keep_all = LeaseSweeper(store, 3600, clock=lambda: later)  # retention 0: kept for ever
    assert await keep_all.prune_once() == 0
    week = LeaseSweeper(store, 3600, clock=lambda: later, feed_retention=7 * 24 * 3600)
    assert await week.prune_once() == 2
    assert [e.seq for e in await store.events_since(0)] == [3]
