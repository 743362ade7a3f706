"""Watch over WebSocket against a live server: order, exactly once, resume, access control."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from woa_agents import StateClient, StateClientError, WatchEvent
from woa_protocol import InvalidSignatureError, SigningKey
from woa_protocol.frames import new_subscription_id, verify_frame

from .._support import REGISTRY_KEY, FrameRelay, LiveServer
from ._support import NS


@pytest.fixture
async def server(live_server: Callable[..., LiveServer]) -> LiveServer:
    return live_server(rate_per_address=0, rate_per_did=0)


@pytest.fixture
async def clients(server: LiveServer) -> AsyncIterator[Callable[[SigningKey | None], StateClient]]:
    made: list[StateClient] = []

    def build(key: SigningKey | None) -> StateClient:
        c = StateClient(server.url, key, registry_did=REGISTRY_KEY.did)
        made.append(c)
        return c

    yield build
    for c in made:
        await c.aclose()


async def collect(
    client: StateClient,
    count: int,
    *,
    ready: asyncio.Event,
    **kwargs: Any,
) -> list[WatchEvent]:
    events: list[WatchEvent] = []
    async for event in client.watch(NS, ready=ready, **kwargs):
        events.append(event)
        if len(events) == count:
            break
    return events


async def started(task: asyncio.Task[Any], ready: asyncio.Event) -> None:
    waiter = asyncio.create_task(ready.wait())
    done, _ = await asyncio.wait({task, waiter}, timeout=20, return_when=asyncio.FIRST_COMPLETED)
    waiter.cancel()
    if task in done:
        task.result()
    assert ready.is_set(), "watcher never subscribed"


@pytest.mark.req("STATE-040")
async def test_watchers_get_every_change_once_in_order(
    clients: Callable[[SigningKey | None], StateClient], owner: SigningKey, writer: SigningKey
) -> None:
    admin = clients(owner)
    await admin.put_namespace(NS, writers=[writer.did])
    await admin.put(NS, "before", 0, create=True)  # committed before the watch: not sent
    writers = [admin, clients(writer)]
    per_writer = 12
    total = 2 * per_writer
    plan_count = sum(1 for i in range(per_writer) if i % 2 == 0) * 2
    everything, plans = asyncio.Event(), asyncio.Event()
    all_task = asyncio.create_task(collect(admin, total, ready=everything))
    plan_task = asyncio.create_task(
        collect(clients(writer), plan_count, ready=plans, prefix="plan/")
    )
    await started(all_task, everything)
    await started(plan_task, plans)

    async def write(index: int, client: StateClient) -> None:
        for n in range(per_writer):
            key = f"plan/{index}-{n}" if n % 2 == 0 else f"notes/{index}-{n}"
            await client.put(NS, key, {"n": n}, create=True)

    await asyncio.gather(*(write(i, c) for i, c in enumerate(writers)))
    got_all = await asyncio.wait_for(all_task, 20)
    got_plans = await asyncio.wait_for(plan_task, 20)
    logged = await admin.history(NS, "before")
    assert len(logged) == 1
    revs = [e.rev for e in got_all]
    assert revs == sorted(set(revs))
    assert len(revs) == total
    assert revs[0] == logged[0]["rev"] + 1  # nothing before the watch, nothing skipped after
    assert revs == list(range(revs[0], revs[0] + total))
    assert [e.rev for e in got_plans] == [e.rev for e in got_all if e.key.startswith("plan/")]
    by_key = {e.key: e for e in got_all}
    assert by_key["plan/1-0"].writer == writer.did
    assert by_key["plan/1-0"].value == {"n": 0}


@pytest.mark.req("STATE-040")
async def test_reconnecting_watcher_loses_and_repeats_nothing(
    clients: Callable[[SigningKey | None], StateClient], owner: SigningKey
) -> None:
    admin = clients(owner)
    await admin.put_namespace(NS)
    await admin.put(NS, "k", 0, create=True)
    first_ready = asyncio.Event()
    first = asyncio.create_task(collect(admin, 3, ready=first_ready, since=0))
    await started(first, first_ready)
    for version in range(1, 6):
        await admin.put(NS, "k", version, if_match=version)
    received = await asyncio.wait_for(first, 20)  # disconnects after 3 of 6 changes
    # More changes while no one watches; then resume after the last revision received.
    for version in range(6, 9):
        await admin.put(NS, "k", version, if_match=version)
    resumed_ready = asyncio.Event()
    rest = await asyncio.wait_for(
        collect(admin, 6, ready=resumed_ready, since=received[-1].rev), 20
    )
    values = [e.value for e in received + rest]
    assert values == list(range(9))
    assert [e.version for e in received + rest] == list(range(1, 10))


@pytest.mark.req("STATE-041")
async def test_watch_access_control(
    clients: Callable[[SigningKey | None], StateClient],
    owner: SigningKey,
    writer: SigningKey,
    stranger: SigningKey,
) -> None:
    admin = clients(owner)
    await admin.put_namespace(NS, readers=[writer.did])

    async def refusal(client: StateClient, namespace: str = NS, **kwargs: Any) -> int:
        with pytest.raises(StateClientError) as info:
            async for _ in client.watch(namespace, reconnect=False, **kwargs):
                pass
        return info.value.status

    assert await refusal(clients(None)) == 403
    assert await refusal(clients(stranger)) == 403
    assert await refusal(admin, "nowhere") == 404
    assert await refusal(admin, prefix="bad prefix") == 400
    # A handshake whose signature was made for another URL does not verify.
    forged = clients(writer)
    forged._handshake_headers = lambda url: StateClient._handshake_headers(  # type: ignore[method-assign]
        forged, url.replace(NS, "other")
    )
    assert await refusal(forged) == 401
    ready = asyncio.Event()
    task = asyncio.create_task(collect(clients(writer), 1, ready=ready))
    await started(task, ready)
    await admin.put(NS, "seen", True, create=True)
    (event,) = await asyncio.wait_for(task, 20)
    assert (event.key, event.value, event.op) == ("seen", True, "put")
    with contextlib.suppress(asyncio.CancelledError):
        task.cancel()


async def _until(condition: Callable[[], bool]) -> None:
    for _ in range(200):
        if condition():
            return
        await asyncio.sleep(0.05)
    raise AssertionError("condition not met in 10 s")


async def _watch_into(client: StateClient, ready: asyncio.Event, keys: list[str]) -> None:
    async for event in client.watch(NS, ready=ready):
        keys.append(event.key)


@pytest.mark.req("STATE-043")
async def test_a_reader_removed_from_the_acl_stops_receiving_changes(
    clients: Callable[[SigningKey | None], StateClient],
    owner: SigningKey,
    writer: SigningKey,
) -> None:
    admin = clients(owner)
    await admin.put_namespace(NS, readers=[writer.did], public_read=True)
    signed_ready, unsigned_ready = asyncio.Event(), asyncio.Event()
    signed_keys: list[str] = []
    unsigned_keys: list[str] = []
    signed = asyncio.create_task(_watch_into(clients(writer), signed_ready, signed_keys))
    unsigned = asyncio.create_task(_watch_into(clients(None), unsigned_ready, unsigned_keys))
    await started(signed, signed_ready)
    await started(unsigned, unsigned_ready)
    await admin.put(NS, "before", 1, create=True)
    # both have it before the ACL changes (else they may rightly never see it)
    await _until(lambda: bool(signed_keys and unsigned_keys))
    await admin.put_namespace(NS, readers=[writer.did])  # public reading ends
    await admin.put(NS, "public-gone", 2, create=True)
    with pytest.raises(StateClientError) as unsigned_end:
        await asyncio.wait_for(unsigned, 20)
    assert unsigned_end.value.status == 403  # closed with 4403, not reconnected
    assert unsigned_keys == ["before"]  # nothing written after the ACL changed
    await _until(lambda: "public-gone" in signed_keys)
    await admin.put_namespace(NS)  # the reader is removed too
    await admin.put(NS, "secret", 3, create=True)
    with pytest.raises(StateClientError) as signed_end:
        await asyncio.wait_for(signed, 20)
    assert signed_end.value.status == 403
    assert "state-forbidden" in str(signed_end.value)
    assert writer.did in str(signed_end.value)
    assert signed_keys == ["before", "public-gone"]


@pytest.mark.req("STATE-043")
async def test_a_revoked_watcher_is_closed_without_any_change(
    live_server: Callable[..., LiveServer],
    monkeypatch: pytest.MonkeyPatch,
    owner: SigningKey,
    writer: SigningKey,
) -> None:
    monkeypatch.setenv("WOA_STATE_WATCH_POLL_SECONDS", "0.2")
    server = live_server(rate_per_address=0, rate_per_did=0)
    async with (
        StateClient(server.url, owner, registry_did=REGISTRY_KEY.did) as admin,
        StateClient(server.url, writer, registry_did=REGISTRY_KEY.did) as reader,
    ):
        await admin.put_namespace(NS, readers=[writer.did])
        ready = asyncio.Event()
        keys: list[str] = []
        task = asyncio.create_task(_watch_into(reader, ready, keys))
        await started(task, ready)
        await admin.put_namespace(NS)  # no document changes after this
        with pytest.raises(StateClientError) as ended:
            await asyncio.wait_for(task, 10)
        assert ended.value.status == 403
        assert keys == []


@pytest.mark.req("STATE-042")
async def test_watchers_on_every_replica_see_every_change(
    live_server: Callable[..., LiveServer], postgres_dsn: str, owner: SigningKey
) -> None:
    import uuid

    import asyncpg

    schema = f"woa_state_r{uuid.uuid4().hex[:12]}"
    url = f"{postgres_dsn}?schema={schema}"
    replicas: list[LiveServer] = []
    try:
        replicas += [
            live_server(rate_per_address=0, rate_per_did=0, database_url=url) for _ in range(2)
        ]
        clients = [StateClient(r.url, owner, registry_did=REGISTRY_KEY.did) for r in replicas]
        try:
            await clients[0].put_namespace(NS)
            readies = [asyncio.Event(), asyncio.Event()]
            watchers = [
                asyncio.create_task(collect(c, 10, ready=ready))
                for c, ready in zip(clients, readies, strict=True)
            ]
            for task, ready in zip(watchers, readies, strict=True):
                await started(task, ready)
            for n in range(10):  # alternate the replica that takes the write
                await clients[n % 2].put(NS, f"k{n}", n, create=True)
            seen = [await asyncio.wait_for(w, 20) for w in watchers]
            assert [e.key for e in seen[0]] == [f"k{n}" for n in range(10)]
            assert [e.rev for e in seen[0]] == [e.rev for e in seen[1]]
        finally:
            for c in clients:
                await c.aclose()
    finally:
        for replica in replicas:
            await asyncio.to_thread(replica.stop)
        conn = await asyncpg.connect(postgres_dsn)
        try:
            await conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
        finally:
            await conn.close()


@pytest.mark.req("STATE-044")
@pytest.mark.req("MSG-014")
async def test_every_watch_frame_is_signed_for_its_subscription(
    server: LiveServer, clients: Callable[[SigningKey | None], StateClient], owner: SigningKey
) -> None:
    admin = clients(owner)
    await admin.put_namespace(NS, public_read=True)
    await admin.put(NS, "a", 1, create=True)
    subscription = new_subscription_id()
    url = server.url.replace("http", "ws", 1)
    url += f"/v1/state/{NS}/watch?since=0&subscription={subscription}"
    async with connect(url) as ws:
        raws = [await asyncio.wait_for(ws.recv(), 10) for _ in range(2)]
    hello, change = (
        verify_frame(raw, signer=REGISTRY_KEY.did, subscription=subscription, index=i)
        for i, raw in enumerate(raws)
    )
    assert (hello["type"], hello["frame"]) == ("hello", 0)
    assert (change["type"], change["key"], change["value"], change["frame"]) == (
        "change",
        "a",
        1,
        1,
    )


@pytest.mark.req("STATE-044")
async def test_a_malformed_subscription_closes_the_watch_with_4400(
    server: LiveServer, clients: Callable[[SigningKey | None], StateClient], owner: SigningKey
) -> None:
    await clients(owner).put_namespace(NS, public_read=True)
    url = server.url.replace("http", "ws", 1) + f"/v1/state/{NS}/watch?subscription=bad!"
    async with connect(url) as ws:
        with pytest.raises(ConnectionClosed) as info:
            await asyncio.wait_for(ws.recv(), 10)
    assert info.value.rcvd is not None
    assert info.value.rcvd.code == 4400


@pytest.mark.req("STATE-044")
@pytest.mark.req("MSG-015")
async def test_the_state_client_refuses_a_tampered_watch_frame(
    server: LiveServer, clients: Callable[[SigningKey | None], StateClient], owner: SigningKey
) -> None:
    admin = clients(owner)
    await admin.put_namespace(NS, public_read=True)
    await admin.put(NS, "balance", 10, create=True)

    def forge(raw: str) -> str:
        return raw.replace('"value":10', '"value":1000')

    for alter, forged in ((lambda raw: raw, False), (forge, True)):
        async with (
            FrameRelay(server.url, alter) as relay,
            StateClient(relay.url, None, registry_did=REGISTRY_KEY.did) as reader,
        ):
            watch = reader.watch(NS, since=0, reconnect=False)
            if forged:
                with pytest.raises(InvalidSignatureError, match="does not verify"):
                    await asyncio.wait_for(anext(watch), 10)
            else:  # relayed as sent: accepted
                event = await asyncio.wait_for(anext(watch), 10)
                assert (event.key, event.value) == ("balance", 10)
            await watch.aclose()
