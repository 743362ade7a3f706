"""``woa bench demo``: the compound demo's time split by hop, model time vs our layers."""

from __future__ import annotations

import json

import typer
from rich.table import Table

from ._bench_common import bench_failures, verdict
from ._console import console, fail

__all__ = ["register"]


def demo(
    registry_url: str = typer.Option(
        None,
        "--registry-url",
        help="A running web's registry (default: start the registry and the demo's agents "
        "on free loopback ports, stop them afterwards).",
    ),
    runs: int = typer.Option(1, min=1, help="Demo runs measured; per-hop medians are reported."),
    warmup: bool = typer.Option(
        True, "--warmup/--no-warmup", help="Run the demo once, unmeasured, first."
    ),
    model_repeats: int = typer.Option(
        3, min=1, help="Direct model calls per hop after each run; the median is kept."
    ),
    startup_timeout: float = typer.Option(
        300.0, min=1.0, help="Seconds the started web may take to register (models load)."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print the figures as JSON."),
) -> None:
    """Time per hop of `woa demo`, and the share of it in signing, discovery, state, transport."""
    from woa_benchmarks import demo as bench

    with bench_failures("demo"), console.status("measuring...") as status:
        result = bench.run(
            registry_url,
            runs=runs,
            warmup=warmup,
            model_repeats=model_repeats,
            startup_timeout=startup_timeout,
            progress=status.update,
        )
    if as_json:
        typer.echo(json.dumps(result.as_json()))
        return
    table = Table(
        title=f"demo: {'median of ' if runs > 1 else ''}{runs} run{'s' * (runs > 1)} "
        "(signed, real sockets, real models)"
    )
    for column in (
        "hop",
        "kind",
        "agent",
        "skill",
        "call ms",
        "model ms",
        "our layers ms",
        "share",
    ):
        table.add_column(
            column, justify="right" if column in ("hop", "share") or "ms" in column else "left"
        )
    for hop in result.hops:
        table.add_row(
            str(hop.index),
            hop.kind,
            hop.agent,
            hop.skill + ("" if hop.status == "completed" else f" ({hop.status})"),
            f"{hop.call_ms:.1f}",
            "-" if hop.model_ms is None else f"{hop.model_ms:.1f}",
            f"{hop.layers_ms:.1f}" + ("" if hop.probe_ms is not None else " *"),
            f"{hop.share:.1%}",
        )
    table.add_section()
    table.add_row(
        "", "", "planner, trail, discovery, client", "", f"{result.outside_hops_ms:.1f}", "0.0",
        f"{result.outside_hops_ms:.1f}", "100.0%",
    )  # fmt: skip
    table.add_row(
        "", "", "[bold]end to end[/bold]", "", f"{result.end_to_end_ms:.1f}",
        f"{result.model_ms:.1f}", f"{result.layers_ms:.1f}", f"{result.share:.1%}",
    )  # fmt: skip
    console.print(table)
    console.print(
        "our layers: measured by a probe agent answering the recorded output at once (the same "
        "signed call, no model); * = call - model. Outside the hops: end to end - sum of calls. "
        f"Unaccounted (end to end - model - layers: the load's noise): "
        f"{result.residual_ms:.1f} ms; counted as ours, the layers' share would be "
        f"{1 - result.model_ms / result.end_to_end_ms:.1%}.",
        soft_wrap=True,
    )
    console.print(
        f"our layers {result.layers_ms / 1e3:.2f} s of {result.end_to_end_ms / 1e3:.2f} s end to "
        f"end ({result.share:.1%}): {verdict(result.meets_goal)} the goal "
        f"<= {bench.GOAL_SHARE:.0%}"
    )
    over = [h for h in result.hops if h.model_ms is not None and h.model_ms > h.call_ms]
    for hop in over:
        console.print(
            f"[yellow]note[/yellow]: hop {hop.index} ({hop.skill}): the direct model call took "
            f"longer than the signed call ({hop.model_ms:.0f} vs {hop.call_ms:.0f} ms): the "
            "machine's load varies between the two; more --runs and --model-repeats steady it"
        )
    if not result.hops:
        fail("the demo made no hops")


def register(app: typer.Typer) -> None:
    """Add ``demo`` to ``woa bench``."""
    app.command("demo")(demo)
