"""``woa bench state``: signed CAS writes and reads vs a signed no-op and the raw backend."""

from __future__ import annotations

import typer
from rich.table import Table

from ._bench_common import POSTGRES_DSN_OPTION, POSTGRES_OPTION, postgres_to_measure, verdict
from ._console import console, fail

__all__ = ["register"]


def state(
    requests: int = typer.Option(400, min=1, help="Requests per measured round and operation."),
    rounds: int = typer.Option(3, min=1, help="Interleaved rounds; medians are reported."),
    concurrency: int = typer.Option(8, min=1, help="Concurrent client connections."),
    postgres_dsn: str | None = POSTGRES_DSN_OPTION,
    postgres: bool = POSTGRES_OPTION,
) -> None:
    """Signed CAS write/read throughput as ratios against a signed no-op and raw storage."""
    from woa_benchmarks import state as bench

    if requests < concurrency or rounds < 1 or concurrency < 1:
        fail("need --requests >= --concurrency >= 1 and --rounds >= 1")
    dsn = postgres_to_measure(postgres, postgres_dsn)
    with console.status("measuring (server subprocess on 127.0.0.1)..."):
        result = bench.run(
            requests=requests, rounds=rounds, concurrency=concurrency, postgres_dsn=dsn
        )
    table = Table(
        title=(
            f"shared state: {result.requests} requests x {result.rounds} rounds, "
            f"{result.concurrency} connections, medians (ops/s)"
        )
    )
    for column in ("backend", "path", "ops/s", "vs signed no-op", "vs raw storage"):
        table.add_column(column, justify="left" if column in ("backend", "path") else "right")
    for b in result.backends:
        table.add_row(b.backend, "signed no-op, same body (a)", f"{b.noop_write:,.0f}", "1.00", "")
        table.add_row(
            "", "signed CAS write (PUT If-Match)", f"{b.write:,.0f}",
            f"{b.write_vs_noop:.2f}", f"{b.write_vs_raw:.3f}",
        )  # fmt: skip
        table.add_row("", "raw UPDATE transaction (b)", f"{b.raw_update:,.0f}", "", "1.00")
        table.add_row("", "signed no-op, no body (a)", f"{b.noop_read:,.0f}", "1.00", "")
        table.add_row(
            "", "signed read (GET)", f"{b.read:,.0f}",
            f"{b.read_vs_noop:.2f}", f"{b.read_vs_raw:.3f}",
        )  # fmt: skip
        table.add_row("", "raw SELECT transaction (b)", f"{b.raw_select:,.0f}", "", "1.00")
    console.print(table)
    for b in result.backends:
        for name, ratio in (("write", b.write_vs_noop), ("read", b.read_vs_noop)):
            ok = ratio >= bench.GOAL_VS_NOOP
            console.print(
                f"{b.backend} {name}/no-op {ratio:.2f} {verdict(ok)} "
                f"the goal >= {bench.GOAL_VS_NOOP}"
            )


def register(app: typer.Typer) -> None:
    """Add ``state`` to the ``woa bench`` group."""
    app.command("state")(state)
