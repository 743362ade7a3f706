"""``python -m woa_<agent>``: serve one sample agent (the same as ``woa agents run NAME``)."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

from .catalog import CATALOG
from .errors import MissingExtraError, WeightChecksumError
from .sample import serve

__all__ = ["main"]


def main(name: str, argv: Sequence[str] | None = None) -> int:
    """Parse the command line, build the agent ``name`` and serve it until Ctrl-C."""
    spec = CATALOG[name]
    parser = argparse.ArgumentParser(
        prog=f"python -m woa_{name}", description=f"Serve the {name} agent: {spec.summary}."
    )
    parser.add_argument("--host", default="127.0.0.1", help="Address to bind (127.0.0.1).")
    parser.add_argument("--port", type=int, default=8000, help="Port (8000; 0: any free port).")
    parser.add_argument(
        "--registry-url",
        default=os.environ.get("WOA_REGISTRY_URL"),
        help="Register with this registry (env WOA_REGISTRY_URL; default: do not register).",
    )
    parser.add_argument("--key", help="The agent's key file (PEM or JWK); default: a fresh key.")
    parser.add_argument(
        "--no-preload",
        action="store_true",
        help="Load the model on the first call instead of before serving.",
    )
    args = parser.parse_args(argv)
    try:
        sample = spec.build(key=args.key, registry_url=args.registry_url)
        serve(
            sample,
            host=args.host,
            port=args.port,
            registry_url=args.registry_url,
            preload=not args.no_preload,
        )
    except (MissingExtraError, WeightChecksumError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0
