"""``woa bench agent``: signed skill calls vs a bare FastAPI endpoint and an a2a-sdk agent."""

from __future__ import annotations

import typer
from rich.table import Table

from ._bench_common import verdict
from ._console import console

__all__ = ["register"]


def agent(
    requests: int = typer.Option(2000, help="Requests per path per round."),
    rounds: int = typer.Option(3, help="Interleaved rounds; medians are reported."),
    concurrency: int = typer.Option(16, help="Concurrent client connections."),
) -> None:
    """Signed typed skill calls vs (a) unsigned FastAPI POST and (b) a2a-sdk SendMessage."""
    from woa_benchmarks import agent as bench

    with console.status("measuring (three servers, interleaved rounds)..."):
        result = bench.run(requests=requests, rounds=rounds, concurrency=concurrency)
    table = Table(title=f"agent: {result.concurrency} connections, medians of {rounds} rounds")
    for column in ("path", "req/s", "p50 ms", "p99 ms"):
        table.add_column(column, justify="left" if column == "path" else "right")
    rows = [
        ("(a) FastAPI POST, unsigned", result.bare),
        ("(b) a2a-sdk 1.3 SendMessage (hello world)", result.a2a),
        ("Web of Agents signed skill call", result.woa),
    ]
    for name, load in rows:
        table.add_row(
            name, f"{load.throughput:,.0f}", f"{load.p50 * 1e3:.2f}", f"{load.p99 * 1e3:.2f}"
        )
    console.print(table)

    console.print(
        f"signed / FastAPI: {result.vs_bare:.2f} "
        f"({verdict(result.vs_bare >= bench.GOAL_VS_BARE)} goal >= {bench.GOAL_VS_BARE}); "
        f"signed / a2a-sdk: {result.vs_a2a:.1f}x "
        f"({verdict(result.vs_a2a >= bench.GOAL_VS_A2A)} goal >= {bench.GOAL_VS_A2A}x)"
    )


def register(app: typer.Typer) -> None:
    """Add ``agent`` to the ``woa bench`` group."""
    app.command("agent")(agent)
