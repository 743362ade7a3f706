"""``/v1/feed``: the change feed over WebSocket, resumable with ``since=<seq>``."""

from __future__ import annotations

from collections.abc import Coroutine
from typing import Any

from fastapi import APIRouter, WebSocket

from woa_protocol import FrameSigner

from ..context import context_of
from ..models import FeedEvent
from ..streaming import CloseStream, parse_since, serve_stream, subscription_of

__all__ = ["FEED_BATCH", "router"]

router = APIRouter(tags=["feed"])

FEED_BATCH = 500
"""Events read from the store per query while catching up."""

POLICY_VIOLATION = 1008
"""WebSocket close code for a bad ``since`` parameter (RFC 6455 §7.4.1)."""
CURSOR_EXPIRED = 4410
"""WebSocket close code for a ``since`` older than the events kept (REG-054): re-read the
registry with search, then reconnect without ``since``."""


@router.websocket("/v1/feed")
async def feed(websocket: WebSocket) -> None:
    """Send every event after ``since`` (default: the current last event), then stream new ones.

    Each text frame is one :class:`FeedEvent` as JSON, signed by the registry for the
    connection's ``subscription`` (REG-055). The server never sends an event twice on one
    connection and never skips one: sequence numbers arrive strictly increasing.
    """
    ctx = context_of(websocket)
    await websocket.accept()
    try:
        since = parse_since(websocket.query_params.get("since"))
    except ValueError:
        await websocket.close(code=POLICY_VIOLATION, reason="since must be a non-negative integer")
        return
    try:
        signer = FrameSigner(ctx.key, subscription_of(websocket))
    except ValueError as exc:
        await websocket.close(code=POLICY_VIOLATION, reason=str(exc))
        return
    if since is None:
        since = await ctx.store.last_seq()
    ctx.metrics.feed_clients.inc()
    position = since

    async def send_batch() -> bool:
        nonlocal position
        events = await ctx.store.events_since(position, limit=FEED_BATCH)
        for event in events:
            if event.seq != position + 1:  # numbers are consecutive: the gap was pruned
                raise CloseStream(
                    CURSOR_EXPIRED,
                    f"feed-cursor-expired: events {position + 1}..{event.seq - 1} are no"
                    " longer kept; search the registry, then reconnect without since",
                )
            frame = FeedEvent.of(event).model_dump(mode="json", by_alias=True, exclude_none=True)
            await websocket.send_text(signer.sign(frame))
            position = event.seq
        return bool(events)

    def wait_for_more() -> Coroutine[Any, Any, bool]:
        return ctx.store.wait_for_event(position, timeout=ctx.settings.feed_poll_seconds)

    try:
        await serve_stream(websocket, send_batch=send_batch, wait_for_more=wait_for_more)
    finally:
        ctx.metrics.feed_clients.dec()
