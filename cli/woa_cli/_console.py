"""Shared console helpers for the CLI: output never cut, errors in one form, progress."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, NoReturn

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

__all__ = ["console", "err_console", "fail", "peer_error", "print_table", "progress", "table"]

# soft_wrap: a long DID, URL or key id is printed whole on one line, never folded at 80 columns
console = Console(emoji=False, highlight=False, soft_wrap=True)
err_console = Console(stderr=True, emoji=False, highlight=False, soft_wrap=True)

PIPE_WIDTH = 4096
"""Width tables get when stdout is not a terminal: wide enough that no cell is cut."""


def fail(message: str, code: int = 1) -> NoReturn:
    """Print ``message`` to stderr in red and exit with ``code``."""
    err_console.print(f"[red]error:[/red] {escape(message)}")
    raise typer.Exit(code)


def peer_error(exc: Any, url: str) -> str:
    """One line for a problem answer (a ``PeerError``, whose ``body`` is the peer's problem)."""
    problem = next(
        (
            v
            for v in (getattr(exc, "body", None), getattr(exc, "problem", None))
            if isinstance(v, dict)
        ),
        {},
    )
    detail = problem.get("detail") or problem.get("title") or str(exc)
    kind = problem.get("type", "about:blank")
    status = getattr(exc, "status", "?")
    where = "" if str(detail).startswith(url) else f"{url}: "
    return f"{where}{detail} (HTTP {status}{'' if kind == 'about:blank' else ', ' + kind})"


def table(*columns: str) -> Table:
    """A table whose cells fold rather than being cut with an ellipsis."""
    result = Table()
    for column in columns:
        result.add_column(column, overflow="fold")
    return result


def print_table(rendered: Table) -> None:
    """Print a table: as wide as the terminal, or wide enough for every cell in a pipe."""
    if console.is_terminal:
        console.print(rendered)
    else:  # Console.print(width=) can only narrow; a console of its own can be wider
        Console(emoji=False, highlight=False, width=PIPE_WIDTH).print(rendered)


@contextmanager
def progress(message: str) -> Iterator[None]:
    """Show a spinner with ``message`` on stderr while the block runs (terminals only)."""
    if not err_console.is_terminal:
        yield
        return
    with err_console.status(message):
        yield
