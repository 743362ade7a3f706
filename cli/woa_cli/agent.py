"""``woa agent call SKILL --input JSON | --text TEXT | --file PATH`` and ``woa agent card URL``."""

from __future__ import annotations

import asyncio
import json
import mimetypes
import os
from pathlib import Path
from typing import Any

import typer

from ._console import console, fail, progress

__all__ = ["agent_app", "register_commands"]

DEFAULT_REGISTRY_URL = "http://127.0.0.1:8470"

agent_app = typer.Typer(help="Call agents and read their cards.", no_args_is_help=True)


def _load_key(path: Path | None) -> Any:
    from woa_protocol import InvalidKeyError, SigningKey
    from woa_protocol.keyfile import load_key

    if path is None:
        return SigningKey.generate()  # a throw-away identity for this call
    try:
        return load_key(path)
    except FileNotFoundError:
        fail(f"{path}: no such file")
    except InvalidKeyError as exc:
        fail(exc.detail)


def _files(paths: list[Path], media_type: str | None) -> list[Any]:
    """Read each ``--file`` into a :class:`woa_agents.File` (media type guessed from its name)."""
    from woa_agents import File

    files = []
    for path in paths:
        try:
            raw = path.read_bytes()
        except OSError as exc:
            fail(f"--file {path}: {exc.strerror or exc}")
        guessed = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        files.append(File(raw=raw, media_type=media_type or guessed, filename=path.name))
    return files


def _save(file: Any, out: Path, index: int) -> Path:
    """Write a returned file's bytes under ``out``; its own name is reduced to a base name."""
    name = Path(file.filename or "").name
    if not name or name in (".", ".."):
        suffix = mimetypes.guess_extension(file.media_type) or ".bin"
        name = f"output-{index}{suffix}"
    out.mkdir(parents=True, exist_ok=True)
    target = out / name
    target.write_bytes(file.raw)
    return target


def _print(output: Any, out: Path | None) -> None:
    """Print a call's output: text as it is, files saved under ``out`` (or described), JSON."""
    from woa_agents import File

    items = (
        output
        if isinstance(output, list) and any(isinstance(i, File) for i in output)
        else [output]
    )
    for index, item in enumerate(items):
        if isinstance(item, str):
            typer.echo(item)
        elif isinstance(item, File) and item.url is not None:
            typer.echo(f"file {item.url} ({item.media_type})")
        elif isinstance(item, File):
            size = len(item.raw or b"")
            if out is None:
                what = f"{item.filename or 'unnamed'} ({item.media_type}, {size} bytes)"
                typer.echo(f"file {what}: pass --out DIR to save it")
            else:
                typer.echo(f"saved {_save(item, out, index)} ({item.media_type}, {size} bytes)")
        else:
            typer.echo(json.dumps(item, indent=2, ensure_ascii=False))


@agent_app.command("call")
def call(
    skill: str = typer.Argument(..., help="Skill id to call."),
    input_json: str | None = typer.Option(
        None, "--input", "-i", help="The skill's input as JSON (a data part)."
    ),
    text: str | None = typer.Option(None, "--text", "-t", help="Send this text (a text part)."),
    file: list[Path] = typer.Option(
        [], "--file", "-f", help="Send this file (a file part); repeatable."
    ),
    media_type: str | None = typer.Option(
        None, "--media-type", help="Media type of every --file (default: guessed from its name)."
    ),
    out: Path | None = typer.Option(
        None, "--out", "-o", help="Directory where returned files are saved."
    ),
    registry: str | None = typer.Option(
        None,
        "--registry",
        "-r",
        help=f"Registry URL (env WOA_REGISTRY_URL; {DEFAULT_REGISTRY_URL}).",
    ),
    agent_url: str | None = typer.Option(
        None, "--agent", "-a", help="Call this agent (its URL) instead of asking the registry."
    ),
    key_file: Path | None = typer.Option(
        None, "--key", "-k", help="Caller key (PEM or JWK); default: a fresh key."
    ),
    allow_unsigned: bool = typer.Option(
        False, "--allow-unsigned", help="Also call plain A2A agents that do not sign."
    ),
    timeout: float = typer.Option(30.0, min=0.001, help="Seconds per attempt (> 0)."),
) -> None:
    """Call SKILL with --input, --text and/or --file (signed); print what it returns.

    Text is printed as it is, data as JSON, files are saved under --out.
    """
    from woa_agents import AgentCallError, AgentClient, RegistryError, RpcError, TransportError

    parts: list[Any] = []
    if text is not None:
        parts.append(text)
    parts.extend(_files(file, media_type))
    if input_json is not None:
        from woa_protocol import WoaError, strict_json

        try:
            parts.append(strict_json.loads(input_json))
        except WoaError as exc:
            fail(f"--input is not I-JSON: {exc.detail}")
    if not parts:
        fail("give the input: --input JSON, --text TEXT and/or --file PATH")
    content = parts[0] if len(parts) == 1 else tuple(parts)
    key = _load_key(key_file)
    registry_url = (
        None
        if agent_url
        else (registry or os.environ.get("WOA_REGISTRY_URL") or DEFAULT_REGISTRY_URL)
    )

    async def run() -> Any:
        async with AgentClient(
            key, registry_url=registry_url, allow_unsigned=allow_unsigned, timeout=timeout
        ) as client:
            return await client.call(skill, content, agent=agent_url)

    try:
        with progress(f"calling {skill}"):
            output = asyncio.run(run())
    except RpcError as exc:
        paths = "".join(f"\n  {v['field']}: {v['description']}" for v in exc.violations)
        fail(f"{exc.message} (JSON-RPC {exc.code}, {exc.reason}){paths}")
    except AgentCallError as exc:
        fail(str(exc))
    except RegistryError as exc:
        fail(f"registry: {exc}")
    except TransportError as exc:
        fail(f"cannot reach the registry: {exc}")
    try:
        _print(output, out)
    except OSError as exc:
        fail(f"--out {out}: {exc.strerror or exc}")


@agent_app.command("card")
def card(
    url: str = typer.Argument(..., help="Agent base URL or card URL."),
    allow_unsigned: bool = typer.Option(
        False, "--allow-unsigned", help="Also show cards without a Web of Agents identity."
    ),
) -> None:
    """Fetch an agent's card, check its signature, print it with a summary."""
    from woa_agents import AgentCallError, AgentClient

    async def run() -> Any:
        async with AgentClient(None, allow_unsigned=allow_unsigned) as client:
            return await client.agent(url)

    try:
        remote = asyncio.run(run())
    except AgentCallError as exc:
        fail(str(exc))
    typer.echo(json.dumps(remote.card, indent=2, ensure_ascii=False))
    who = remote.did or "unsigned (plain A2A)"
    console.print(f"{remote.name} at {remote.url}: {who}; skills {', '.join(remote.skill_ids)}")


def register_commands(app: typer.Typer) -> None:
    """Add ``agent`` (call, card) to the ``woa`` app."""
    app.add_typer(agent_app, name="agent")
