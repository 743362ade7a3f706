"""``woa run``: start the main job (the registry on the embedded default, when installed)."""

from __future__ import annotations

import importlib

import typer

from ._console import console
from .spec import default_spec_dir

__all__ = ["run"]


def run(ctx: typer.Context) -> None:
    """Start the Web of Agents stack on the embedded default (SQLite); Ctrl-C stops it."""
    try:
        registry = importlib.import_module("woa_cli.registry")
    except ModuleNotFoundError:
        registry = None
    if registry is not None and hasattr(registry, "run_stack"):
        registry.run_stack()
        return
    console.print("[bold]Web of Agents[/bold]: the registry is not part of this build yet.")
    console.print(f"Specification: {default_spec_dir()}")
    console.print("Commands: woa --help")
