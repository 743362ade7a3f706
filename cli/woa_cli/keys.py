"""``woa keys``: create and inspect Ed25519 keys and their did:key."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from woa_protocol import InvalidKeyError, SigningKey
from woa_protocol.identity import did_url
from woa_protocol.keyfile import load_key, save_key

from ._console import console, fail

__all__ = ["app"]

app = typer.Typer(help="Create and inspect Ed25519 keys (did:key).", no_args_is_help=True)


@app.command("new")
def new(
    out: Path = typer.Option(Path("woa-key.pem"), "--out", "-o", help="Key file to create."),
    fmt: str = typer.Option("pem", "--format", "-f", help="pem (PKCS#8) or jwk (RFC 8037)."),
    force: bool = typer.Option(False, "--force", help="Overwrite an existing file."),
) -> None:
    """Create a new key file (mode 0600) and print its DID."""
    if fmt not in ("pem", "jwk"):
        fail(f"unknown format {fmt!r}: use pem or jwk")
    key = SigningKey.generate()
    try:
        save_key(key, out, "pem" if fmt == "pem" else "jwk", overwrite=force)
    except FileExistsError:
        fail(f"{out} exists; pass --force to overwrite it")
    console.print(f"wrote {out} (mode 0600)")
    typer.echo(key.did)


@app.command("show")
def show(
    path: Path = typer.Argument(..., help="Key file (PEM or JWK)."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Print the DID, DID URL and public JWK of a key file."""
    try:
        key = load_key(path)
    except FileNotFoundError:
        fail(f"{path}: no such file")
    except InvalidKeyError as exc:
        fail(exc.detail)
    info = {"did": key.did, "kid": did_url(key.did), "publicJwk": key.public.to_jwk()}
    if as_json:
        typer.echo(json.dumps(info, indent=2))
        return
    console.print(f"[bold]did[/bold]  {info['did']}")
    console.print(f"[bold]kid[/bold]  {info['kid']}")
    console.print_json(json.dumps(info["publicJwk"]))
