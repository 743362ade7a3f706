"""The ``woa`` command: one entry point for keys, cards, canonical JSON, spec and servers."""

from __future__ import annotations

import importlib
import importlib.metadata

import typer

from . import bench, canon, card, demo, keys, run, spec, up

__all__ = ["app"]

app = typer.Typer(
    name="woa",
    help="Web of Agents: signed, discoverable, interoperable AI agents.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_show_locals=False,
)


def _version(value: bool) -> None:
    if value:
        typer.echo(importlib.metadata.version("web-of-agents"))
        raise typer.Exit()


@app.callback()
def _main(
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Print the version and exit."
    ),
) -> None:
    """Web of Agents: signed, discoverable, interoperable AI agents."""


app.add_typer(keys.app, name="keys")
app.add_typer(card.app, name="card")
app.add_typer(spec.app, name="spec")
app.add_typer(bench.app, name="bench")
app.command("canon")(canon.canon)
app.command("run")(run.run)
app.command("up")(up.up)
app.command("demo")(demo.demo)

# Later parts plug their commands in here; each module exposes ``register_commands(app)``.
for _module in (
    "woa_cli.registry",
    "woa_cli.samples",
    "woa_cli.agent",
    "woa_cli.state",
    "woa_cli.conformance",
):
    try:
        importlib.import_module(_module).register_commands(app)
    except ModuleNotFoundError as _exc:
        if _exc.name != _module:
            raise
