"""The agent benchmark runs end to end on real sockets (figures are not asserted)."""

from __future__ import annotations

import asyncio
import os
import time
from typing import Any

import pytest
from typer.testing import CliRunner

from woa_benchmarks import agent as bench
from woa_cli.main import app


@pytest.mark.parametrize(("http", "loop"), [("httptools", "uvloop"), ("h11", "asyncio")])
def test_agent_benchmark_smoke(http: str, loop: str) -> None:
    result = bench.run(requests=30, rounds=2, concurrency=2, http=http, loop=loop)
    for path in (result.bare, result.a2a, result.woa, result.text):
        assert path.load.requests == 30
        assert path.load.p99 >= path.load.p50 > 0
        assert path.server_cpu > 0
    assert (result.http, result.loop) == (http, loop)
    assert result.client_sign > 0
    assert result.client_check > 0
    assert result.ed25519 > 0
    assert result.ed25519_share == result.ed25519 / result.bare.server_cpu
    assert result.vs_bare == result.woa.load.throughput / result.bare.load.throughput
    assert result.text_vs_a2a == result.text.load.throughput / result.a2a.load.throughput


def test_a_wrong_answer_fails_the_benchmark(monkeypatch: pytest.MonkeyPatch) -> None:
    paths = bench._paths

    async def broken(procs: Any) -> dict[str, bench._Path]:
        built = await paths(procs)
        signed = built["woa"].build

        def build() -> tuple[bytes, Any]:  # the body no longer matches its signature
            raw, request = signed()
            return raw.replace(b'"woa.skill":"echo"', b'"woa.skill":"ohce"'), request

        built["woa"].build = build
        return built

    monkeypatch.setattr(bench, "_paths", broken)
    with pytest.raises(RuntimeError, match="the agent answered 401"):
        bench.run(requests=5, rounds=1, concurrency=1)


def test_run_refuses_bad_arguments() -> None:
    with pytest.raises(ValueError, match="http"):
        bench.run(http="quic")
    with pytest.raises(ValueError, match="loop"):
        bench.run(loop="trio")
    with pytest.raises(ValueError, match="positive"):
        bench.run(requests=0)


def test_a_failing_benchmark_is_reported_not_aborted(monkeypatch: pytest.MonkeyPatch) -> None:
    def closed(**_: Any) -> None:
        raise asyncio.IncompleteReadError(b"", None)  # an EOFError: click would say "Aborted."

    monkeypatch.setattr(bench, "run", closed)
    result = CliRunner().invoke(app, ["bench", "agent", "--requests", "1"])
    assert result.exit_code == 1
    assert "agent benchmark failed: IncompleteReadError" in result.output
    assert "Aborted" not in result.output


def test_server_cpu_sees_a_few_milliseconds() -> None:
    before = bench._server_cpu(os.getpid())
    began = time.process_time()
    while time.process_time() - began < 0.005:  # 5 ms of CPU: less than one clock tick
        pass
    spent = bench._server_cpu(os.getpid()) - before
    assert 0.004 <= spent < 1.0
