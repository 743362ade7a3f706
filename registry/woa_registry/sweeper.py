"""The lease sweeper: removes lapsed agents every interval; each removal is a feed event."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from datetime import datetime

from .metrics import RegistryMetrics
from .storage.base import AgentStore, ChangeEvent

__all__ = ["LeaseSweeper"]

log = logging.getLogger(__name__)


class LeaseSweeper:
    """Background task calling ``store.expire(now)`` every ``interval`` seconds."""

    def __init__(
        self,
        store: AgentStore,
        interval: float,
        *,
        clock: Callable[[], datetime],
        metrics: RegistryMetrics | None = None,
    ) -> None:
        self.store = store
        self.interval = interval
        self.clock = clock
        self.metrics = metrics
        self._task: asyncio.Task[None] | None = None

    async def sweep_once(self) -> list[ChangeEvent]:
        """Expire every lapsed lease now; return the events written."""
        events = await self.store.expire(self.clock())
        if self.metrics is not None:
            for event in events:
                self.metrics.events.labels(event.kind.value).inc()
        if events:
            log.info("expired %d lease(s)", len(events))
        return events

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self.interval)
            try:
                await self.sweep_once()
            except Exception:  # keep sweeping: a failed sweep is retried next interval
                log.exception("lease sweep failed")

    def start(self) -> None:
        """Start the background task."""
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="woa-lease-sweeper")

    async def stop(self) -> None:
        """Cancel the task and wait for it to end."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
