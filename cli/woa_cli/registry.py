"""``woa registry serve``, ``woa agents list|search|show|watch`` and ``woa discover``."""

from __future__ import annotations

import asyncio
import json
import os
from pathlib import Path
from typing import Any

import typer

from ._console import console, err_console, fail, peer_error, print_table, progress, table

__all__ = ["agents_app", "discover", "register_commands", "registry_app", "run_stack"]

DEFAULT_REGISTRY_URL = "http://127.0.0.1:8470"

registry_app = typer.Typer(help="Run a registry.", no_args_is_help=True)
agents_app = typer.Typer(
    help="List, search, show and watch agents in a registry.", no_args_is_help=True
)

RegistryOption = typer.Option(
    None,
    "--registry",
    "-r",
    help=f"Registry URL (env WOA_REGISTRY_URL; default {DEFAULT_REGISTRY_URL}).",
)
RegistryDidOption = typer.Option(
    None, "--registry-did", help="Expected registry did:key (default: learned on first contact)."
)
JsonOption = typer.Option(False, "--json", help="Print JSON.")


def _registry_url(value: str | None) -> str:
    return value or os.environ.get("WOA_REGISTRY_URL") or DEFAULT_REGISTRY_URL


@registry_app.command("serve")
def serve(
    host: str = typer.Option(
        None, help="Address to bind (default 127.0.0.1; env WOA_REGISTRY_HOST)."
    ),
    port: int = typer.Option(
        None, min=0, max=65535, help="Port (default 8470; 0 picks a free one)."
    ),
    database_url: str = typer.Option(
        None, "--database-url", help="sqlite:///file.db or postgresql://..."
    ),
    key_file: Path = typer.Option(None, "--key-file", help="Registry key (created when missing)."),
    public_url: str = typer.Option(None, "--public-url", help="URL clients use, behind a proxy."),
    mdns: bool = typer.Option(
        True, "--mdns/--no-mdns", help="Advertise over mDNS on the bound interface."
    ),
    allow_url_registration: bool = typer.Option(
        None, "--allow-url-registration/--no-url-registration", help="Accept POST /v1/agents:fetch."
    ),
    log_level: str = typer.Option("info", "--log-level", help="uvicorn log level."),
) -> None:
    """Serve the registry (other settings: WOA_REGISTRY_* environment variables)."""
    given: dict[str, Any] = {
        "host": host,
        "port": port,
        "database_url": database_url,
        "key_file": key_file,
        "public_url": public_url,
        "allow_url_registration": allow_url_registration,
        "mdns_enabled": mdns,
    }
    _serve({k: v for k, v in given.items() if v is not None}, log_level)


def run_stack() -> None:
    """Start the registry on the embedded default (SQLite, 127.0.0.1:8470, mDNS on loopback)."""
    _serve({"mdns_enabled": True}, "info")


def _serve(overrides: dict[str, Any], log_level: str) -> None:
    from pydantic import ValidationError

    from woa_registry.server import serve as run_server
    from woa_registry.settings import RegistrySettings

    try:
        settings = RegistrySettings(**overrides)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or 'settings'}"
            f" (--{str(e['loc'][0]).replace('_', '-')} or WOA_REGISTRY_{str(e['loc'][0]).upper()})"
            f": {e['msg']}"
            if e["loc"]
            else e["msg"]
            for e in exc.errors()
        )
        fail(f"invalid settings: {problems}")
    if settings.database_url.startswith("sqlite:///"):
        path = Path(settings.database_url[len("sqlite:///") :])
        path.parent.mkdir(parents=True, exist_ok=True)

    def ready(actual: RegistrySettings) -> None:
        # The address bound, not the public URL: scripts (and the tests) connect to it.
        bound = actual.model_copy(update={"public_url": None}).base_url
        public = f" (public URL {actual.public_url})" if actual.public_url else ""
        typer.echo(f"woa registry listening on {bound}{public}")
        console.print(f"database {actual.database_url}  key {actual.key_file}")
        console.print(
            f"dashboard {actual.base_url}/ui  API docs {actual.base_url}/docs"
            f"  shared state {actual.base_url}/v1/state"
        )

    try:
        run_server(settings, on_ready=ready, log_level=log_level)
    except OSError as exc:
        fail(f"cannot listen on {settings.host}:{settings.port}: {exc}")


def _run(coro: Any, url: str, doing: str = "asking the registry") -> Any:
    from woa_agents import RegistryError, TransportError
    from woa_protocol import WoaError

    try:
        with progress(f"{doing} at {url}"):
            return asyncio.run(coro)
    except TransportError as exc:
        fail(f"cannot reach the registry at {url}: {exc}")
    except RegistryError as exc:
        fail(peer_error(exc, url))
    except WoaError as exc:
        fail(f"{url}: the registry's answer does not verify: {exc.detail}")
    except OSError as exc:
        fail(f"cannot reach the registry at {url}: {exc or type(exc).__name__}")
    except Exception as exc:  # httpx transport errors and the like
        if type(exc).__module__.startswith("httpx"):
            fail(f"cannot reach the registry at {url}: {exc or type(exc).__name__}")
        raise


async def _search(url: str, registry_did: str | None, **filters: Any) -> list[dict[str, Any]]:
    from woa_agents import RegistryClient

    async with RegistryClient(url, None, registry_did=registry_did) as client:
        return [agent async for agent in client.search_all(**filters)]


def _print_agents(agents: list[dict[str, Any]], as_json: bool) -> None:
    if as_json:
        typer.echo(json.dumps(agents, indent=2))
        return
    if not agents:
        console.print("no agents")
        return
    rows = table("did", "name", "skills", "verified", "lease until")
    for agent in agents:
        skills = ", ".join(s["id"] for s in agent.get("skills", []))
        rows.add_row(
            agent["did"],
            agent["name"],
            skills,
            "yes" if agent["verified"] else "no",
            agent["leaseExpiresAt"],
        )
    print_table(rows)


@agents_app.command("list")
def list_agents(
    registry: str = RegistryOption,
    registry_did: str = RegistryDidOption,
    as_json: bool = JsonOption,
) -> None:
    """List every registered agent."""
    url = _registry_url(registry)
    _print_agents(_run(_search(url, registry_did, limit=100), url, "listing agents"), as_json)


@agents_app.command("search")
def search(
    skill: str = typer.Option(None, help="Skill id."),
    family: str = typer.Option(None, help="Model family (llm, slm, mlm, ocr, ...)."),
    input_mode: str = typer.Option(None, "--input-mode", help="Input media type."),
    output_mode: str = typer.Option(None, "--output-mode", help="Output media type."),
    tag: str = typer.Option(None, help="Skill tag."),
    text: str = typer.Option(None, "--text", "-q", help="Full-text query."),
    payload: str = typer.Option(None, "--payload", help="JSON: find the skills that accept it."),
    registry: str = RegistryOption,
    registry_did: str = RegistryDidOption,
    as_json: bool = JsonOption,
) -> None:
    """Search agents by filters and text, or by a payload their skills accept."""
    filters = {
        "skill": skill,
        "family": family,
        "input_mode": input_mode,
        "output_mode": output_mode,
        "tag": tag,
        "q": text,
    }
    url = _registry_url(registry)
    if payload is None:
        _print_agents(_run(_search(url, registry_did, **filters), url, "searching"), as_json)
        return
    from woa_protocol import WoaError, strict_json

    try:
        instance = strict_json.loads(payload)
    except WoaError as exc:
        fail(f"--payload is not I-JSON: {exc.detail}")

    async def by_payload() -> dict[str, Any]:
        from woa_agents import RegistryClient

        async with RegistryClient(url, None, registry_did=registry_did) as client:
            return await client.search_payload(instance, **filters)

    result = _run(by_payload(), url, "searching")
    if as_json:
        typer.echo(json.dumps(result, indent=2))
        return
    if not result["matches"]:
        console.print("no skill accepts this payload")
        return
    rows = table("did", "skill", "family")
    for match in result["matches"]:
        rows.add_row(match["did"], match["skillId"], match.get("family", ""))
    print_table(rows)


@agents_app.command("show")
def show(
    did: str = typer.Argument(..., help="The agent's did:key."),
    registry: str = RegistryOption,
    registry_did: str = RegistryDidOption,
) -> None:
    """Print one agent as JSON (its card as registered included)."""
    url = _registry_url(registry)

    async def get() -> dict[str, Any] | None:
        from woa_agents import RegistryClient

        async with RegistryClient(url, None, registry_did=registry_did) as client:
            return await client.get(did)

    agent = _run(get(), url, f"reading {did}")
    if agent is None:
        fail(f"no agent {did} in this registry")
    typer.echo(json.dumps(agent, indent=2))


@agents_app.command("watch")
def watch(
    since: int = typer.Option(
        None, "--since", min=0, help="Start after this event number (default: from now on)."
    ),
    count: int = typer.Option(None, "--count", min=1, help="Stop after this many events."),
    registry: str = RegistryOption,
    registry_did: str = RegistryDidOption,
    as_json: bool = JsonOption,
) -> None:
    """Print the registry's change feed: joins, card updates, leaves and lease expiries."""
    from websockets.exceptions import ConnectionClosed

    url = _registry_url(registry)
    words = {
        "registered": "joined",
        "updated": "updated",
        "deregistered": "left",
        "expired": "lease expired",
    }

    async def go() -> None:
        from woa_agents import RegistryClient

        async with RegistryClient(url, None, registry_did=registry_did) as client:
            await client.describe()  # a registry, and the one expected, before listening
            if not as_json:
                err_console.print(f"watching {client.feed_url(since)} (Ctrl-C stops)")
            seen = 0
            async for event in client.watch(since):
                if as_json:
                    typer.echo(event.model_dump_json(by_alias=True, exclude_none=True))
                else:
                    name = (event.card or {}).get("name", "")
                    at = event.at.isoformat(timespec="seconds")
                    typer.echo(f"{event.seq:>6}  {at}  {words[event.kind]:<13} {event.did}  {name}")
                seen += 1
                if count is not None and seen >= count:
                    return

    try:
        asyncio.run(go())
    except KeyboardInterrupt:
        raise typer.Exit(130) from None
    except ConnectionClosed as exc:
        reason = exc.rcvd.reason if exc.rcvd is not None else str(exc)
        fail(f"{url}: the change feed closed: {reason}")
    except ConnectionError as exc:
        fail(f"cannot reach the registry at {url}: {exc}")
    except Exception as exc:
        from woa_agents import RegistryError, TransportError
        from woa_protocol import WoaError

        if isinstance(exc, TransportError):
            fail(f"cannot reach the registry at {url}: {exc}")
        if isinstance(exc, RegistryError):
            fail(peer_error(exc, url))
        if isinstance(exc, WoaError):
            fail(f"{url}: the registry's answer does not verify: {exc.detail}")
        if isinstance(exc, OSError) or type(exc).__module__.startswith("httpx"):
            fail(f"cannot reach the registry at {url}: {exc or type(exc).__name__}")
        raise


def discover(
    timeout: float = typer.Option(3.0, min=0.1, help="Seconds to listen."),
    interface: list[str] = typer.Option(
        None, "--interface", "-i", help="Interface address to browse on (repeat; default all)."
    ),
    as_json: bool = JsonOption,
) -> None:
    """List registries and A2A agents announced over mDNS on the LAN."""
    from woa_registry.mdns import discover as browse

    with progress(f"listening for mDNS announcements for {timeout:g} s"):
        found = asyncio.run(browse(timeout, interfaces=interface or None))
    if as_json:
        typer.echo(
            json.dumps(
                [
                    {
                        "kind": s.kind,
                        "name": s.name,
                        "url": s.url,
                        "addresses": list(s.addresses),
                        "port": s.port,
                        "properties": s.properties,
                    }
                    for s in found
                ],
                indent=2,
            )
        )
        return
    if not found:
        console.print("nothing found")
        return
    rows = table("kind", "name", "url", "did")
    for service in found:
        rows.add_row(
            service.kind, service.name, service.url or "", service.properties.get("did", "")
        )
    print_table(rows)


def register_commands(app: typer.Typer) -> None:
    """Add ``registry``, ``agents`` and ``discover`` to the ``woa`` app."""
    app.add_typer(registry_app, name="registry")
    app.add_typer(agents_app, name="agents")
    app.command("discover")(discover)
