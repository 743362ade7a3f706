"""Replay protection for signed messages: a validity window plus a bounded nonce cache.

A signature is acceptable from ``created - skew`` until ``min(expires, created + max_age) +
skew``. Inside that window each ``(keyid, nonce)`` is accepted once. The cache holds at most
``max_entries`` pairs; when it is full the oldest pair is evicted and the guard stops
accepting any signature whose window ends at or before the evicted one's, so an evicted
nonce can never be replayed: under overload the window shrinks, it never leaks.

The cache lives in one process. A deployment with several processes (replicas behind one
database) or one that restarts plugs a :class:`ReplayStore` into the guard: the cache stays
in front (a local replay is refused without touching the store), and every nonce the cache
accepts is then claimed in the store with :meth:`ReplayGuard.claim_shared`, which refuses a
nonce another process (or an earlier life of this one) already claimed. This module defines
only the interface; stores that do I/O live with the servers that use them.
"""

from __future__ import annotations

import hashlib
import heapq
import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass

from .errors import SignatureExpiredError, SignatureNotYetValidError, SignatureReplayedError

__all__ = ["ReplayGuard", "ReplayPolicy", "ReplayStore", "replay_key"]


@dataclass(frozen=True)
class ReplayPolicy:
    """Timing rules for accepting a signature (seconds)."""

    max_age: int = 300
    """Longest accepted lifetime from ``created``, whatever ``expires`` says."""
    clock_skew: int = 30
    """Tolerated difference between the signer's clock and ours."""
    max_entries: int = 100_000
    """Bound on remembered nonces."""


def replay_key(keyid: str, nonce: str) -> bytes:
    """Return the fixed-size key (SHA-256, 32 bytes) under which a store keeps a nonce.

    Hashing bounds the stored size whatever the nonce's length and keeps any character out
    of the database's text columns; the two parts are length-prefixed, so no two distinct
    ``(keyid, nonce)`` pairs share a key.
    """
    kid = keyid.encode("utf-8")
    return hashlib.sha256(len(kid).to_bytes(4, "big") + kid + nonce.encode("utf-8")).digest()


class ReplayStore(ABC):
    """Durable memory of claimed nonces, shared by every process that verifies for a service.

    Keys come from :func:`replay_key`; times are epoch seconds. Implementations must make
    :meth:`claim` atomic across processes: of two concurrent claims of one live key, exactly
    one succeeds.
    """

    @abstractmethod
    async def open(self) -> None:
        """Connect (and create or migrate the store's table); idempotent."""

    @abstractmethod
    async def close(self) -> None:
        """Release connections; :meth:`open` may be called again."""

    @abstractmethod
    async def claim(self, key: bytes, until: float, now: float) -> bool:
        """Record ``key`` as used until ``until``; False when it is already claimed.

        A claim ending at or after ``now`` holds the key (the new claim is a replay); an
        expired claim of the key is replaced.
        """

    @abstractmethod
    async def prune(self, now: float, *, limit: int = 10_000) -> int:
        """Delete up to ``limit`` claims that ended before ``now``; return how many."""


class ReplayGuard:
    """Checks a signature's time window and remembers its nonce.

    ``store``: an optional :class:`ReplayStore` shared with other processes; see
    :meth:`claim_shared`.
    """

    def __init__(
        self,
        policy: ReplayPolicy | None = None,
        *,
        clock: Callable[[], float] = time.time,
        store: ReplayStore | None = None,
    ) -> None:
        self.policy = policy or ReplayPolicy()
        self.store = store
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

    async def claim_shared(self, keyid: str, nonce: str, end: float) -> None:
        """Claim a nonce the cache accepted in the shared store (no-op without a store).

        Call it after :meth:`remember` (or :meth:`check`) accepted ``(keyid, nonce)`` and
        before acting on the request; ``end`` is the window's end. Raises
        SignatureReplayedError when another process, or this one before a restart, already
        accepted the nonce.
        """
        if self.store is None:
            return
        if not await self.store.claim(replay_key(keyid, nonce), end, self._clock()):
            raise SignatureReplayedError(f"nonce {nonce!r} from {keyid} was already used")

    def _evict_expired(self, now: float) -> None:
        heap = self._expiry_heap
        while heap and heap[0][0] < now:
            _, key = heapq.heappop(heap)
            self._seen.pop(key, None)
