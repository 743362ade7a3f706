"""Registry search and registration against a trivial endpoint of the same server, same run.

For each backend (SQLite file; PostgreSQL when a DSN is given) and each size, the store is
filled directly to that many agents (filling is not measured), then ``woa registry serve``
runs in a subprocess and an httpx load generator (``concurrency`` connections) alternates
rounds of searches (skill filter, family + tag, full text; first page of 20) with rounds of
``GET /healthz``, the trivial baseline. Both answers are signed (RFC 9421) by the server, so
the ratio isolates the cost of search. Reported: medians over rounds of throughput and
p50/p99 latency, the server's resident memory after the load, and signed registrations per
second (``PUT /v1/agents/{did}``, a fresh agent each). The client shares the machine's
cores with the server, so absolute figures are pessimistic; ratios are what to compare.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import secrets
import tempfile
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

from woa_protocol import HttpRequest, MessageSigner, SigningKey, sign_card
from woa_protocol.models import (
    AgentCapabilities,
    AgentCard,
    AgentInterface,
    AgentSkill,
    ModelFamily,
    SkillProfile,
    WoaCardExtension,
    attach_extension,
)
from woa_registry.storage import AgentRecord, AgentStore, SkillEntry, open_store

from ._harness import LoadResult, drop_schema, measure_load, median_load, registry_server

__all__ = [
    "GOAL_SCALING",
    "GOAL_SEARCH_VS_TRIVIAL",
    "BenchResult",
    "LoadResult",
    "SizeResult",
    "run",
]

GOAL_SCALING = 1.5
"""Search p50 latency at the largest size over that at the smallest: at most this."""
GOAL_SEARCH_VS_TRIVIAL = 0.40
"""Search throughput over trivial-endpoint throughput: at least this."""

FAMILIES = [f.value for f in ModelFamily]
WORDS = ["summarise", "translate", "segment", "transcribe", "classify", "embed", "plan", "read"]
SKILL_IDS = 50


@dataclass(frozen=True)
class SizeResult:
    """Search and trivial-endpoint figures at one registry size."""

    backend: str
    agents: int
    search: LoadResult
    trivial: LoadResult
    rss_bytes: int | None

    @property
    def search_vs_trivial(self) -> float:
        """Search throughput as a fraction of the trivial endpoint's."""
        return self.search.throughput / self.trivial.throughput


@dataclass
class BenchResult:
    """Everything one run measured."""

    sizes: list[SizeResult] = field(default_factory=list)
    registrations_per_second: dict[str, float] = field(default_factory=dict)

    def scaling(self, backend: str) -> float | None:
        """Search p50 at the largest size over the smallest, for ``backend``."""
        rows = sorted((r for r in self.sizes if r.backend == backend), key=lambda r: r.agents)
        if len(rows) < 2:
            return None
        return rows[-1].search.p50 / rows[0].search.p50


def _record(index: int, now: datetime) -> AgentRecord:
    did = "did:key:z6Mk" + f"{index:012d}" + secrets.token_hex(16)
    word = WORDS[index % len(WORDS)]
    family = FAMILIES[index % len(FAMILIES)]
    skill = SkillEntry(
        skill_id=f"skill-{index % SKILL_IDS}",
        name=f"{word} {index}",
        description=f"Agent {index} can {word} inputs of kind {index % 13}",
        tags=(word, f"tag-{index % 20}"),
        family=family,
        input_modes=("application/json",),
        output_modes=("application/json",),
        input_schema={"type": "object", "required": [word]},
        output_schema={"type": "object"},
    )
    card = {"name": f"bench agent {index}", "description": skill.description, "skills": []}
    return AgentRecord(
        did=did,
        card=card,
        name=f"bench agent {index}",
        description=skill.description,
        url=f"http://127.0.0.1:9/{index}",
        skills=(skill,),
        verified=True,
        registered_at=now,
        updated_at=now,
        lease_expires_at=now + timedelta(days=1),
    )


async def _fill(store: AgentStore, start: int, stop: int) -> None:
    now = datetime.now(UTC)
    for index in range(start, stop):
        await store.put(_record(index, now))


async def _load(
    client: httpx.AsyncClient, paths: list[str], requests: int, concurrency: int
) -> LoadResult:
    cycle = itertools.cycle(paths)

    async def get(_worker: int) -> None:
        path = next(cycle)
        response = await client.get(path)
        if response.status_code != 200:
            raise RuntimeError(f"GET {path} answered {response.status_code}")

    return await measure_load(get, requests, concurrency)


def _search_paths() -> list[str]:
    paths = []
    for i in range(30):
        paths.append(f"/v1/agents?skill=skill-{i % SKILL_IDS}&limit=20")
        paths.append(f"/v1/agents?family={FAMILIES[i % len(FAMILIES)]}&tag=tag-{i % 20}&limit=20")
        paths.append(f"/v1/agents?q={WORDS[i % len(WORDS)]}&limit=20")
    return paths


def _rss(pid: int) -> int | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    except OSError:
        return None
    return None


_SERVER_ENV = {
    "WOA_REGISTRY_RATE_PER_ADDRESS": "0",
    "WOA_REGISTRY_RATE_PER_DID": "0",
    "WOA_REGISTRY_SWEEP_INTERVAL_SECONDS": "3600",
}


def _signed_card(key: SigningKey, index: int) -> dict[str, Any]:
    card = AgentCard(
        name=f"registering agent {index}",
        description="measures registration",
        supported_interfaces=[
            AgentInterface(url="http://127.0.0.1:9/", protocol_binding="JSONRPC")
        ],
        version="1",
        capabilities=AgentCapabilities(),
        default_input_modes=["application/json"],
        default_output_modes=["application/json"],
        skills=[AgentSkill(id="echo", name="Echo", description="echoes", tags=["echo"])],
    )
    ext = WoaCardExtension(
        did=key.did,
        skills={
            "echo": SkillProfile(
                input_schema={"type": "object"}, output_schema={}, family=ModelFamily.CLASSICAL
            )
        },
    )
    return sign_card(attach_extension(card, ext), key)


async def _registrations(url: str, count: int, concurrency: int) -> float:
    keys = [SigningKey.generate() for _ in range(count)]
    bodies = [
        json.dumps({"card": _signed_card(k, i), "leaseSeconds": 600}).encode()
        for i, k in enumerate(keys)
    ]
    signers = [MessageSigner(k) for k in keys]
    counter = iter(range(count))
    async with httpx.AsyncClient(base_url=url, timeout=30) as client:

        async def register(_worker: int) -> None:
            i = next(counter)
            path = f"/v1/agents/{keys[i].did}"
            request = HttpRequest(
                "PUT", url + path, {"content-type": "application/json"}, bodies[i]
            )
            signers[i].sign_request(request)
            response = await client.put(path, content=bodies[i], headers=request.headers)
            if response.status_code != 201:
                raise RuntimeError(f"registration answered {response.status_code}")

        return (await measure_load(register, count, concurrency)).throughput


async def _measure(
    url: str, pid: int, backend: str, agents: int, requests: int, concurrency: int, rounds: int
) -> SizeResult:
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(base_url=url, limits=limits, timeout=30) as client:
        paths = _search_paths()
        await _load(client, paths, min(200, requests), concurrency)  # warm caches
        await _load(client, ["/healthz"], min(200, requests), concurrency)
        search, trivial = [], []
        for _ in range(rounds):
            search.append(await _load(client, paths, requests, concurrency))
            trivial.append(await _load(client, ["/healthz"], requests, concurrency))
    return SizeResult(backend, agents, median_load(search), median_load(trivial), _rss(pid))


def run(
    *,
    sizes: tuple[int, ...] = (1_000, 100_000),
    postgres_dsn: str | None = None,
    requests: int = 1_000,
    concurrency: int = 8,
    rounds: int = 3,
    registrations: int = 300,
    progress: Callable[[str], None] | None = None,
    workdir: Path | None = None,
) -> BenchResult:
    """Measure every backend (SQLite, plus PostgreSQL when ``postgres_dsn``) at each size."""
    say = progress or (lambda _message: None)
    result = BenchResult()
    with tempfile.TemporaryDirectory(prefix="woa-bench-") as tmp:
        base = workdir or Path(tmp)
        targets: list[tuple[str, str, str | None]] = [
            ("sqlite", f"sqlite:///{base}/bench.db", None)
        ]
        if postgres_dsn:
            pg_schema = f"woa_bench_{secrets.token_hex(4)}"
            targets.append(("postgres", f"{postgres_dsn}?schema={pg_schema}", pg_schema))
        for backend, database_url, schema in targets:
            try:
                _run_backend(
                    result, backend, database_url, base, sorted(sizes),
                    requests, concurrency, rounds, registrations, say,
                )  # fmt: skip
            finally:
                if schema is not None and postgres_dsn:
                    asyncio.run(drop_schema(postgres_dsn, schema))
    return result


def _run_backend(
    result: BenchResult,
    backend: str,
    database_url: str,
    workdir: Path,
    sizes: list[int],
    requests: int,
    concurrency: int,
    rounds: int,
    registrations: int,
    say: Callable[[str], None],
) -> None:
    filled = 0
    for size in sizes:
        say(f"{backend}: filling to {size:,} agents")
        start = filled

        async def fill(store: AgentStore, start: int = start, stop: int = size) -> None:
            await _fill(store, start, stop)

        asyncio.run(_with_store(database_url, fill))
        filled = size
        with registry_server(database_url, workdir, _SERVER_ENV) as (url, pid):
            say(f"{backend}: searching {size:,} agents")
            result.sizes.append(
                asyncio.run(_measure(url, pid, backend, size, requests, concurrency, rounds))
            )
            if size == sizes[0] and registrations:
                say(f"{backend}: {registrations} signed registrations")
                result.registrations_per_second[backend] = asyncio.run(
                    _registrations(url, registrations, concurrency)
                )
                filled += registrations


async def _with_store(url: str, action: Callable[[AgentStore], Awaitable[None]]) -> None:
    store = open_store(url)
    await store.open()
    try:
        await action(store)
    finally:
        await store.close()
