"""Server side of the registry's resumable WebSocket streams (change feed, state watch).

Both streams send what the store holds after a position, then wait for the next change
(or the client's goodbye) and repeat. Every frame is signed by the registry and bound to
the connection's subscription id (MSG-014, MSG-015; :class:`woa_protocol.FrameSigner`).
This module owns that loop, the detection of a closed client, and the orderly close; each
route supplies how to send one batch and how to wait for more.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

from starlette.websockets import WebSocket, WebSocketDisconnect, WebSocketState

from woa_protocol.frames import new_subscription_id, valid_subscription_id

__all__ = ["CloseStream", "parse_since", "serve_stream", "subscription_of"]


class CloseStream(Exception):  # noqa: N818 - a signal to the loop, not a failure
    """Raised by a ``send_batch`` to end the stream with a WebSocket close code and reason."""

    def __init__(self, code: int, reason: str) -> None:
        super().__init__(reason)
        self.code = code
        self.reason = reason[:120]  # a close frame's reason is at most 123 bytes


def parse_since(raw: str | None) -> int | None:
    """Parse a ``since`` query parameter: None when absent; ValueError unless a small int."""
    if raw is None:
        return None
    if not raw.isdigit() or len(raw) > 18:
        raise ValueError(raw)
    return int(raw)


def subscription_of(websocket: WebSocket) -> str:
    """The ``subscription`` id the client chose (MSG-015), or a fresh one; ValueError if bad."""
    raw = websocket.query_params.get("subscription")
    if raw is None:
        return new_subscription_id()
    if not valid_subscription_id(raw):
        raise ValueError("subscription must be 16-128 base64url characters")
    return raw


async def serve_stream(
    websocket: WebSocket,
    *,
    send_batch: Callable[[], Awaitable[bool]],
    wait_for_more: Callable[[], Coroutine[Any, Any, object]],
    first: str | None = None,
) -> None:
    """Send ``first``, then batches until the client leaves; close the socket at the end.

    ``send_batch`` sends what is available and returns True when more may be ready at once
    (a full batch); otherwise the loop awaits ``wait_for_more`` or the client's close,
    whichever comes first. ``send_batch`` raises :class:`CloseStream` to end the stream
    with a close code of its own. The socket must already be accepted.
    """
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
        if first is not None:
            await websocket.send_text(first)
        while not closed.is_set():
            if await send_batch():
                continue
            waiter = asyncio.create_task(wait_for_more())
            closer = asyncio.create_task(closed.wait())
            done, _ = await asyncio.wait({waiter, closer}, return_when=asyncio.FIRST_COMPLETED)
            for task in (waiter, closer):
                if task not in done:
                    task.cancel()
            if waiter in done:
                waiter.result()
    except CloseStream as stop:
        if websocket.client_state is WebSocketState.CONNECTED:
            with contextlib.suppress(RuntimeError):
                await websocket.close(code=stop.code, reason=stop.reason)
    except (WebSocketDisconnect, RuntimeError):
        return  # the client went away mid-send; the finally block tidies up
    finally:
        watcher.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await watcher
        if websocket.client_state is WebSocketState.CONNECTED:
            with contextlib.suppress(RuntimeError):
                await websocket.close()
