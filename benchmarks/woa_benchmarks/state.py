"""Shared-state throughput against a signed no-op of the same server and the raw backend.

For each backend (SQLite file; PostgreSQL when a DSN is given), ``woa registry serve`` runs
in a subprocess on 127.0.0.1 and an httpx load generator (``concurrency`` connections, one
document per connection) alternates rounds of:

* signed compare-and-set writes: ``PUT /v1/state/bench/docs/w<i>`` with ``If-Match`` of the
  version the previous write returned, body a ~200-byte JSON value;
* the signed no-op for writes: ``POST /v1/state:whoami`` with the same body (signature
  verified, nonce remembered, nothing stored; the answer is signed like every answer);
* signed reads: ``GET /v1/state/bench/docs/w<i>`` of the private namespace;
* the signed no-op for reads: ``POST /v1/state:whoami`` without a body.

So write/no-op and read/no-op isolate what the state logic and storage add to the HTTP and
signature path (goal: at least :data:`GOAL_VS_NOOP`). The floor the storage itself sets is
measured in the same run: single-row transactional UPDATE and SELECT on the same backend
with the same durability settings (SQLite WAL + ``synchronous=FULL`` through aiosqlite, one
connection like the store's writer; PostgreSQL through asyncpg with ``concurrency``
connections and the server's default ``synchronous_commit``). Client and server share the
machine's cores, so absolute figures are pessimistic; ratios are what to compare.
"""

# ruff: noqa: S608  -- the table name is generated here; values are bound.

from __future__ import annotations

import asyncio
import json
import statistics
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from woa_protocol import HttpRequest, MessageSigner, SigningKey

from ._harness import drop_schema, measure_load, registry_server

__all__ = ["GOAL_VS_NOOP", "BackendResult", "BenchResult", "run"]

GOAL_VS_NOOP = 0.5
"""State throughput over signed no-op throughput: at least this."""

NAMESPACE = "bench"


def _value(i: int, n: int) -> dict[str, Any]:
    """A ~200-byte document value."""
    return {
        "worker": i,
        "step": n,
        "status": "running",
        "note": "intermediate result of a compound task shared between agents " * 2,
        "scores": [0.125, 0.5, 0.875],
    }


@dataclass(frozen=True)
class BackendResult:
    """Throughput (operations per second, medians over rounds) for one backend."""

    backend: str
    write: float
    noop_write: float
    read: float
    noop_read: float
    raw_update: float
    raw_select: float

    @property
    def write_vs_noop(self) -> float:
        """Signed CAS writes over signed no-ops with the same body."""
        return self.write / self.noop_write

    @property
    def read_vs_noop(self) -> float:
        """Signed reads over signed body-less no-ops."""
        return self.read / self.noop_read

    @property
    def write_vs_raw(self) -> float:
        """Signed CAS writes over raw single-row transactional updates."""
        return self.write / self.raw_update

    @property
    def read_vs_raw(self) -> float:
        """Signed reads over raw single-row selects."""
        return self.read / self.raw_select


@dataclass
class BenchResult:
    """Every backend measured in one run."""

    requests: int
    concurrency: int
    rounds: int
    backends: list[BackendResult] = field(default_factory=list)


_SERVER_ENV = {
    "WOA_REGISTRY_RATE_PER_ADDRESS": "0",
    "WOA_REGISTRY_SWEEP_INTERVAL_SECONDS": "3600",
    "WOA_STATE_RATE_PER_DID": "0",
}


class _Load:
    """Signed requests from ``concurrency`` workers, each with its own document."""

    def __init__(self, client: httpx.AsyncClient, key: SigningKey, concurrency: int) -> None:
        self.client = client
        self.signer = MessageSigner(key)
        self.concurrency = concurrency
        self.versions = [0] * concurrency
        self.steps = [0] * concurrency

    async def send(
        self, method: str, path: str, body: bytes = b"", headers: dict[str, str] | None = None
    ) -> httpx.Response:
        all_headers = dict(headers or {})
        if body:
            all_headers["content-type"] = "application/json"
        url = str(self.client.base_url).rstrip("/") + path
        request = HttpRequest(method, url, all_headers, body)
        self.signer.sign_request(request)
        response = await self.client.request(method, path, content=body, headers=request.headers)
        if response.status_code >= 300:
            raise RuntimeError(f"{method} {path} answered {response.status_code}: {response.text}")
        return response

    def body(self, i: int) -> bytes:
        self.steps[i] += 1
        return json.dumps(_value(i, self.steps[i]), separators=(",", ":")).encode()

    async def write(self, i: int) -> None:
        headers = (
            {"if-match": f'"{self.versions[i]}"'} if self.versions[i] else {"if-none-match": "*"}
        )
        response = await self.send("PUT", f"/v1/state/{NAMESPACE}/docs/w{i}", self.body(i), headers)
        self.versions[i] = int(response.json()["version"])

    async def noop_write(self, i: int) -> None:
        await self.send("POST", "/v1/state:whoami", self.body(i))

    async def read(self, i: int) -> None:
        await self.send("GET", f"/v1/state/{NAMESPACE}/docs/w{i}")

    async def noop_read(self, i: int) -> None:
        await self.send("POST", "/v1/state:whoami")

    async def rate(self, op: Callable[[int], Awaitable[None]], requests: int) -> float:
        """Operations per second of ``op(worker)`` from every worker, ``requests`` in all."""
        return (await measure_load(op, requests, self.concurrency)).throughput


async def _measure_server(
    url: str, requests: int, rounds: int, concurrency: int
) -> dict[str, float]:
    key = SigningKey.generate()
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(base_url=url, limits=limits, timeout=30) as client:
        load = _Load(client, key, concurrency)
        await load.send("PUT", f"/v1/state/{NAMESPACE}", b'{"writers":[]}')
        await asyncio.gather(*(load.write(i) for i in range(concurrency)))  # create, warm up
        for op in (load.noop_write, load.read, load.noop_read):
            await load.rate(op, concurrency * 4)
        samples: dict[str, list[float]] = {
            "write": [],
            "noop_write": [],
            "read": [],
            "noop_read": [],
        }
        for _ in range(rounds):
            samples["noop_write"].append(await load.rate(load.noop_write, requests))
            samples["write"].append(await load.rate(load.write, requests))
            samples["noop_read"].append(await load.rate(load.noop_read, requests))
            samples["read"].append(await load.rate(load.read, requests))
    return {name: statistics.median(values) for name, values in samples.items()}


async def _raw_sqlite(path: Path, requests: int, rounds: int) -> tuple[float, float]:
    import aiosqlite

    db = await aiosqlite.connect(path, isolation_level=None)
    try:
        await db.execute("PRAGMA journal_mode = WAL")
        await db.execute("PRAGMA synchronous = FULL")
        await db.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, version INTEGER, doc TEXT)")
        doc = json.dumps(_value(0, 0))
        await db.execute("INSERT INTO t VALUES (1, 1, ?)", (doc,))
        updates: list[float] = []
        selects: list[float] = []
        for _ in range(rounds):
            began = time.perf_counter()
            for n in range(requests):
                await db.execute("BEGIN IMMEDIATE")
                await db.execute(
                    "UPDATE t SET doc = ?, version = version + 1 WHERE id = 1 AND version = ?",
                    (doc, n + 1 + len(updates) * requests),
                )
                await db.execute("COMMIT")
            updates.append(requests / (time.perf_counter() - began))
            began = time.perf_counter()
            for _ in range(requests):
                await db.execute("BEGIN")
                await db.execute_fetchall("SELECT doc, version FROM t WHERE id = 1")
                await db.execute("COMMIT")
            selects.append(requests / (time.perf_counter() - began))
    finally:
        await db.close()
    return statistics.median(updates), statistics.median(selects)


async def _raw_postgres(
    dsn: str, requests: int, rounds: int, concurrency: int
) -> tuple[float, float]:
    import asyncpg

    table = f"woa_bench_state_{uuid.uuid4().hex[:10]}"
    pool = await asyncpg.create_pool(dsn, min_size=concurrency, max_size=concurrency)
    try:
        await pool.execute(f"CREATE TABLE {table} (id int PRIMARY KEY, version bigint, doc text)")
        doc = json.dumps(_value(0, 0))
        await pool.executemany(
            f"INSERT INTO {table} VALUES ($1, 0, $2)",
            [(i, doc) for i in range(concurrency)],
        )

        async def rate(sql: str) -> float:
            counter = iter(range(requests))

            async def worker(i: int) -> None:
                async with pool.acquire() as conn:
                    for _ in counter:
                        async with conn.transaction():
                            await conn.fetch(sql, i)

            began = time.perf_counter()
            await asyncio.gather(*(worker(i) for i in range(concurrency)))
            return requests / (time.perf_counter() - began)

        update = f"UPDATE {table} SET version = version + 1 WHERE id = $1 RETURNING version"
        select = f"SELECT doc, version FROM {table} WHERE id = $1"
        updates = [await rate(update) for _ in range(rounds)]
        selects = [await rate(select) for _ in range(rounds)]
        await pool.execute(f"DROP TABLE {table}")
    finally:
        await pool.close()
    return statistics.median(updates), statistics.median(selects)


def run(
    *,
    requests: int = 400,
    rounds: int = 3,
    concurrency: int = 8,
    postgres_dsn: str | None = None,
) -> BenchResult:
    """Measure every backend; counts are bounded (``requests`` per round and operation)."""
    if requests < concurrency or rounds < 1 or concurrency < 1:
        raise ValueError("need requests >= concurrency >= 1 and rounds >= 1")
    result = BenchResult(requests=requests, concurrency=concurrency, rounds=rounds)
    with tempfile.TemporaryDirectory(prefix="woa-bench-state-") as tmp:
        workdir = Path(tmp)
        with registry_server(f"sqlite:///{workdir}/registry.db", workdir, _SERVER_ENV) as (url, _):
            figures = asyncio.run(_measure_server(url, requests, rounds, concurrency))
        raw = asyncio.run(_raw_sqlite(workdir / "raw.db", requests, rounds))
        result.backends.append(
            BackendResult("sqlite", **figures, raw_update=raw[0], raw_select=raw[1])
        )
        if postgres_dsn:
            schema = f"woa_bench_{uuid.uuid4().hex[:10]}"
            sep = "&" if "?" in postgres_dsn else "?"
            try:
                database_url = f"{postgres_dsn}{sep}schema={schema}"
                with registry_server(database_url, workdir, _SERVER_ENV) as (url, _):
                    figures = asyncio.run(_measure_server(url, requests, rounds, concurrency))
            finally:
                asyncio.run(drop_schema(postgres_dsn, schema))
            raw = asyncio.run(_raw_postgres(postgres_dsn, requests, rounds, concurrency))
            result.backends.append(
                BackendResult("postgres", **figures, raw_update=raw[0], raw_select=raw[1])
            )
    return result
