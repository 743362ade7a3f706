"""The change feed over a real WebSocket (uvicorn on 127.0.0.1): catch-up, live, resume."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable
from datetime import timedelta
from typing import Any

import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from woa_agents import FeedEvent, RegistryClient
from woa_agents.registry_client import FEED_CURSOR_EXPIRED
from woa_protocol import InvalidSignatureError, SigningKey, verify_card
from woa_protocol.frames import new_subscription_id, verify_frame
from woa_registry.storage.base import AgentStore

from ._support import REGISTRY_KEY, FrameRelay, LiveServer, make_card

Start = Callable[..., LiveServer]


async def _take(events: AsyncIterator[FeedEvent], n: int) -> list[FeedEvent]:
    async def take() -> list[FeedEvent]:
        return [await anext(events) for _ in range(n)]

    return await asyncio.wait_for(take(), timeout=15)


@pytest.mark.req("REG-050")
@pytest.mark.req("REG-051")
async def test_feed_catches_up_then_streams(live_server: Start) -> None:
    server = live_server()
    a, b = SigningKey.generate(), SigningKey.generate()
    async with RegistryClient(server.url, a) as ca, RegistryClient(server.url, b) as cb:
        await ca.register(make_card(a))
        feed = ca.watch(since=0)
        first = await _take(feed, 1)
        assert (first[0].kind, first[0].did) == ("registered", a.did)
        assert first[0].card is not None
        assert verify_card(first[0].card, expected_did=a.did)
        await cb.register(make_card(b))
        await ca.register(make_card(a, name="Renamed"))
        await cb.deregister()
        rest = await _take(feed, 3)
        assert [(e.kind, e.did) for e in rest] == [
            ("registered", b.did),
            ("updated", a.did),
            ("deregistered", b.did),
        ]
        assert rest[1].card is not None
        assert rest[1].card["name"] == "Renamed"
        assert rest[2].card is None
        seqs = [e.seq for e in first + rest]
        assert seqs == sorted(seqs)
        assert len(set(seqs)) == 4
        await feed.aclose()


@pytest.mark.req("REG-052")
async def test_reconnect_with_since_gets_what_was_missed(live_server: Start) -> None:
    server = live_server()
    keys = [SigningKey.generate() for _ in range(5)]
    clients = [RegistryClient(server.url, k) for k in keys]
    try:
        for client, key in zip(clients[:2], keys[:2], strict=True):
            await client.register(make_card(key))
        feed = clients[0].watch(since=0)
        seen = await _take(feed, 2)
        await feed.aclose()  # disconnect
        for client, key in zip(clients[2:], keys[2:], strict=True):
            await client.register(make_card(key))  # missed while away
        await clients[0].deregister()
        resumed = clients[0].watch(since=seen[-1].seq)
        missed = await _take(resumed, 4)
        await resumed.aclose()
        assert [e.did for e in missed] == [keys[2].did, keys[3].did, keys[4].did, keys[0].did]
        assert [e.kind for e in missed][-1] == "deregistered"
        all_seqs = [e.seq for e in seen + missed]
        assert all_seqs == list(range(all_seqs[0], all_seqs[0] + 6))
    finally:
        for client in clients:
            await client.aclose()


@pytest.mark.req("REG-053")
async def test_feed_without_since_starts_now(live_server: Start) -> None:
    server = live_server()
    old, new = SigningKey.generate(), SigningKey.generate()
    async with RegistryClient(server.url, old) as c_old, RegistryClient(server.url, new) as c_new:
        await c_old.register(make_card(old))
        async with connect(c_old.feed_url(None)) as socket:
            await asyncio.sleep(0.2)  # let the server read the current last event
            await c_new.register(make_card(new))
            message: dict[str, Any] = json.loads(await asyncio.wait_for(socket.recv(), 15))
        assert (message["kind"], message["did"]) == ("registered", new.did)


@pytest.mark.req("REG-053")
@pytest.mark.parametrize("since", ["-1", "abc", "1.5", "9" * 30])
async def test_bad_since_closes_with_1008(live_server: Start, since: str) -> None:
    server = live_server()
    url = f"ws://127.0.0.1:{server.port}/v1/feed?since={since}"
    with pytest.raises(ConnectionClosed) as info:
        async with connect(url) as socket:
            await asyncio.wait_for(socket.recv(), 10)
    assert info.value.rcvd is not None
    assert info.value.rcvd.code == 1008


@pytest.mark.req("REG-052")
async def test_client_watch_resumes_across_a_restart(live_server: Start) -> None:
    server = live_server()
    first_key, second_key = SigningKey.generate(), SigningKey.generate()
    async with RegistryClient(server.url, first_key) as client:
        await client.register(make_card(first_key))
        feed = client.watch(since=0, max_retries=20)
        before = await _take(feed, 1)
        server.stop()  # the feed connection drops
        restarted = live_server(port=server.port)  # same port, same database file
        async with RegistryClient(restarted.url, second_key) as other:
            await other.register(make_card(second_key))
        after = await _take(feed, 1)
        await feed.aclose()
    assert before[0].did == first_key.did
    assert (after[0].did, after[0].seq) == (second_key.did, before[0].seq + 1)


@pytest.mark.req("REG-054")
async def test_a_since_older_than_the_kept_events_is_closed_4410(
    live_server: Start, store: AgentStore
) -> None:
    server = live_server()  # on the same database file as ``store``
    client = RegistryClient(server.url)
    keys = [SigningKey.generate() for _ in range(3)]
    for key in keys:
        await RegistryClient(server.url, key).register(make_card(key))
    first = await store.events_since(0)
    assert [e.seq for e in first] == [1, 2, 3]  # consecutive
    future = first[-1].at + timedelta(days=1)
    assert await store.prune_events(future) == 2  # the newest event is always kept
    assert [e.seq for e in await store.events_since(0)] == [3]
    events = client.watch(since=1, reconnect=True)  # missed event 2: not retried
    with pytest.raises(ConnectionClosed) as closed:
        await asyncio.wait_for(anext(events), 15)
    assert closed.value.rcvd is not None
    assert closed.value.rcvd.code == FEED_CURSOR_EXPIRED
    assert closed.value.rcvd.reason.startswith("feed-cursor-expired")
    resumed = client.watch(since=2)  # nothing missed: the newest event arrives
    assert [e.seq for e in await _take(resumed, 1)] == [3]
    await resumed.aclose()


@pytest.mark.req("REG-055")
@pytest.mark.req("MSG-014")
@pytest.mark.req("MSG-015")
async def test_every_feed_frame_is_signed_for_its_subscription(live_server: Start) -> None:
    server = live_server()
    key = SigningKey.generate()
    async with RegistryClient(server.url, key) as client:
        await client.register(make_card(key))
        await client.deregister()
    subscription = new_subscription_id()
    url = server.url.replace("http", "ws", 1) + f"/v1/feed?since=0&subscription={subscription}"
    async with connect(url) as ws:
        raws = [await asyncio.wait_for(ws.recv(), 10) for _ in range(2)]
    frames = [
        verify_frame(raw, signer=REGISTRY_KEY.did, subscription=subscription, index=i)
        for i, raw in enumerate(raws)
    ]
    assert [(f["kind"], f["did"], f["frame"]) for f in frames] == [
        ("registered", key.did, 0),
        ("deregistered", key.did, 1),
    ]


@pytest.mark.req("REG-055")
async def test_a_malformed_subscription_closes_the_feed(live_server: Start) -> None:
    server = live_server()
    url = server.url.replace("http", "ws", 1) + "/v1/feed?subscription=short"
    async with connect(url) as ws:
        with pytest.raises(ConnectionClosed) as info:
            await asyncio.wait_for(ws.recv(), 10)
    assert info.value.rcvd is not None
    assert info.value.rcvd.code == 1008


@pytest.mark.req("REG-055")
@pytest.mark.req("MSG-015")
async def test_the_client_refuses_a_tampered_feed_frame(live_server: Start) -> None:
    server = live_server()
    key = SigningKey.generate()
    async with RegistryClient(server.url, key) as client:
        await client.register(make_card(key))

    def forge(raw: str) -> str:
        return raw.replace('"kind":"registered"', '"kind":"deregistered"')

    for alter, forged in ((lambda raw: raw, False), (forge, True)):
        async with (
            FrameRelay(server.url, alter) as relay,
            RegistryClient(relay.url, None, registry_did=REGISTRY_KEY.did) as reader,
        ):
            feed = reader.watch(since=0, reconnect=False)
            if forged:
                with pytest.raises(InvalidSignatureError, match="does not verify"):
                    await _take(feed, 1)
            else:  # relayed as sent: accepted
                assert (await _take(feed, 1))[0].kind == "registered"
            await feed.aclose()
