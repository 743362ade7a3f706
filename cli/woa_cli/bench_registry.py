"""``woa bench registry``: search and registration figures, as ratios against ``/healthz``."""

from __future__ import annotations

import typer
from rich.table import Table

from ._bench_common import POSTGRES_DSN_OPTION, POSTGRES_OPTION, postgres_to_measure, verdict
from ._console import console, fail

__all__ = ["register"]


def registry(
    sizes: str = typer.Option("1000,100000", help="Registry sizes (agents), comma-separated."),
    requests: int = typer.Option(1000, min=1, help="Requests per measured round."),
    rounds: int = typer.Option(
        3, min=1, help="Interleaved rounds (search, trivial); medians reported."
    ),
    concurrency: int = typer.Option(8, min=1, help="Concurrent client connections."),
    registrations: int = typer.Option(300, min=1, help="Signed registrations to time."),
    postgres_dsn: str | None = POSTGRES_DSN_OPTION,
    postgres: bool = POSTGRES_OPTION,
) -> None:
    """Search at each size vs a trivial endpoint of the same server; registrations/s; memory."""
    from woa_benchmarks import registry as bench

    try:
        size_list = tuple(int(s) for s in sizes.split(","))
    except ValueError:
        fail(f"--sizes must be integers separated by commas, not {sizes!r}")
    dsn = postgres_to_measure(postgres, postgres_dsn)
    with console.status("measuring...") as status:
        result = bench.run(
            sizes=size_list,
            postgres_dsn=dsn,
            requests=requests,
            rounds=rounds,
            concurrency=concurrency,
            registrations=registrations,
            progress=lambda message: status.update(message),
        )
    table = Table(title=f"registry search (first page of 20), {concurrency} connections, medians")
    for column in ("backend", "agents", "search req/s", "p50 ms", "p99 ms", "/healthz req/s",
                   "search/trivial", "server RSS MiB"):  # fmt: skip
        table.add_column(column, justify="left" if column == "backend" else "right")
    for row in result.sizes:
        table.add_row(
            row.backend,
            f"{row.agents:,}",
            f"{row.search.throughput:,.0f}",
            f"{row.search.p50 * 1e3:.1f}",
            f"{row.search.p99 * 1e3:.1f}",
            f"{row.trivial.throughput:,.0f}",
            f"{row.search_vs_trivial:.2f}",
            "" if row.rss_bytes is None else f"{row.rss_bytes / 2**20:.0f}",
        )
    console.print(table)
    for backend, rate in result.registrations_per_second.items():
        console.print(f"{backend}: {rate:,.0f} signed registrations/s")
    for backend in dict.fromkeys(r.backend for r in result.sizes):
        scaling = result.scaling(backend)
        if scaling is not None:
            console.print(
                f"{backend}: search p50 at largest / smallest size = {scaling:.2f} "
                f"{verdict(scaling <= bench.GOAL_SCALING)} the goal <= {bench.GOAL_SCALING}"
            )
        worst = min(r.search_vs_trivial for r in result.sizes if r.backend == backend)
        console.print(
            f"{backend}: lowest search/trivial throughput = {worst:.2f} "
            f"{verdict(worst >= bench.GOAL_SEARCH_VS_TRIVIAL)} the goal "
            f">= {bench.GOAL_SEARCH_VS_TRIVIAL}"
        )


def register(app: typer.Typer) -> None:
    """Add ``registry`` to ``woa bench``."""
    app.command("registry")(registry)
