"""Client resilience against a real registry on a real socket (issue 13, load and fuzzing).

* eight writers incrementing one key all succeed: ``StateClient.update`` backs off with
  jitter under a time budget, and says how many attempts each took (STATE-025);
* with the registry's default per-address rate limit, a burst larger than the limit
  succeeds because every 429 is retried after its ``Retry-After`` (AGT-064); without the
  retries the same burst fails;
* an attempt given up on a time-out is cancelled on its agent before the next agent is
  tried (AGT-063), shown with the SDK's own agents.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.agents.conftest import stuck_then_open
from tests.registry._support import REGISTRY_KEY, LiveServer
from woa_agents import Backoff, StateClient, StateClientError, UpdateConflictError
from woa_agents.http import NO_RETRY
from woa_protocol import SigningKey
from woa_protocol.models import TaskState

NS = "load"


def settings(tmp: Path, **overrides: float) -> object:
    from woa_registry import RegistrySettings

    values: dict[str, object] = {
        "host": "127.0.0.1",
        "database_url": f"sqlite:///{tmp}/resilience.db",
        "key_file": tmp / "registry.pem",
        "mdns_enabled": False,
        "sweep_interval_seconds": 3600,
        "rate_per_did": 0,
    }
    values.update(overrides)
    return RegistrySettings(**values)  # type: ignore[arg-type]


@pytest.fixture
def unlimited(tmp_path: Path) -> Iterator[LiveServer]:
    server = LiveServer(settings(tmp_path, rate_per_address=0)).start()  # type: ignore[arg-type]
    yield server
    server.stop()


@pytest.fixture
def default_rate(tmp_path: Path) -> Iterator[LiveServer]:
    from woa_registry import RegistrySettings

    assert RegistrySettings().rate_per_address > 0  # the default limit is what is tested
    server = LiveServer(settings(tmp_path)).start()  # type: ignore[arg-type]
    yield server
    server.stop()


@pytest.mark.req("STATE-025")
async def test_eight_writers_on_one_key_all_succeed(unlimited: LiveServer) -> None:
    keys = [SigningKey.generate() for _ in range(8)]
    clients = [StateClient(unlimited.url, k, registry_did=REGISTRY_KEY.did) for k in keys]
    try:
        await clients[0].put_namespace(NS, writers=[k.did for k in keys])
        await clients[0].put(NS, "counter", 0, create=True)
        rounds = 5

        async def writer(c: StateClient) -> list[int]:
            return [
                (await c.update(NS, "counter", lambda v: v + 1))["attempts"] for _ in range(rounds)
            ]

        began = time.monotonic()
        attempts = [a for per in await asyncio.gather(*map(writer, clients)) for a in per]
        elapsed = time.monotonic() - began
        doc = await clients[0].get(NS, "counter")
    finally:
        for c in clients:
            await c.aclose()
    assert doc["value"] == 8 * rounds  # no increment lost, none given up
    assert len(attempts) == 8 * rounds
    assert max(attempts) > 1  # the writers did collide
    print(
        f"8 writers x {rounds}: {elapsed:.2f}s, attempts max {max(attempts)}, "
        f"mean {sum(attempts) / len(attempts):.1f}"
    )


class OutpacedClient(StateClient):
    """A state client whose every read is followed by a rival's write (a lost race each time)."""

    rival: StateClient

    async def get(self, namespace: str, key: str) -> dict[str, Any]:
        doc = await super().get(namespace, key)
        await self.rival.put(namespace, key, doc["value"], if_match="*")
        return doc


@pytest.mark.req("STATE-025")
async def test_update_gives_up_after_its_time_budget(unlimited: LiveServer) -> None:
    key = SigningKey.generate()
    async with (
        OutpacedClient(unlimited.url, key, registry_did=REGISTRY_KEY.did) as c,
        StateClient(unlimited.url, key, registry_did=REGISTRY_KEY.did) as rival,
    ):
        c.rival = rival
        await c.put_namespace(NS)
        await c.put(NS, "hot", 0, create=True)
        began = time.monotonic()
        with pytest.raises(UpdateConflictError) as info:
            await c.update(NS, "hot", lambda v: v + 1, budget=1.0, backoff=Backoff(0.01, 0.05))
        took = time.monotonic() - began
        doc = await rival.get(NS, "hot")
    assert info.value.status == 412
    assert info.value.attempts >= 2  # it retried, then the budget (not a count) ended it
    assert doc["value"] == 0  # none of the lost writes applied
    assert doc["version"] == 1 + info.value.attempts  # one rival write per attempt
    # it stops when the next pause would pass the budget; one attempt may be in flight
    assert 0.5 <= took < 10.0


async def drain(url: str) -> int:
    """Spend this address's rate-limit tokens with cheap requests until one is answered 429."""
    sent = 0
    async with httpx.AsyncClient(base_url=url) as http:
        for _ in range(125):
            answers = await asyncio.gather(
                *(http.get("/healthz") for _ in range(20)), return_exceptions=True
            )  # a loaded test server may drop a connection: only the 429 matters here
            sent += len(answers)
            if any(isinstance(a, httpx.Response) and a.status_code == 429 for a in answers):
                return sent
    raise AssertionError(f"{sent} requests never reached the rate limit")


@pytest.mark.req("AGT-064")
async def test_429_is_retried_after_retry_after(default_rate: LiveServer) -> None:
    key = SigningKey.generate()
    count = 100  # two seconds' worth of the default rate, sent at once on an empty bucket
    async with StateClient(default_rate.url, key, registry_did=REGISTRY_KEY.did) as c:
        await c.put_namespace(NS)
        await drain(default_rate.url)
        began = time.monotonic()
        written = await asyncio.gather(*(c.put(NS, f"k{i}", i, create=True) for i in range(count)))
        took = time.monotonic() - began
        assert [w["version"] for w in written] == [1] * count  # every one succeeded
        assert c.signed_http.rate_limited > 0  # after 429s, waited out and retried
        assert took >= 1.0  # the registry's Retry-After (1 s at least) was honoured
        print(f"{count} writes on an empty bucket: {took:.2f}s, {c.signed_http.rate_limited} 429s")
    async with StateClient(
        default_rate.url, key, registry_did=REGISTRY_KEY.did, retry=NO_RETRY
    ) as impatient:
        await drain(default_rate.url)
        results = await asyncio.gather(
            *(impatient.put(NS, f"n{i}", i, create=True) for i in range(count)),
            return_exceptions=True,
        )
    refused = [r for r in results if isinstance(r, BaseException)]
    assert refused, "without retries the same burst must hit the limit"
    print(f"without retries: {len(refused)} of {count} refused")
    assert all(isinstance(r, StateClientError) and r.status == 429 for r in refused)


@pytest.mark.req("AGT-063")
async def test_timed_out_attempt_is_cancelled_on_the_sdk_agent() -> None:
    async with stuck_then_open() as (client, agents):
        out = await client.call(
            "wait", {"text": "go"}, agents=agents, timeout=0.5, retry_non_idempotent=True
        )
        assert out["text"] == "go"
        abandoned = (await client.list_tasks(agent=agents[0])).tasks
        assert [t.status.state for t in abandoned] == [TaskState.CANCELED]
