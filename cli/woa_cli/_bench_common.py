"""Pieces the ``woa bench`` commands share: the PostgreSQL options and probe, verdicts."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Iterator
from contextlib import contextmanager

import typer

from ._console import console, fail

__all__ = [
    "DEFAULT_DSN",
    "POSTGRES_DSN_OPTION",
    "POSTGRES_OPTION",
    "bench_failures",
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


@contextmanager
def bench_failures(what: str) -> Iterator[None]:
    """Report a benchmark that fails as an error naming its cause, and exit with 1.

    Without this, click turns an ``EOFError`` (asyncio's ``IncompleteReadError``: a server
    closed a connection) into a bare "Aborted." and other errors into a traceback.
    """
    try:
        yield
    except (KeyboardInterrupt, typer.Exit):
        raise
    except Exception as exc:  # every failure of a benchmark run is reported the same way
        fail(f"{what} benchmark failed: {type(exc).__name__}: {exc}")
