"""Replay protection for signed messages: a validity window plus a bounded nonce cache.

A signature is acceptable from ``created - skew`` until ``min(expires, created + max_age) +
skew``. Inside that window each ``(keyid, nonce)`` is accepted once. The cache holds at most
``max_entries`` pairs; when it is full the oldest pair is evicted and the guard stops
accepting any signature whose window ends at or before the evicted one's, so an evicted
nonce can never be replayed: under overload the window shrinks, it never leaks.
"""

from __future__ import annotations

import heapq
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from .errors import SignatureExpiredError, SignatureNotYetValidError, SignatureReplayedError

__all__ = ["ReplayGuard", "ReplayPolicy"]


@dataclass(frozen=True)
class ReplayPolicy:
    """Timing rules for accepting a signature (seconds)."""

    max_age: int = 300
    """Longest accepted lifetime from ``created``, whatever ``expires`` says."""
    clock_skew: int = 30
    """Tolerated difference between the signer's clock and ours."""
    max_entries: int = 100_000
    """Bound on remembered nonces."""


class ReplayGuard:
    """Checks a signature's time window and remembers its nonce."""

    def __init__(
        self, policy: ReplayPolicy | None = None, *, clock: Callable[[], float] = time.time
    ) -> None:
        self.policy = policy or ReplayPolicy()
        self._clock = clock
        self._seen: dict[tuple[str, str], float] = {}
        self._expiry_heap: list[tuple[float, tuple[str, str]]] = []
        self._floor = float("-inf")
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._seen)

    def window_end(self, created: int, expires: int | None) -> float:
        """Return the last instant (epoch seconds) the signature is acceptable."""
        end = created + self.policy.max_age
        if expires is not None:
            end = min(end, expires)
        return float(end + self.policy.clock_skew)

    def check_window(self, created: int, expires: int | None) -> float:
        """Raise unless now lies inside the signature's window; return the window's end."""
        now = self._clock()
        if created > now + self.policy.clock_skew:
            raise SignatureNotYetValidError(
                f"signature created {created - now:.0f}s in the future "
                f"(clock skew tolerance {self.policy.clock_skew}s)"
            )
        if expires is not None and expires < created:
            raise SignatureExpiredError("signature expires before it was created")
        end = self.window_end(created, expires)
        if end < now:
            raise SignatureExpiredError(f"signature expired {now - end:.0f}s ago")
        return end

    def check(self, keyid: str, nonce: str, created: int, expires: int | None) -> None:
        """Check the window, then accept ``(keyid, nonce)`` once; raise on any violation."""
        self.remember(keyid, nonce, self.check_window(created, expires))

    def remember(self, keyid: str, nonce: str, end: float) -> None:
        """Accept ``(keyid, nonce)`` once, for a window :meth:`check_window` already checked.

        ``end`` is the window's end that it returned. Raises on a replay, or when the cache
        is too full to vouch for a signature this old.
        """
        key = (keyid, nonce)
        with self._lock:
            now = self._clock()
            self._evict_expired(now)
            if key in self._seen:
                raise SignatureReplayedError(f"nonce {nonce!r} from {keyid} was already used")
            if end <= self._floor:
                raise SignatureExpiredError(
                    "signature is older than the replay cache can vouch for (cache full)"
                )
            if len(self._seen) >= self.policy.max_entries:
                evicted_end, evicted = heapq.heappop(self._expiry_heap)
                del self._seen[evicted]
                self._floor = max(self._floor, evicted_end)
                if end <= self._floor:
                    raise SignatureExpiredError(
                        "signature is older than the replay cache can vouch for (cache full)"
                    )
            self._seen[key] = end
            heapq.heappush(self._expiry_heap, (end, key))

    def _evict_expired(self, now: float) -> None:
        heap = self._expiry_heap
        while heap and heap[0][0] < now:
            _, key = heapq.heappop(heap)
            self._seen.pop(key, None)
