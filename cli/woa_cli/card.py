"""``woa card``: sign and verify A2A agent cards (detached JWS over RFC 8785)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import typer

from woa_protocol import (
    CardSignatureError,
    InvalidKeyError,
    WoaError,
    sign_card,
    strict_json,
    verify_card,
)
from woa_protocol.keyfile import load_key

from ._console import console, fail

__all__ = ["app"]

app = typer.Typer(help="Sign and verify agent cards.", no_args_is_help=True)


def _read_card(path: Path) -> dict[str, Any]:
    try:
        data = strict_json.loads(path.read_bytes())
    except FileNotFoundError:
        fail(f"{path}: no such file")
    except WoaError as exc:
        fail(f"{path}: not I-JSON: {exc.detail}")
    if not isinstance(data, dict):
        fail(f"{path}: an agent card is a JSON object")
    return data


@app.command("sign")
def sign(
    path: Path = typer.Argument(..., help="Agent card JSON file."),
    key_file: Path = typer.Option(..., "--key", "-k", help="Private key file (PEM or JWK)."),
    out: Path | None = typer.Option(None, "--out", "-o", help="Write here (default: stdout)."),
) -> None:
    """Append a signature by KEY to the card and print (or write) the signed card."""
    card = _read_card(path)
    try:
        key = load_key(key_file)
        signed = sign_card(card, key)
    except InvalidKeyError as exc:
        fail(exc.detail)
    except FileNotFoundError:
        fail(f"{key_file}: no such file")
    except WoaError as exc:
        fail(exc.detail)
    text = json.dumps(signed, indent=2, ensure_ascii=False) + "\n"
    if out is None:
        typer.echo(text, nl=False)
    else:
        out.write_text(text, encoding="utf-8")
        console.print(f"signed by {key.did}; wrote {out}")


@app.command("verify")
def verify(
    path: Path = typer.Argument(..., help="Signed agent card JSON file."),
    did: str | None = typer.Option(None, "--did", help="Require a valid signature by this DID."),
) -> None:
    """Verify the card's signatures; print the signers; exit 1 if none verifies."""
    card = _read_card(path)
    try:
        valid = verify_card(card, expected_did=did)
    except CardSignatureError as exc:
        fail(exc.detail)
    except WoaError as exc:
        fail(exc.detail)
    for signature in valid:
        console.print(f"[green]valid[/green] {signature.did}")
