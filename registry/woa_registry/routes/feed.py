"""``/v1/feed``: the change feed over WebSocket, resumable with ``since=<seq>``."""

from __future__ import annotations

import asyncio
import contextlib

from fastapi import APIRouter, WebSocket
from starlette.websockets import WebSocketDisconnect, WebSocketState

from ..context import context_of
from ..models import FeedEvent

__all__ = ["FEED_BATCH", "router"]

router = APIRouter(tags=["feed"])

FEED_BATCH = 500
"""Events read from the store per query while catching up."""

POLICY_VIOLATION = 1008
"""WebSocket close code for a bad ``since`` parameter (RFC 6455 §7.4.1)."""


def _parse_since(raw: str | None) -> int | None:
    if raw is None:
        return None
    if not raw.isdigit() or len(raw) > 18:
        raise ValueError(raw)
    return int(raw)


@router.websocket("/v1/feed")
async def feed(websocket: WebSocket) -> None:
    """Send every event after ``since`` (default: the current last event), then stream new ones.

    Each text frame is one :class:`FeedEvent` as JSON. The server never sends an event twice
    on one connection and never skips one: sequence numbers arrive strictly increasing.
    """
    ctx = context_of(websocket)
    await websocket.accept()
    try:
        since = _parse_since(websocket.query_params.get("since"))
    except ValueError:
        await websocket.close(code=POLICY_VIOLATION, reason="since must be a non-negative integer")
        return
    if since is None:
        since = await ctx.store.last_seq()
    ctx.metrics.feed_clients.inc()
    closed = asyncio.Event()

    async def watch_for_close() -> None:
        with contextlib.suppress(WebSocketDisconnect, RuntimeError):
            while True:
                message = await websocket.receive()
                if message["type"] == "websocket.disconnect":
                    break
        closed.set()

    watcher = asyncio.create_task(watch_for_close())
    try:
        while not closed.is_set():
            events = await ctx.store.events_since(since, limit=FEED_BATCH)
            for event in events:
                await websocket.send_text(
                    FeedEvent.of(event).model_dump_json(by_alias=True, exclude_none=True)
                )
                since = event.seq
            if events:
                continue
            waiter = asyncio.create_task(
                ctx.store.wait_for_event(since, timeout=ctx.settings.feed_poll_seconds)
            )
            closer = asyncio.create_task(closed.wait())
            done, _ = await asyncio.wait({waiter, closer}, return_when=asyncio.FIRST_COMPLETED)
            for task in (waiter, closer):
                if task not in done:
                    task.cancel()
            if waiter in done:
                waiter.result()
    except (WebSocketDisconnect, RuntimeError):
        pass
    finally:
        ctx.metrics.feed_clients.dec()
        watcher.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await watcher
        if websocket.client_state is WebSocketState.CONNECTED:
            with contextlib.suppress(RuntimeError):
                await websocket.close()
