"""``python -m woa_writer``: serve the writer agent until Ctrl-C (``--help`` for options)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from pathlib import Path

import typer

__all__ = ["app", "main"]

DEFAULT_REGISTRY_URL = "http://127.0.0.1:8470"

app = typer.Typer(add_completion=False)


@app.command()
def main(
    host: str = typer.Option("127.0.0.1", help="Address to listen on."),
    port: int = typer.Option(8475, help="Port to listen on (0: any free port)."),
    registry: str = typer.Option(
        os.environ.get("WOA_REGISTRY_URL", DEFAULT_REGISTRY_URL),
        "--registry",
        "-r",
        help=f"Registry to register with (env WOA_REGISTRY_URL; {DEFAULT_REGISTRY_URL}).",
    ),
    key_file: Path | None = typer.Option(
        None, "--key", "-k", help="The agent's key (PEM or JWK); default: a fresh key."
    ),
    preload: bool = typer.Option(
        True, "--preload/--lazy", help="Load the model before serving, or on the first call."
    ),
) -> None:
    """Serve the writer agent (generate, summarize, extract) and register it.

    The backend comes from WOA_WRITER_* variables: WOA_WRITER_BACKEND=llama-cpp (default,
    the shipped Qwen2.5-Coder-1.5B-Instruct GGUF) or openai (WOA_WRITER_OPENAI_URL,
    WOA_WRITER_OPENAI_MODEL, WOA_WRITER_OPENAI_API_KEY, WOA_WRITER_OPENAI_JSON_MODE).
    """
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    from .agent import build_agent, build_writer

    writer = build_writer()
    agent = build_agent(writer, key=key_file, registry_url=registry)

    async def serve() -> None:
        if preload:
            typer.echo(f"loading {writer.model_name} …")
            await writer.load()
        async with agent.running(host, port) as running:
            typer.echo(f"writer ({agent.did}) serving at {running.url}, registry {registry}")
            await running.wait()

    try:
        with contextlib.suppress(KeyboardInterrupt):
            asyncio.run(serve())
    finally:
        writer.close()


if __name__ == "__main__":
    app()
