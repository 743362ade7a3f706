"""What the sample agents' tests share: a real registry, generated inputs, error rates.

Inputs are generated here, never downloaded: images drawn with Pillow and Debian's DejaVu
fonts, speech synthesised by Debian's espeak-ng. ``check_on_sockets`` runs the checks
every sample agent must pass on real sockets.
"""

from __future__ import annotations

import asyncio
import base64
import socket
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import uvicorn

from woa_agents import AgentCallError, AgentClient, RemoteAgent, RpcError, RunningAgent
from woa_protocol import SigningKey
from woa_samples import Sample

REGISTRY_KEY = SigningKey.generate()
TEST_BODY_LIMIT = 2 * 1024 * 1024


def file_json(data: bytes, media_type: str, filename: str | None = None) -> dict[str, Any]:
    """A ``woa_agents.File`` as JSON (what a data part carries)."""
    out: dict[str, Any] = {"raw": base64.b64encode(data).decode(), "mediaType": media_type}
    if filename:
        out["filename"] = filename
    return out


def speak(text: str, wpm: int = 130) -> bytes:
    """WAV bytes of ``text`` by espeak-ng; the test fails when it is missing."""
    from woa_samples.generated import speak as synthesise

    try:
        return synthesise(text, wpm)
    except FileNotFoundError as exc:
        pytest.fail(f"{exc} (make system-deps installs it)")


def edit_distance(ref: Sequence[Any], hyp: Sequence[Any]) -> int:
    """Levenshtein distance (insertions, deletions, substitutions) of two sequences."""
    previous = list(range(len(hyp) + 1))
    for i, a in enumerate(ref, 1):
        current = [i]
        for j, b in enumerate(hyp, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a != b)))
        previous = current
    return previous[-1]


def collapse(text: str) -> str:
    return " ".join(text.split())


def cer(reference: str, hypothesis: str) -> float:
    """Character error rate after whitespace is collapsed."""
    ref, hyp = collapse(reference), collapse(hypothesis)
    return edit_distance(ref, hyp) / len(ref)


def words(text: str) -> list[str]:
    return ["".join(c for c in w.lower() if c.isalnum()) for w in text.split() if w.strip(".,!?")]


def wer(reference: str, hypothesis: str) -> float:
    """Word error rate, case and punctuation ignored."""
    ref = words(reference)
    return edit_distance(ref, words(hypothesis)) / len(ref)


class RegistryServer:
    """The real registry (SQLite in ``tmp``) served by uvicorn on a free 127.0.0.1 port."""

    def __init__(self, tmp: Path) -> None:
        from woa_registry import RegistrySettings, create_app

        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        self.sock.bind(("127.0.0.1", 0))
        port = self.sock.getsockname()[1]
        settings = RegistrySettings(
            host="127.0.0.1",
            port=port,
            database_url=f"sqlite:///{tmp}/registry.db",
            key_file=tmp / "registry.pem",
            mdns_enabled=False,
            lease_min_seconds=10,
            sweep_interval_seconds=3600,
            rate_per_did=0,
            rate_per_address=0,
        )
        self.url = f"http://127.0.0.1:{port}"
        self.server = uvicorn.Server(
            uvicorn.Config(
                create_app(settings, key=REGISTRY_KEY),
                log_level="warning",
                timeout_graceful_shutdown=2,
            )
        )
        self._serving: asyncio.Task[None] | None = None

    async def start(self) -> RegistryServer:
        self._serving = asyncio.create_task(self.server.serve(sockets=[self.sock]))
        while not self.server.started:
            assert not self._serving.done(), "registry failed to start"
            await asyncio.sleep(0.01)
        return self

    async def stop(self) -> None:
        if self._serving is not None and not self._serving.done():
            self.server.should_exit = True
            await self._serving
        self.sock.close()


@dataclass
class OnSockets:
    """A registry, the agent serving and registered there, and a signed client of both."""

    registry_url: str
    running: RunningAgent
    client: AgentClient


@asynccontextmanager
async def on_sockets(tmp: Path, sample: Sample) -> AsyncIterator[OnSockets]:
    """Serve ``sample`` on 127.0.0.1, registered with a real registry; yield a client."""
    registry = await RegistryServer(tmp).start()
    try:
        async with (
            sample.agent.running(registry_url=registry.url) as running,
            AgentClient(SigningKey.generate(), registry_url=registry.url, timeout=120) as client,
        ):
            assert running.lifecycle is not None
            await asyncio.wait_for(running.lifecycle.registered.wait(), 20)
            yield OnSockets(registry.url, running, client)
    finally:
        await registry.stop()


async def check_on_sockets(
    tmp: Path,
    sample: Sample,
    *,
    skill: str,
    family: str,
    payload: dict[str, Any],
    search_payload: dict[str, Any],
    malformed: dict[str, Any],
    undecodable: dict[str, Any] | None = None,
) -> Any:
    """What every sample agent passes on real sockets; returns the output of ``payload``.

    Registered with a real registry; found by skill, by family and by payload; called by
    the SDK client with signatures both ways (the client checks the answer's signature
    against the DID in the signed card, and the output against the skill's schema);
    refused a malformed input (-32602 SCHEMA_VALIDATION_FAILED, naming the path), an
    oversized body (-32600 PAYLOAD_TOO_LARGE, HTTP 413) and, for file inputs, bytes that
    do not decode (task rejected, saying why).
    """
    async with on_sockets(tmp, sample) as env:
        client, did = env.client, sample.agent.did
        found = await client.find(skill=skill)
        assert [a.did for a in found] == [did]
        assert did in [a.did for a in await client.find(family=family)]
        matches = await client.find_for_payload(search_payload)
        assert (did, skill) in [(a.did, s) for a, s in matches]
        remote: RemoteAgent = found[0]
        assert remote.skills[skill].family.value == family

        output = await client.call(skill, payload)

        with pytest.raises(RpcError) as bad:
            await client.call(skill, malformed)
        assert bad.value.code == -32602
        assert bad.value.reason == "SCHEMA_VALIDATION_FAILED"
        assert bad.value.violations

        limit = sample.agent.max_body_bytes
        oversized = dict(payload)
        oversized["padding"] = "x" * (limit + 1)
        with pytest.raises(RpcError) as big:
            await client.call(skill, oversized)
        assert big.value.code == -32600
        assert big.value.reason == "PAYLOAD_TOO_LARGE"

        if undecodable is not None:
            with pytest.raises(AgentCallError, match=r"REJECTED.*not a decodable"):
                await client.call(skill, undecodable)
        # the agent still serves after all of that
        assert await client.call(skill, payload) == output
        return output
