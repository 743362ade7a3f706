"""The token bucket behind the per-address and per-DID rate limits."""

from __future__ import annotations

import pytest

from woa_registry.limits import TokenBucketLimiter


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


@pytest.mark.req("REG-073")
def test_burst_then_rate() -> None:
    clock = Clock()
    limiter = TokenBucketLimiter(rate=0.5, burst=3, clock=clock)
    assert [limiter.acquire("a") for _ in range(3)] == [None, None, None]
    assert limiter.acquire("a") == 2  # one token refills in 2 s
    assert limiter.acquire("b") is None  # keys are independent
    clock.now += 2.0
    assert limiter.acquire("a") is None
    assert limiter.acquire("a") is not None
    clock.now += 1000
    assert [limiter.acquire("a") for _ in range(4)] == [None, None, None, 2]  # capped at burst


def test_disabled_and_bounded() -> None:
    assert TokenBucketLimiter(rate=0, burst=1).acquire("x") is None
    limiter = TokenBucketLimiter(rate=1, burst=1, max_keys=2, clock=Clock())
    for key in ("a", "b", "c"):
        assert limiter.acquire(key) is None
    assert len(limiter._buckets) == 2
    assert limiter.acquire("a") is None  # dropped, so it starts again with a full bucket
