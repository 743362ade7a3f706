"""The lease sweeper: removes lapsed agents every interval; each removal is a feed event.

It also prunes change-feed events older than the retention (REG-054), at most once a minute.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from datetime import datetime, timedelta

from .metrics import RegistryMetrics
from .storage.base import AgentStore, ChangeEvent

__all__ = ["PRUNE_EVERY_SECONDS", "LeaseSweeper"]

PRUNE_EVERY_SECONDS = 60.0
"""Least time between two prunings of the change feed."""

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
        feed_retention: float = 0.0,
    ) -> None:
        self.store = store
        self.interval = interval
        self.clock = clock
        self.metrics = metrics
        self.feed_retention = feed_retention
        """Seconds change-feed events are kept; 0 keeps them for ever."""
        self._task: asyncio.Task[None] | None = None
        self._pruned_at: datetime | None = None

    async def sweep_once(self) -> list[ChangeEvent]:
        """Expire every lapsed lease now; return the events written."""
        events = await self.store.expire(self.clock())
        if self.metrics is not None:
            for event in events:
                self.metrics.events.labels(event.kind.value).inc()
        if events:
            log.info("expired %d lease(s)", len(events))
        return events

    async def prune_once(self) -> int:
        """Delete feed events older than the retention; return how many (0 when disabled)."""
        if self.feed_retention <= 0:
            return 0
        now = self.clock()
        self._pruned_at = now
        pruned = await self.store.prune_events(now - timedelta(seconds=self.feed_retention))
        if pruned:
            log.info("pruned %d change-feed event(s) older than %gs", pruned, self.feed_retention)
        return pruned

    def _prune_due(self) -> bool:
        last = self._pruned_at
        return last is None or (self.clock() - last).total_seconds() >= PRUNE_EVERY_SECONDS

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self.interval)
            try:
                await self.sweep_once()
            except Exception:  # keep sweeping: a failed sweep is retried next interval
                log.exception("lease sweep failed")
            if self._prune_due():
                try:
                    await self.prune_once()
                except Exception:  # retried at the next due time
                    log.exception("change-feed pruning failed")

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
