"""The registry benchmark runs end to end on tiny sizes (figures are not asserted)."""

from __future__ import annotations

from pathlib import Path

from woa_benchmarks.registry import run


def test_registry_benchmark_smoke(tmp_path: Path) -> None:
    result = run(
        sizes=(30, 10), requests=40, rounds=1, concurrency=2, registrations=5, workdir=tmp_path
    )
    assert [(r.backend, r.agents) for r in result.sizes] == [("sqlite", 10), ("sqlite", 30)]
    for row in result.sizes:
        assert row.search.requests == 40
        assert row.search.p99 >= row.search.p50 > 0
        assert row.trivial.throughput > 0
        assert row.rss_bytes is None or row.rss_bytes > 0
    assert result.registrations_per_second["sqlite"] > 0
    assert result.scaling("sqlite") is not None
    assert result.scaling("postgres") is None
