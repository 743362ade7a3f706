"""Pieces the ``woa bench`` commands share: the PostgreSQL options and probe, verdicts."""

from __future__ import annotations

import asyncio
import os

import typer

from ._console import console

__all__ = [
    "DEFAULT_DSN",
    "POSTGRES_DSN_OPTION",
    "POSTGRES_OPTION",
    "postgres_to_measure",
    "verdict",
]

DEFAULT_DSN = "postgresql://postgres@127.0.0.1:5432/test"

POSTGRES_DSN_OPTION: str | None = typer.Option(
    None,
    "--postgres-dsn",
    help=f"PostgreSQL (env WOA_TEST_POSTGRES_DSN; default {DEFAULT_DSN}).",
)
POSTGRES_OPTION: bool = typer.Option(
    True, "--postgres/--no-postgres", help="Also measure PostgreSQL."
)


def _unreachable(dsn: str) -> str | None:
    """Return why ``dsn`` cannot be connected to, or None if it can."""
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


def postgres_to_measure(enabled: bool, dsn: str | None) -> str | None:
    """Return the DSN to measure (option, env, default), or None, saying why it is skipped."""
    if not enabled:
        return None
    chosen = dsn or os.environ.get("WOA_TEST_POSTGRES_DSN") or DEFAULT_DSN
    problem = _unreachable(chosen)
    if problem is not None:
        console.print(f"[yellow]PostgreSQL not measured[/yellow]: {problem}")
        return None
    return chosen


def verdict(ok: bool) -> str:
    """Rich markup saying whether a goal is met."""
    return "[green]meets[/green]" if ok else "[red]misses[/red]"
