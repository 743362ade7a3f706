"""``woa agents run NAME``: start one of the sample model agents against a registry."""

from __future__ import annotations

import os
from pathlib import Path

import typer

from ._console import fail

__all__ = ["register_commands", "run_agent"]

DEFAULT_REGISTRY_URL = "http://127.0.0.1:8470"


def _catalog_help() -> str:
    from woa_samples import CATALOG

    rows = "\n".join(f"  {name:<12} {spec.summary}" for name, spec in CATALOG.items())
    return (
        "Start a sample model agent: load its model, serve it, register it with the "
        "registry, until Ctrl-C.\n\n\b\nNAME is one of:\n" + rows + "\n\n"
        "Each needs its extra (pip install 'web-of-agents\\[NAME]', or \\[models] for all)."
    )


def run_agent(
    name: str = typer.Argument(..., help="The sample agent to run (listed above)."),
    host: str = typer.Option(
        "127.0.0.1", envvar="WOA_AGENT_HOST", help="Address to bind (env WOA_AGENT_HOST)."
    ),
    port: int = typer.Option(
        8000, envvar="WOA_AGENT_PORT", min=0, max=65535, help="Port (env WOA_AGENT_PORT; 0: any)."
    ),
    public_url: str | None = typer.Option(
        None,
        "--public-url",
        envvar="WOA_AGENT_PUBLIC_URL",
        help="The URL the card names, when not the bound address (env WOA_AGENT_PUBLIC_URL).",
    ),
    registry_url: str | None = typer.Option(
        None,
        "--registry-url",
        "-r",
        help=f"Registry to register with (env WOA_REGISTRY_URL; default {DEFAULT_REGISTRY_URL}).",
    ),
    register: bool = typer.Option(
        True, "--register/--no-register", help="Register with the registry."
    ),
    key: Path | None = typer.Option(
        None, "--key", "-k", help="The agent's key (PEM or JWK; default: a fresh key)."
    ),
    preload: bool = typer.Option(
        True, "--preload/--no-preload", help="Load the model before serving (else: first call)."
    ),
    allow_urls: bool = typer.Option(
        False,
        "--allow-urls",
        help="Fetch file inputs given by URL (env WOA_SAMPLES_ALLOW_URLS; default off).",
    ),
) -> None:
    """Start a sample model agent (see ``woa agents run --help`` for the list)."""
    from dataclasses import replace

    from woa_samples import CATALOG, MissingExtraError, WeightChecksumError, serve
    from woa_samples.inputs import InputPolicy

    spec = CATALOG.get(name)
    if spec is None:
        fail(f"no sample agent {name!r}; choose one of: {', '.join(CATALOG)}")
    url = None
    if register:
        url = registry_url or os.environ.get("WOA_REGISTRY_URL") or DEFAULT_REGISTRY_URL
    if public_url and not public_url.endswith("/"):
        public_url += "/"  # the agent serves at the root: requests are signed for its path
    policy = InputPolicy.from_env()
    if allow_urls:
        policy = replace(policy, allow_urls=True)
    try:
        sample = spec.build(key=key, registry_url=url, policy=policy)
        serve(
            sample,
            host=host,
            port=port,
            registry_url=url,
            preload=preload,
            echo=typer.echo,
            public_url=public_url,
        )
    except (MissingExtraError, WeightChecksumError, FileNotFoundError, ValueError) as exc:
        fail(str(exc))


def register_commands(app: typer.Typer) -> None:
    """Add ``run`` to the ``woa agents`` group."""
    from .registry import agents_app

    agents_app.command("run", help=_catalog_help())(run_agent)
