"""Waking a store's waiters: a change signal and the wait-for-a-sequence-number loop.

Every store that streams changes (the agent store's feed, the state store's watch) wakes
its waiters from its own writes and from the database's notifications, and re-checks on a
poll tick in case a notification was missed.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
from collections.abc import Awaitable, Callable

from ..storage.base import StoreInputError

__all__ = ["ChangeSignal", "wait_for_seq"]


class ChangeSignal:
    """Wakes every waiter once per change: each change replaces the event waiters hold."""

    def __init__(self) -> None:
        self._event = asyncio.Event()

    def current(self) -> asyncio.Event:
        """Return the event the next change will set."""
        return self._event

    def fire(self) -> None:
        """Wake everyone waiting on the current event."""
        event, self._event = self._event, asyncio.Event()
        event.set()


async def wait_for_seq(
    last_seq: Callable[[], Awaitable[int]],
    signal: ChangeSignal,
    after_seq: int,
    timeout: float,
    poll_interval: float,
) -> bool:
    """Return True once ``last_seq() > after_seq``; re-check on each signal or poll tick."""
    if isinstance(timeout, bool) or not isinstance(timeout, int | float):
        raise StoreInputError("timeout must be a number of seconds")
    if math.isnan(timeout) or timeout < 0:
        raise StoreInputError("timeout must not be negative")
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        woken = signal.current()  # taken before the check, so no wake-up is lost
        if await last_seq() > after_seq:
            return True
        remaining = deadline - loop.time()
        if remaining <= 0:
            return False
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(woken.wait(), timeout=min(remaining, poll_interval))
