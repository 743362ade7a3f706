"""``woa bench models``: per sample model agent, model time vs this project's layers."""

from __future__ import annotations

import typer
from rich.table import Table

from ._bench_common import bench_failures, verdict
from ._console import console, fail

__all__ = ["register"]


def models(
    agents: str = typer.Option(
        "", help="Comma-separated agents to measure (default: all; see `woa agents run --help`)."
    ),
    calls: int = typer.Option(5, min=1, help="Calls per case; medians are reported."),
) -> None:
    """Model time vs signing, validation and transport for one call of each model agent."""
    from woa_benchmarks import models as bench
    from woa_samples import CATALOG

    chosen = [a.strip() for a in agents.split(",") if a.strip()] or None
    unknown = [a for a in chosen or [] if a not in CATALOG or a not in bench._CASES]
    if unknown:
        fail(f"unknown agents {unknown}; choose from {', '.join(bench._CASES)}")
    with bench_failures("models"), console.status("measuring...") as status:
        rows, skipped = bench.run(chosen, calls, progress=status.update)
    table = Table(title=f"models: medians of {calls} calls per case (signed, real sockets)")
    for column in (
        "agent",
        "skill",
        "input",
        "model ms",
        "our layers ms",
        "call ms",
        "layers share",
    ):
        table.add_column(column, justify="right" if "ms" in column or "share" in column else "left")
    for row in rows:
        table.add_row(
            row.agent,
            row.skill,
            row.label,
            f"{row.model * 1e3:.1f}",
            f"{row.layers * 1e3:.1f}",
            f"{row.call * 1e3:.1f}",
            f"{row.share:.1%}",
        )
    console.print(table)
    for name, why in skipped.items():
        console.print(f"[yellow]{name} not measured[/yellow]: {why}")
    if rows:
        worst = max(rows, key=lambda r: r.share)
        ok = worst.share <= bench.GOAL_SHARE
        console.print(
            f"largest layers share {worst.share:.1%} ({worst.agent} {worst.skill}, "
            f"{worst.label}): {verdict(ok)} the goal <= {bench.GOAL_SHARE:.0%}"
        )


def register(app: typer.Typer) -> None:
    """Add ``models`` to ``woa bench``."""
    app.command("models")(models)
