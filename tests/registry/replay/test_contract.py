"""The replay-store contract: SQLite and PostgreSQL pass the same tests."""

from __future__ import annotations

import asyncio

import pytest

from woa_protocol import (
    ReplayGuard,
    ReplayPolicy,
    ReplayStore,
    SignatureReplayedError,
    replay_key,
)
from woa_registry import replay as replay_module
from woa_registry.replay import ReplayPruner

from .conftest import ReplayStoreFactory

NOW = 1_800_000_000.0
KEY = replay_key("did:key:z6MkA", "nonce-1")


@pytest.mark.req("RPL-006")
@pytest.mark.req("RPL-007")
async def test_a_live_claim_is_granted_once(replay_store: ReplayStore) -> None:
    assert await replay_store.claim(KEY, NOW + 300, NOW)
    assert not await replay_store.claim(KEY, NOW + 300, NOW + 1)
    assert not await replay_store.claim(KEY, NOW + 600, NOW + 300)  # still live at its end
    assert await replay_store.claim(replay_key("did:key:z6MkA", "nonce-2"), NOW + 300, NOW)
    assert await replay_store.claim(replay_key("did:key:z6MkB", "nonce-1"), NOW + 300, NOW)


@pytest.mark.req("RPL-007")
async def test_an_expired_claim_is_replaced(replay_store: ReplayStore) -> None:
    assert await replay_store.claim(KEY, NOW + 10, NOW)
    assert await replay_store.claim(KEY, NOW + 400, NOW + 11)  # the first one had ended
    assert not await replay_store.claim(KEY, NOW + 500, NOW + 12)  # the second one holds


@pytest.mark.req("RPL-006")
async def test_claims_survive_a_restart_and_reach_every_replica(
    make_replay_store: ReplayStoreFactory,
) -> None:
    first = await make_replay_store()
    other = await make_replay_store()  # another replica, open at the same time
    assert await first.claim(KEY, NOW + 300, NOW)
    assert not await other.claim(KEY, NOW + 300, NOW)
    await first.close()
    restarted = await make_replay_store()
    assert not await restarted.claim(KEY, NOW + 300, NOW + 5)


@pytest.mark.req("RPL-007")
async def test_concurrent_claims_from_two_replicas_grant_exactly_one(
    make_replay_store: ReplayStoreFactory,
) -> None:
    a, b = await make_replay_store(), await make_replay_store()
    for round_ in range(5):
        key = replay_key("did:key:z6MkC", f"race-{round_}")
        results = await asyncio.gather(
            *(store.claim(key, NOW + 300, NOW) for _ in range(8) for store in (a, b))
        )
        assert results.count(True) == 1
    distinct = await asyncio.gather(
        *(a.claim(replay_key("did:key:z6MkD", f"n{i}"), NOW + 300, NOW) for i in range(20))
    )
    assert all(distinct)


@pytest.mark.req("RPL-008")
async def test_prune_deletes_only_ended_claims(replay_store: ReplayStore) -> None:
    ended = [replay_key("k", f"old{i}") for i in range(5)]
    live = [replay_key("k", f"new{i}") for i in range(3)]
    for key in ended:
        assert await replay_store.claim(key, NOW + 10, NOW)
    for key in live:
        assert await replay_store.claim(key, NOW + 300, NOW)
    assert await replay_store.prune(NOW + 100, limit=2) == 2
    assert await replay_store.prune(NOW + 100) == 3
    assert await replay_store.prune(NOW + 100) == 0
    for key in live:  # still held
        assert not await replay_store.claim(key, NOW + 300, NOW + 100)


@pytest.mark.req("RPL-008")
async def test_the_pruner_sweeps_in_batches_until_none_is_left(
    replay_store: ReplayStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(replay_module, "PRUNE_BATCH", 3)
    for i in range(7):
        assert await replay_store.claim(replay_key("k", f"n{i}"), NOW + 10, NOW)
    assert await replay_store.claim(replay_key("k", "live"), NOW + 900, NOW)
    pruner = ReplayPruner(replay_store, 3600, clock=lambda: NOW + 100)
    assert await pruner.sweep() == 7
    pruner.start()  # starts and stops cleanly
    await pruner.stop()
    assert not await replay_store.claim(replay_key("k", "live"), NOW + 900, NOW + 100)


@pytest.mark.req("RPL-006")
async def test_two_guards_in_front_of_one_store_accept_a_nonce_once(
    make_replay_store: ReplayStoreFactory,
) -> None:
    store = await make_replay_store()
    clock = lambda: NOW  # noqa: E731
    one = ReplayGuard(ReplayPolicy(), clock=clock, store=store)
    two = ReplayGuard(ReplayPolicy(), clock=clock, store=await make_replay_store())
    created = int(NOW)
    end = one.check_window(created, created + 60)
    one.remember("did:key:z6MkE", "n", end)
    await one.claim_shared("did:key:z6MkE", "n", end)
    two.remember("did:key:z6MkE", "n", end)  # the other process's cache never saw it
    with pytest.raises(SignatureReplayedError) as info:
        await two.claim_shared("did:key:z6MkE", "n", end)
    assert info.value.problem.slug == "signature-replayed"


async def test_a_closed_store_refuses_work(make_replay_store: ReplayStoreFactory) -> None:
    store = await make_replay_store()
    await store.close()
    with pytest.raises(RuntimeError, match="not open"):
        await store.claim(KEY, NOW + 1, NOW)
    await store.open()  # and opens again
    assert await store.claim(KEY, NOW + 1, NOW)
