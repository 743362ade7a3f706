"""``woa agent call SKILL --input JSON`` and ``woa agent card URL``."""

from __future__ import annotations

import asyncio
import json
import os
from pathlib import Path
from typing import Any

import typer

from ._console import console, fail

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


@agent_app.command("call")
def call(
    skill: str = typer.Argument(..., help="Skill id to call."),
    input_json: str = typer.Option(..., "--input", "-i", help="The skill's input as JSON."),
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
    timeout: float = typer.Option(30.0, help="Seconds per attempt."),
) -> None:
    """Call SKILL with --input (signed), print the checked output as JSON."""
    from woa_agents import AgentCallError, AgentClient, RegistryError, RpcError

    try:
        payload = json.loads(input_json)
    except json.JSONDecodeError as exc:
        fail(f"--input is not JSON: {exc}")
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
            return await client.call(skill, payload, agent=agent_url)

    try:
        output = asyncio.run(run())
    except RpcError as exc:
        paths = "".join(f"\n  {v['field']}: {v['description']}" for v in exc.violations)
        fail(f"{exc.message} (JSON-RPC {exc.code}, {exc.reason}){paths}")
    except AgentCallError as exc:
        fail(str(exc))
    except RegistryError as exc:
        fail(f"registry: {exc}")
    except OSError as exc:
        fail(f"cannot reach the registry: {exc}")
    typer.echo(json.dumps(output, indent=2, ensure_ascii=False))


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
