"""The demo benchmark's computation: a recorded trail split by hop, and model time measured
directly with a real model on the demo's own receipt (figures are not asserted)."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import io
from typing import Any

import pytest
from typer.testing import CliRunner

from woa_benchmarks import demo as bench
from woa_cli.main import app

runner = CliRunner()


def _trail() -> dict[str, Any]:
    """A STATE-050 trail as the planner wrote it in a real demo (inputs shortened)."""
    receipt = {"mediaType": "image/png", "filename": "receipt.png", "sha256": "ab" * 32}

    def hop(i: int, kind: str, name: str, skill: str, ms: float, **extra: Any) -> dict[str, Any]:
        return {
            "id": f"{i:016x}",
            "parent": None,
            "kind": kind,
            "step": None if kind != "step" else i,
            "skill": skill,
            "agent": f"did:key:z{name}",
            "agentName": name,
            "status": "completed",
            "signer": f"did:key:z{name}",
            "ms": ms,
            "input": {},
            **extra,
        }

    return {
        "kind": "woa.trail/1",
        "status": "completed",
        "hops": [
            hop(1, "route", "router", "route", 120.0),
            hop(2, "step", "reader", "read", 900.0, input={"image": receipt}),
            hop(3, "step", "transcriber", "transcribe", 2500.0, status="failed", error="gone"),
            hop(4, "step", "transcriber", "transcribe", 2600.0),
            hop(5, "step", "writer", "extract", 5000.0),
        ],
    }


def test_a_recorded_trail_splits_into_model_time_and_our_layers() -> None:
    trail = _trail()
    ids = [h["id"] for h in trail["hops"]]
    model = {ids[0]: 20.0, ids[1]: 850.0, ids[2]: 2400.0, ids[3]: 2450.0, ids[4]: 4900.0}
    result = bench.split(trail, 12000.0, model)
    assert [(h.kind, h.skill, h.status) for h in result.hops] == [
        ("route", "route", "completed"),
        ("step", "read", "completed"),
        ("step", "transcribe", "failed"),
        ("step", "transcribe", "completed"),
        ("step", "extract", "completed"),
    ]
    failed = result.hops[2]
    assert failed.model_ms is None  # a failed call's time is all ours (transport, failover)
    assert failed.layers_ms == 2500.0
    assert result.hops[1].layers_ms == 50.0
    assert result.hops[1].share == pytest.approx(50.0 / 900.0)
    assert result.hops_ms == 11120.0
    assert result.outside_hops_ms == 880.0
    assert result.model_ms == 20.0 + 850.0 + 2450.0 + 4900.0
    assert result.layers_ms == 12000.0 - result.model_ms
    assert result.share == pytest.approx(result.layers_ms / 12000.0)
    assert result.meets_goal is (result.share <= bench.GOAL_SHARE)
    out = result.as_json()
    assert out["layers_share"] == round(result.share, 4)
    assert out["layers_by_subtraction_share"] == round(1 - result.model_ms / 12000.0, 4)
    assert [h["model_ms"] for h in out["hops"]] == [20.0, 850.0, None, 2450.0, 4900.0]


def test_a_hop_without_model_time_counts_as_ours() -> None:
    result = bench.split(_trail(), 12000.0, {})
    assert result.model_ms == 0.0
    assert result.share == 1.0
    assert not result.meets_goal


@pytest.mark.parametrize(
    ("trail", "why"),
    [({"hops": []}, "no hops"), ({"hops": [{"skill": "read", "status": "working"}]}, "no time")],
)
def test_a_trail_without_hops_or_times_is_refused(trail: dict[str, Any], why: str) -> None:
    with pytest.raises(ValueError, match=why):
        bench.split(trail, 1000.0, {})


def test_runs_are_combined_by_per_hop_medians() -> None:
    trail = _trail()
    ids = [h["id"] for h in trail["hops"]]
    runs = [
        bench.split(trail, total, dict.fromkeys(ids, model))
        for total, model in ((12000.0, 10.0), (14000.0, 30.0), (13000.0, 20.0))
    ]
    combined = bench.combine(runs)
    assert combined.runs == 3
    assert combined.end_to_end_ms == 13000.0
    assert combined.hops[1].model_ms == 20.0
    assert combined.hops[2].model_ms is None
    other = _trail()
    other["hops"] = other["hops"][1:]
    odd = bench.combine([*runs[:2], bench.split(other, 13500.0, {})])
    assert odd.end_to_end_ms == 13500.0  # different hops: the median run stands for them all
    assert odd.runs == 3


def test_model_time_is_measured_directly_on_the_demo_s_receipt() -> None:
    from woa_cli.demo_inputs import receipt_png

    png = receipt_png()
    digest = hashlib.sha256(base64.b64encode(png)).hexdigest()
    trail = _trail()
    trail["hops"][1]["input"] = {"image": {"mediaType": "image/png", "sha256": digest}}
    trail["hops"] = [trail["hops"][1], {**trail["hops"][1], "id": "other", "input": {}}]
    timer = bench.ModelTimer({digest: png})
    try:
        times = asyncio.run(timer.time_trail(trail))
    finally:
        timer.close()
    # the hop whose file the demo sent is timed with the real reader; the other is not
    assert set(times) == {trail["hops"][0]["id"]}
    assert times[trail["hops"][0]["id"]] > 0
    result = bench.split(trail, 2000.0, times)
    assert result.hops[0].layers_ms == pytest.approx(900.0 - times[trail["hops"][0]["id"]])
    assert result.hops[1].model_ms is None


def test_our_layers_are_measured_by_a_probe_answering_the_recorded_output() -> None:
    from PIL import Image

    from woa_cli.demo_inputs import receipt_png
    from woa_reader import Reader
    from woa_reader.agent import _out

    png = receipt_png()
    digest = hashlib.sha256(base64.b64encode(png)).hexdigest()
    page = Reader.load().read(Image.open(io.BytesIO(png)).convert("RGB"))
    trail = _trail()
    read = trail["hops"][1]
    read["input"] = {"image": {"mediaType": "image/png", "filename": "r.png", "sha256": digest}}
    read["output"] = _out(page).model_dump(mode="json")
    unknown = {**read, "id": "unknown-file", "input": {"image": {"sha256": "00" * 32}}}
    trail["hops"] = [trail["hops"][0], read, unknown]
    probed = asyncio.run(bench.probe_trail(trail, {digest: png}, repeats=1))
    # the read step is probed; the route hop (not a step) and the unknown file are not
    assert set(probed) == {read["id"]}
    assert probed[read["id"]] > 0
    result = bench.split(trail, 2000.0, {}, probed)
    assert result.hops[1].layers_ms == probed[read["id"]]
    assert result.hops[1].share == pytest.approx(probed[read["id"]] / 900.0)
    assert result.residual_ms == pytest.approx(900.0 - probed[read["id"]])


def test_module_lists_its_public_names() -> None:
    assert set(bench.__all__) == {
        *("DEMO_AGENTS", "GOAL_SHARE", "DemoSplit", "HopRow", "ModelTimer"),
        *("combine", "probe_trail", "run", "split", "start_web"),
    }
    for name in bench.__all__:
        assert getattr(bench, name) is not None


def test_cli_help_names_the_options() -> None:
    result = runner.invoke(app, ["bench", "demo", "--help"])
    assert result.exit_code == 0, result.output
    for option in ("--registry-url", "--runs", "--warmup", "--json"):
        assert option in result.output


def test_cli_reports_an_unreachable_registry() -> None:
    result = runner.invoke(
        app, ["bench", "demo", "--registry-url", "http://127.0.0.1:9", "--no-warmup"]
    )
    assert result.exit_code == 1
    assert "demo benchmark failed" in result.output
