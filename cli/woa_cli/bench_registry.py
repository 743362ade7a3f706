"""``woa bench registry``: search and registration figures, as ratios against ``/healthz``."""

from __future__ import annotations

import asyncio
import os

import typer
from rich.table import Table

from ._console import console, fail

__all__ = ["register"]

DEFAULT_DSN = "postgresql://postgres@127.0.0.1:5432/test"


def _reachable(dsn: str) -> str | None:
    try:
        import asyncpg
    except ImportError:
        return "asyncpg is not installed (pip install 'web-of-agents[postgres]')"

    async def probe() -> None:
        conn = await asyncpg.connect(dsn, timeout=5)
        await conn.close()

    try:
        asyncio.run(probe())
    except Exception as exc:  # any failure to connect means: measure SQLite only
        return f"{type(exc).__name__}: {exc}"
    return None


def registry(
    sizes: str = typer.Option("1000,100000", help="Registry sizes (agents), comma-separated."),
    requests: int = typer.Option(1000, help="Requests per measured round."),
    rounds: int = typer.Option(3, help="Interleaved rounds (search, trivial); medians reported."),
    concurrency: int = typer.Option(8, help="Concurrent client connections."),
    registrations: int = typer.Option(300, help="Signed registrations to time."),
    postgres_dsn: str = typer.Option(
        None,
        "--postgres-dsn",
        help=f"PostgreSQL (env WOA_TEST_POSTGRES_DSN; default {DEFAULT_DSN}).",
    ),
    postgres: bool = typer.Option(
        True, "--postgres/--no-postgres", help="Also measure PostgreSQL."
    ),
) -> None:
    """Search at each size vs a trivial endpoint of the same server; registrations/s; memory."""
    from woa_benchmarks import registry as bench

    try:
        size_list = tuple(int(s) for s in sizes.split(","))
    except ValueError:
        fail(f"--sizes must be integers separated by commas, not {sizes!r}")
    dsn = None
    if postgres:
        dsn = postgres_dsn or os.environ.get("WOA_TEST_POSTGRES_DSN") or DEFAULT_DSN
        problem = _reachable(dsn)
        if problem:
            console.print(f"[yellow]PostgreSQL not measured[/yellow]: {problem}")
            dsn = None
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
            ok = scaling <= bench.GOAL_SCALING
            verdict = "[green]meets[/green]" if ok else "[red]misses[/red]"
            console.print(
                f"{backend}: search p50 at largest / smallest size = {scaling:.2f} "
                f"{verdict} the goal <= {bench.GOAL_SCALING}"
            )
        worst = min(r.search_vs_trivial for r in result.sizes if r.backend == backend)
        verdict = (
            "[green]meets[/green]" if worst >= bench.GOAL_SEARCH_VS_TRIVIAL else "[red]misses[/red]"
        )
        console.print(
            f"{backend}: lowest search/trivial throughput = {worst:.2f} {verdict} the goal "
            f">= {bench.GOAL_SEARCH_VS_TRIVIAL}"
        )


def register(app: typer.Typer) -> None:
    """Add ``registry`` to ``woa bench``."""
    app.command("registry")(registry)
