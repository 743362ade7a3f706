"""The shared benchmark harness: exact request counts, percentiles, medians of rounds."""

from __future__ import annotations

import asyncio

import pytest

from woa_benchmarks._harness import LoadResult, measure_load, median_load, percentile


def test_percentile_is_nearest_rank_and_clamped() -> None:
    values = [float(v) for v in range(1, 101)]
    assert percentile(values, 0.5) == 51.0
    assert percentile(values, 0.99) == 100.0
    assert percentile([3.0], 0.99) == 3.0


def test_load_makes_exactly_the_requested_calls_spread_over_workers() -> None:
    calls: list[int] = []

    async def call(worker: int) -> None:
        calls.append(worker)
        await asyncio.sleep(0)

    result = asyncio.run(measure_load(call, 25, 4))
    assert result.requests == 25
    assert len(calls) == 25
    assert set(calls) == {0, 1, 2, 3}
    assert result.seconds > 0
    assert result.p99 >= result.p50 > 0
    assert result.throughput == pytest.approx(25 / result.seconds)


def test_a_failing_call_fails_the_load() -> None:
    async def call(worker: int) -> None:
        raise RuntimeError("server answered 500")

    with pytest.raises(RuntimeError, match="500"):
        asyncio.run(measure_load(call, 3, 2))


def test_median_of_rounds_takes_each_field_apart() -> None:
    rounds = [
        LoadResult(10, 1.0, 0.3, 0.9),
        LoadResult(10, 3.0, 0.1, 0.5),
        LoadResult(10, 2.0, 0.2, 0.7),
    ]
    assert median_load(rounds) == LoadResult(10, 2.0, 0.2, 0.7)
