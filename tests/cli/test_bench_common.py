"""``woa bench`` shared pieces: which PostgreSQL to measure, and goal verdicts."""

from __future__ import annotations

import os
import socket

import pytest

from woa_cli._bench_common import _unreachable, postgres_to_measure, verdict

POSTGRES_DSN = os.environ.get("WOA_TEST_POSTGRES_DSN", "postgresql://postgres@127.0.0.1:5432/test")


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_disabled_postgres_is_not_probed() -> None:
    assert postgres_to_measure(False, "postgresql://nobody@127.0.0.1:1/none") is None


def test_unreachable_postgres_is_skipped_with_the_reason(
    capsys: pytest.CaptureFixture[str],
) -> None:
    dsn = f"postgresql://postgres@127.0.0.1:{_closed_port()}/test"
    assert postgres_to_measure(True, dsn) is None
    assert "PostgreSQL not measured" in capsys.readouterr().out


def test_explicit_dsn_wins_over_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    problem = _unreachable(POSTGRES_DSN)
    if problem is not None:
        if os.environ.get("CI"):
            pytest.fail(f"PostgreSQL is required in CI: {problem}")
        pytest.skip(f"PostgreSQL unreachable: {problem}")
    monkeypatch.setenv("WOA_TEST_POSTGRES_DSN", f"postgresql://x@127.0.0.1:{_closed_port()}/x")
    assert postgres_to_measure(True, POSTGRES_DSN) == POSTGRES_DSN


def test_verdicts() -> None:
    assert "meets" in verdict(True)
    assert "misses" in verdict(False)
