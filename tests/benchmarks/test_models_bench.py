"""The models benchmark runs on real sockets with the real models (figures are not asserted)."""

from __future__ import annotations

from typer.testing import CliRunner

from woa_benchmarks import models as bench
from woa_cli.main import app

runner = CliRunner()


def test_models_benchmark_smoke() -> None:
    rows, skipped = bench.run(["embedder", "reader"], calls=1)
    assert skipped == {}
    assert [(r.agent, r.skill) for r in rows] == [
        ("embedder", "similarity"),
        ("embedder", "rank"),
        ("reader", "read"),
    ]
    for row in rows:
        assert row.model > 0
        assert row.layers > 0
        assert row.call > 0
        assert row.share == row.layers / (row.model + row.layers)


def test_every_catalog_agent_has_cases() -> None:
    from woa_samples import CATALOG

    for name in ("embedder", "segmenter", "reader", "transcriber"):
        assert name in CATALOG
        measured = bench.cases(name)
        assert measured
        assert all(case.skill in CATALOG[name].build().agent.skills for case in measured)


def test_cli_prints_the_table_and_the_verdict() -> None:
    result = runner.invoke(app, ["bench", "models", "--agents", "embedder", "--calls", "1"])
    assert result.exit_code == 0, result.output
    assert "similarity" in result.output
    assert "the goal <= 10%" in result.output


def test_cli_refuses_an_unknown_agent() -> None:
    result = runner.invoke(app, ["bench", "models", "--agents", "painter"])
    assert result.exit_code == 1
    assert "unknown agents ['painter']" in result.output
