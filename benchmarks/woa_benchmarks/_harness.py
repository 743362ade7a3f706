"""What every benchmark shares: the registry server subprocess, load rounds, percentiles.

* :func:`registry_server` runs ``woa registry serve`` on a free 127.0.0.1 port (the server
  picks it: ``--port 0``) in a subprocess, waits for ``/readyz``, and stops it on exit.
* :func:`measure_load` drives ``requests`` calls from ``workers`` concurrent workers and
  returns a :class:`LoadResult` (throughput and latency percentiles).
* :func:`median_load` folds interleaved rounds into one result.
* :func:`drop_schema` removes a PostgreSQL schema a benchmark created.
"""

from __future__ import annotations

import asyncio
import os
import signal
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Awaitable, Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

__all__ = [
    "LoadResult",
    "drop_schema",
    "measure_load",
    "median_load",
    "percentile",
    "registry_server",
]


@dataclass(frozen=True)
class LoadResult:
    """One measured load: requests answered, wall time, latency percentiles (seconds)."""

    requests: int
    seconds: float
    p50: float
    p99: float

    @property
    def throughput(self) -> float:
        """Requests per second."""
        return self.requests / self.seconds


def percentile(sorted_values: list[float], q: float) -> float:
    """Return the ``q`` quantile (0..1) of ascending ``sorted_values`` (nearest rank)."""
    return sorted_values[min(len(sorted_values) - 1, int(q * len(sorted_values)))]


async def measure_load(
    call: Callable[[int], Awaitable[None]], requests: int, workers: int
) -> LoadResult:
    """Run ``call(worker_index)`` ``requests`` times from ``workers`` concurrent workers.

    Workers take the next request from one shared counter, so the count is exact; each
    call's latency is recorded, and the wall time covers the whole load.
    """
    latencies: list[float] = []
    counter = iter(range(requests))

    async def worker(index: int) -> None:
        for _ in counter:
            started = time.perf_counter()
            await call(index)
            latencies.append(time.perf_counter() - started)

    began = time.perf_counter()
    await asyncio.gather(*(worker(i) for i in range(workers)))
    elapsed = time.perf_counter() - began
    latencies.sort()
    return LoadResult(
        len(latencies), elapsed, percentile(latencies, 0.5), percentile(latencies, 0.99)
    )


def median_load(results: list[LoadResult]) -> LoadResult:
    """Return the per-field medians of rounds that each made the same number of requests."""
    return LoadResult(
        requests=results[0].requests,
        seconds=statistics.median(r.seconds for r in results),
        p50=statistics.median(r.p50 for r in results),
        p99=statistics.median(r.p99 for r in results),
    )


@contextmanager
def registry_server(
    database_url: str, workdir: Path, env: Mapping[str, str]
) -> Iterator[tuple[str, int]]:
    """Run ``woa registry serve`` on ``database_url``; yield its base URL and process id.

    ``env`` replaces every ``WOA_REGISTRY_*`` and ``WOA_STATE_*`` variable of this process
    (rate limits, sweep interval...). The key file lives in ``workdir``. On exit the server
    gets SIGTERM (SIGKILL after 30 s).
    """
    child_env = {
        k: v for k, v in os.environ.items() if not k.startswith(("WOA_REGISTRY_", "WOA_STATE_"))
    }
    child_env |= env
    command = [
        sys.executable, "-c", "from woa_cli.main import app; app()", "registry", "serve",
        "--port", "0", "--no-mdns", "--log-level", "warning",
        "--database-url", database_url, "--key-file", str(workdir / "registry-key.pem"),
    ]  # fmt: skip
    proc = subprocess.Popen(  # noqa: S603 - our own CLI
        command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=child_env
    )
    url: list[str] = []

    def read() -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            if "listening on" in line and not url:
                url.append(line.rsplit(" ", 1)[-1].strip())

    threading.Thread(target=read, daemon=True).start()
    try:
        deadline = time.monotonic() + 60
        while not url:
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("the registry did not start")
            time.sleep(0.05)
        while True:
            try:
                httpx.get(url[0] + "/readyz", timeout=2).raise_for_status()
                break
            except httpx.HTTPError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)
        yield url[0], proc.pid
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)


async def drop_schema(dsn: str, schema: str) -> None:
    """Drop ``schema`` (and everything in it) from the PostgreSQL database at ``dsn``."""
    import asyncpg

    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
    finally:
        await conn.close()
