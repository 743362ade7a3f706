"""``woa bench``: benchmarks that print ratios against baselines measured in the same run."""

from __future__ import annotations

import importlib

import typer
from rich.table import Table

from ._console import console

__all__ = ["app"]

app = typer.Typer(help="Benchmarks (ratios against same-run baselines).", no_args_is_help=True)


@app.command("protocol")
def protocol(
    iterations: int = typer.Option(3000, min=1, help="Operations per round."),
    rounds: int = typer.Option(5, min=1, help="Interleaved rounds; medians are reported."),
) -> None:
    """Signed 1 KiB message (JCS + digest + RFC 9421 sign + verify + replay) vs raw Ed25519."""
    from woa_benchmarks import protocol as bench

    with console.status("measuring (interleaved rounds)..."):
        result = bench.run(iterations=iterations, rounds=rounds)
    table = Table(title=f"protocol: {result.payload_bytes}-byte JSON payload, medians")
    table.add_column("path")
    table.add_column("µs/op", justify="right")
    table.add_column("ops/s", justify="right")
    table.add_column("ratio", justify="right")
    rows = [
        ("raw Ed25519 sign+verify, libsodium (baseline)", result.raw_ed25519, 1.0),
        (
            "raw Ed25519 sign+verify, OpenSSL (reference)",
            result.raw_ed25519_openssl,
            result.raw_ed25519_openssl / result.raw_ed25519,
        ),
        (
            "signed message: JCS+digest+RFC 9421 sign+verify+replay",
            result.signed_message,
            result.ratio,
        ),
        ("canonicalize (woa_protocol)", result.canonicalize_ours, None),
        ("canonicalize (rfc8785 package)", result.canonicalize_rfc8785, None),
    ]
    for name, seconds, ratio in rows:
        table.add_row(
            name,
            f"{seconds * 1e6:.1f}",
            f"{1 / seconds:,.0f}",
            "" if ratio is None else f"{ratio:.2f}",
        )
    console.print(table)
    verdict = "[green]meets[/green]" if result.ratio <= bench.GOAL_RATIO else "[red]misses[/red]"
    console.print(
        f"signed/raw ratio {result.ratio:.3f} {verdict} the goal <= {bench.GOAL_RATIO} "
        f"(against OpenSSL's raw Ed25519: "
        f"{result.signed_message / result.raw_ed25519_openssl:.2f}); "
        f"JCS speed-up over rfc8785: {result.canonicalize_rfc8785 / result.canonicalize_ours:.1f}x"
    )


# Benchmarks of later parts register here (module woa_benchmarks.<name> with a CLI hook).
for _name in ("registry", "agent", "state", "models", "demo"):
    try:
        _module = importlib.import_module(f"woa_cli.bench_{_name}")
    except ModuleNotFoundError as _exc:
        if _exc.name != f"woa_cli.bench_{_name}":
            raise
    else:
        _module.register(app)
