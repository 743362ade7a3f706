"""``woa state``: read, write, patch, watch and audit shared-state documents."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from pathlib import Path
from typing import Any

import typer

from ._console import console, fail, peer_error, progress

__all__ = ["register_commands", "state_app"]

DEFAULT_REGISTRY_URL = "http://127.0.0.1:8470"

state_app = typer.Typer(
    help="Shared state: versioned JSON documents with compare-and-set.", no_args_is_help=True
)

RegistryOption = typer.Option(
    None,
    "--registry",
    "-r",
    help=f"Registry URL (env WOA_REGISTRY_URL; default {DEFAULT_REGISTRY_URL}).",
)
KeyOption = typer.Option(
    None,
    "--key",
    "-k",
    help="Key file (PEM or JWK) that signs requests (env WOA_KEY_FILE); reads may be unsigned.",
)
RegistryDidOption = typer.Option(
    None, "--registry-did", help="Expected registry did:key (default: learned on first contact)."
)
JsonOption = typer.Option(False, "--json", help="Print JSON.")


def _registry_url(value: str | None) -> str:
    return value or os.environ.get("WOA_REGISTRY_URL") or DEFAULT_REGISTRY_URL


def _client(registry: str | None, key_file: Path | None, registry_did: str | None) -> Any:
    from woa_agents import StateClient
    from woa_protocol import InvalidKeyError
    from woa_protocol.keyfile import load_key

    path = key_file or (
        Path(os.environ["WOA_KEY_FILE"]) if os.environ.get("WOA_KEY_FILE") else None
    )
    key = None
    if path is not None:
        try:
            key = load_key(path)
        except FileNotFoundError:
            fail(f"{path}: no such file")
        except InvalidKeyError as exc:
            fail(exc.detail)
    return StateClient(_registry_url(registry), key, registry_did=registry_did)


def _run(coro: Any, registry: str | None, doing: str | None = None) -> Any:
    """Run one command's work; every failure ends as one ``error:`` line naming the URL."""
    from woa_agents import StateClientError, TransportError
    from woa_protocol import WoaError

    url = _registry_url(registry)
    try:
        if doing is None:
            return asyncio.run(coro)
        with progress(f"{doing} at {url}"):
            return asyncio.run(coro)
    except TransportError as exc:
        fail(f"cannot reach the registry at {url}: {exc}")
    except StateClientError as exc:
        extra = ""
        if exc.current_version is not None:
            extra = f" (current version {exc.current_version})"
        fail(f"{peer_error(exc, url)}{extra}")
    except WoaError as exc:
        fail(f"{url}: the registry's answer does not verify: {exc.detail}")
    except OSError as exc:
        fail(f"cannot reach the registry at {url}: {exc or type(exc).__name__}")
    except Exception as exc:  # httpx and websockets transport errors and the like
        if type(exc).__module__.startswith(("httpx", "websockets")):
            fail(f"cannot reach the registry at {url}: {exc or type(exc).__name__}")
        raise


def _json_argument(text: str, what: str) -> Any:
    raw = sys.stdin.read() if text == "-" else text
    from woa_protocol import WoaError, strict_json

    try:
        return strict_json.loads(raw)
    except WoaError as exc:
        fail(f"{what} is not I-JSON: {exc.detail}")


def _print(data: Any) -> None:
    typer.echo(json.dumps(data, indent=2, ensure_ascii=False))


@state_app.command("namespace")
def namespace(
    name: str = typer.Argument(..., help="Namespace name."),
    writer: list[str] = typer.Option([], "--writer", "-w", help="DID that may write (repeat)."),
    reader: list[str] = typer.Option([], "--reader", help="DID that may read (repeat)."),
    public_read: bool = typer.Option(False, "--public-read", help="Anyone may read."),
    context_id: str = typer.Option(None, "--context-id", help="A2A contextId to tie it to."),
    registry: str = RegistryOption,
    key: Path = KeyOption,
    registry_did: str = RegistryDidOption,
) -> None:
    """Create a namespace (your key owns it) or, as owner, replace its ACL."""

    async def go() -> dict[str, Any]:
        async with _client(registry, key, registry_did) as client:
            result: dict[str, Any] = await client.put_namespace(
                name, writers=writer, readers=reader, public_read=public_read, context_id=context_id
            )
            return result

    _print(_run(go(), registry))


@state_app.command("get")
def get(
    name: str = typer.Argument(..., help="Namespace."),
    doc_key: str = typer.Argument(..., metavar="KEY", help="Document key."),
    registry: str = RegistryOption,
    key: Path = KeyOption,
    registry_did: str = RegistryDidOption,
    as_json: bool = JsonOption,
) -> None:
    """Print a document's value (with --json: value, version, writer and times)."""

    async def go() -> dict[str, Any]:
        async with _client(registry, key, registry_did) as client:
            result: dict[str, Any] = await client.get(name, doc_key)
            return result

    doc = _run(go(), registry)
    if as_json:
        _print(doc)
        return
    _print(doc["value"])
    console.print(f"version {doc['version']}  writer {doc['writer']}  at {doc['updatedAt']}")


@state_app.command("put")
def put(
    name: str = typer.Argument(..., help="Namespace."),
    doc_key: str = typer.Argument(..., metavar="KEY", help="Document key."),
    value: str = typer.Argument(..., help="JSON value ('-' reads standard input)."),
    if_match: str = typer.Option(
        None, "--if-match", help="Version the document must be at ('*': any existing one)."
    ),
    create: bool = typer.Option(False, "--create", help="Only create (If-None-Match: *)."),
    ttl: int = typer.Option(None, "--ttl", min=1, help="Time to live in seconds."),
    registry: str = RegistryOption,
    key: Path = KeyOption,
    registry_did: str = RegistryDidOption,
) -> None:
    """Write a document under a precondition: --if-match VERSION or --create."""
    if (if_match is None) == (not create):
        fail("give exactly one of --if-match VERSION and --create")
    data = _json_argument(value, "the value")
    if_match_value: int | str | None = None
    if if_match is not None:
        if if_match != "*" and not if_match.isdigit():
            fail("--if-match takes a version number or '*'")
        if_match_value = if_match if if_match == "*" else int(if_match)

    async def go() -> dict[str, Any]:
        async with _client(registry, key, registry_did) as client:
            result: dict[str, Any] = await client.put(
                name, doc_key, data, if_match=if_match_value, create=create, ttl=ttl
            )
            return result

    result = _run(go(), registry)
    console.print(f"version {result['version']}  rev {result['rev']}")


@state_app.command("patch")
def patch(
    name: str = typer.Argument(..., help="Namespace."),
    doc_key: str = typer.Argument(..., metavar="KEY", help="Document key."),
    operations: str = typer.Argument(..., help="JSON Patch array ('-' reads standard input)."),
    if_match: int = typer.Option(..., "--if-match", help="Version the patch applies to."),
    ttl: int = typer.Option(None, "--ttl", min=1, help="New time to live in seconds."),
    registry: str = RegistryOption,
    key: Path = KeyOption,
    registry_did: str = RegistryDidOption,
) -> None:
    """Apply a JSON Patch (RFC 6902) to the given version; print the new value."""
    ops = _json_argument(operations, "the patch")

    async def go() -> dict[str, Any]:
        async with _client(registry, key, registry_did) as client:
            result: dict[str, Any] = await client.patch(
                name, doc_key, ops, if_match=if_match, ttl=ttl
            )
            return result

    result = _run(go(), registry)
    _print(result["value"])
    console.print(f"version {result['version']}  rev {result['rev']}")


@state_app.command("watch")
def watch(
    name: str = typer.Argument(..., help="Namespace."),
    prefix: str = typer.Option("", "--prefix", help="Only keys starting with this."),
    since: int = typer.Option(None, "--since", min=0, help="Start after this revision."),
    count: int = typer.Option(None, "--count", min=1, help="Stop after this many changes."),
    registry: str = RegistryOption,
    key: Path = KeyOption,
    registry_did: str = RegistryDidOption,
) -> None:
    """Print each change as one JSON line, in revision order (resumes after drops)."""

    async def go() -> None:
        async with _client(registry, key, registry_did) as client:
            seen = 0
            async for event in client.watch(name, prefix=prefix, since=since):
                typer.echo(json.dumps(event.__dict__, ensure_ascii=False))
                seen += 1
                if count is not None and seen >= count:
                    return

    try:
        _run(go(), registry)
    except KeyboardInterrupt:
        raise typer.Exit(130) from None


@state_app.command("history")
def history(
    name: str = typer.Argument(..., help="Namespace."),
    doc_key: str = typer.Argument(..., metavar="KEY", help="Document key."),
    verify: bool = typer.Option(
        True, "--verify/--no-verify", help="Verify every entry's signature offline."
    ),
    registry: str = RegistryOption,
    key: Path = KeyOption,
    registry_did: str = RegistryDidOption,
    as_json: bool = JsonOption,
) -> None:
    """Print a document's signed history; by default verify each signature and value."""
    from woa_protocol import WoaError
    from woa_registry.state import HistoryVerificationError, verify_history

    async def go() -> list[dict[str, Any]]:
        async with _client(registry, key, registry_did) as client:
            result: list[dict[str, Any]] = await client.history(name, doc_key)
            return result

    entries = _run(go(), registry, "reading the history")
    if verify:
        try:
            verify_history(entries)
        except (WoaError, HistoryVerificationError) as exc:
            fail(f"the history does not verify: {exc}")
    if as_json:
        _print(entries)
        return
    for entry in entries:
        console.print(
            f"v{entry['version']:<4} rev {entry['rev']:<6} {entry['op']:<7} "
            f"{entry['at']}  {entry['writer'] or '(server)'}",
            soft_wrap=True,
        )
        typer.echo("      " + json.dumps(entry["value"], ensure_ascii=False))
    if verify:
        console.print(f"[green]{len(entries)} entries verified[/green]")


def register_commands(app: typer.Typer) -> None:
    """Add ``state`` to the ``woa`` app."""
    app.add_typer(state_app, name="state")
