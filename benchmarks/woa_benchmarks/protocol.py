"""Signed-message cost against raw Ed25519, measured in the same run.

Measured path (per message): RFC 8785 canonicalisation of a ~1 KiB JSON-RPC payload, RFC 9530
Content-Digest, RFC 9421 signature base, Ed25519 signature, then on the receiving side
parsing of the signature fields, profile checks, time window, Ed25519 verification, digest
check and the replay cache. Baseline: raw Ed25519 sign + verify of the same payload bytes,
with the primitive the protocol uses (libsodium, through PyNaCl). The same operations through
``cryptography`` (OpenSSL) are timed for reference.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import rfc8785

from woa_protocol import (
    HttpRequest,
    MessageSigner,
    MessageVerifier,
    ReplayPolicy,
    SigningKey,
    canonicalize,
)

__all__ = ["BenchResult", "run", "sample_payload"]

GOAL_RATIO = 1.25


def sample_payload() -> dict[str, Any]:
    """A realistic ~1 KiB A2A SendMessage request carrying a typed skill call."""
    return {
        "jsonrpc": "2.0",
        "id": "4f1c2b9e-7a55-4c61-9a0e-2d7f0c3b8e11",
        "method": "SendMessage",
        "params": {
            "message": {
                "messageId": "0b7e5f3a-9d2c-4e1b-8f6a-3c5d7e9f1a2b",
                "role": "ROLE_USER",
                "contextId": "ctx-7d3e2f1a",
                "metadata": {"woa.skill": "text.summarise", "traceparent": "00-" + "a" * 32},
                "parts": [
                    {
                        "data": {
                            "text": (
                                "Agents built in isolation cannot find or trust each other; "
                                "signed cards, did:key identities and signed messages fix that. "
                            )
                            * 5,
                            "maxWords": 60,
                            "language": "en",
                            "style": {"bullets": True, "tone": "neutral"},
                        }
                    }
                ],
            }
        },
    }


@dataclass(frozen=True)
class BenchResult:
    """Per-operation seconds (median over rounds) of each measured path."""

    payload_bytes: int
    raw_ed25519: float
    """Raw sign + verify with the protocol's primitive (libsodium): the baseline."""
    raw_ed25519_openssl: float
    """The same through ``cryptography`` (OpenSSL), for reference."""
    signed_message: float
    canonicalize_ours: float
    canonicalize_rfc8785: float

    @property
    def ratio(self) -> float:
        """Signed-message cost divided by raw Ed25519 sign+verify cost."""
        return self.signed_message / self.raw_ed25519


def _time_per_op(fn: Callable[[], object], n: int) -> float:
    start = time.perf_counter()
    for _ in range(n):
        fn()
    return (time.perf_counter() - start) / n


def run(iterations: int = 3000, rounds: int = 5) -> BenchResult:
    """Measure each path ``rounds`` times (interleaved) and keep the medians."""
    key = SigningKey.generate()
    payload = sample_payload()
    body = canonicalize(payload)
    signer = MessageSigner(key)
    verifier = MessageVerifier(
        policy=ReplayPolicy(max_entries=max(100_000, iterations * rounds * 2))
    )
    url = "http://127.0.0.1:8470/a2a"

    def raw() -> None:
        if not key.public.verify(key.sign(body), body):
            raise AssertionError("raw Ed25519 failed")

    def openssl() -> None:
        key.public.key.verify(key.private_key.sign(body), body)

    def signed() -> None:
        request = HttpRequest(
            "POST", url, {"content-type": "application/json"}, canonicalize(payload)
        )
        signer.sign_request(request)
        verifier.verify_request(request)

    def ours() -> None:
        canonicalize(payload)

    def reference() -> None:
        rfc8785.dumps(payload)

    paths = {"raw": raw, "openssl": openssl, "signed": signed, "ours": ours, "rfc8785": reference}
    for fn in paths.values():  # warm caches (DID resolution, validators, allocator)
        _time_per_op(fn, 200)
    samples: dict[str, list[float]] = {name: [] for name in paths}
    for _ in range(rounds):
        for name, fn in paths.items():
            samples[name].append(_time_per_op(fn, iterations))
    med = {name: statistics.median(values) for name, values in samples.items()}
    return BenchResult(
        payload_bytes=len(body),
        raw_ed25519=med["raw"],
        raw_ed25519_openssl=med["openssl"],
        signed_message=med["signed"],
        canonicalize_ours=med["ours"],
        canonicalize_rfc8785=med["rfc8785"],
    )
