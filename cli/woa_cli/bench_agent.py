"""``woa bench agent``: signed skill calls vs a bare FastAPI endpoint and an a2a-sdk agent."""

from __future__ import annotations

import typer
from rich.table import Table

from ._bench_common import bench_failures, verdict
from ._console import console, fail

__all__ = ["register"]


def agent(
    requests: int = typer.Option(2000, min=1, help="Requests per path per round."),
    rounds: int = typer.Option(3, min=1, help="Interleaved rounds; medians are reported."),
    concurrency: int = typer.Option(16, min=1, help="Concurrent client connections."),
    http: str = typer.Option(
        "httptools",
        help="uvicorn's HTTP parser for all three servers: httptools (C, what the project"
        " installs) or h11 (pure Python, plain uvicorn's only one).",
    ),
    loop: str = typer.Option(
        "uvloop",
        help="uvicorn's event loop for all three servers: uvloop (what the project"
        " installs) or asyncio (the standard library's).",
    ),
) -> None:
    """Signed typed skill calls vs (a) unsigned FastAPI POST and (b) a2a-sdk SendMessage."""
    from woa_benchmarks import agent as bench

    if http not in bench.HTTP_PARSERS:
        fail(f"--http must be one of {', '.join(bench.HTTP_PARSERS)}, not {http!r}")
    if loop not in bench.EVENT_LOOPS:
        fail(f"--loop must be one of {', '.join(bench.EVENT_LOOPS)}, not {loop!r}")
    with (
        bench_failures("agent"),
        console.status("measuring (three servers, interleaved rounds)..."),
    ):
        result = bench.run(
            requests=requests, rounds=rounds, concurrency=concurrency, http=http, loop=loop
        )
    table = Table(
        title=f"agent: {result.concurrency} connections, uvicorn with {result.http} on "
        f"{result.loop}, "
        f"medians of {rounds} rounds"
    )
    for column in ("path", "req/s", "p50 ms", "p99 ms", "server CPU µs/req"):
        table.add_column(column, justify="left" if column == "path" else "right")
    rows = [
        ("(a) FastAPI POST, unsigned", result.bare),
        ("(b) a2a-sdk 1.3 SendMessage (hello world)", result.a2a),
        ("Web of Agents signed skill call", result.woa),
        ("Web of Agents plain text SendMessage, unsigned", result.text),
    ]
    for name, path in rows:
        load = path.load
        table.add_row(
            name,
            f"{load.throughput:,.0f}",
            f"{load.p50 * 1e3:.2f}",
            f"{load.p99 * 1e3:.2f}",
            f"{path.server_cpu * 1e6:,.0f}",
        )
    console.print(table)
    console.print(
        f"signed / FastAPI: {result.vs_bare:.2f} "
        f"({verdict(result.vs_bare >= bench.GOAL_VS_BARE)} goal >= {bench.GOAL_VS_BARE}); "
        f"signed / a2a-sdk: {result.vs_a2a:.1f}x "
        f"({verdict(result.vs_a2a >= bench.GOAL_VS_A2A)} goal >= {bench.GOAL_VS_A2A}x); "
        f"plain text / a2a-sdk: {result.text_vs_a2a:.1f}x"
    )
    console.print(
        "server CPU per request: signed / FastAPI "
        f"{result.woa.server_cpu / result.bare.server_cpu:.2f}x, "
        f"a2a-sdk / signed {result.a2a.server_cpu / result.woa.server_cpu:.1f}x"
    )
    console.print(
        "caller's side of a signed call (timed apart, outside the load): build and sign "
        f"{result.client_sign * 1e6:.0f} µs, verify and check the answer "
        f"{result.client_check * 1e6:.0f} µs"
    )
    console.print(
        "the agent's Ed25519 verify + sign alone (tight loop, same run): "
        f"{result.ed25519 * 1e6:.0f} µs, {result.ed25519_share:.0%} of a FastAPI request's "
        "server CPU"
    )


def register(app: typer.Typer) -> None:
    """Add ``agent`` to the ``woa bench`` group."""
    app.command("agent")(agent)
