"""Project-wide test configuration: the PostgreSQL server and the CI guard around it.

Tests that need PostgreSQL take the ``postgres_dsn`` fixture (or a fixture built on it).
Outside CI they are skipped when no server answers; with ``CI`` set an unreachable server
is an error, and the session fails if no PostgreSQL test ran at all, so a green CI run
always includes the PostgreSQL tests.
"""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

import pytest
from requirement_coverage import RequirementCoverage

pytest_plugins = ("pytester",)

POSTGRES_DSN = os.environ.get("WOA_TEST_POSTGRES_DSN", "postgresql://postgres@127.0.0.1:5432/test")
IN_CI = bool(os.environ.get("CI"))

_postgres_tests_passed = 0


async def _ping(dsn: str) -> str | None:
    try:
        import asyncpg
    except ModuleNotFoundError:
        return "asyncpg is not installed (pip install 'web-of-agents[postgres]')"
    try:
        conn = await asyncio.wait_for(asyncpg.connect(dsn), timeout=5)
    except (TimeoutError, OSError, asyncpg.PostgresError) as exc:
        return f"{type(exc).__name__}: {exc}"
    await conn.close()
    return None


@pytest.fixture(scope="session")
def postgres_dsn() -> str:
    """DSN of the test PostgreSQL server; skip (locally) or fail (CI) when unreachable."""
    problem = asyncio.run(_ping(POSTGRES_DSN))
    if problem is not None:
        message = f"PostgreSQL at {POSTGRES_DSN} is unavailable: {problem}"
        if IN_CI:
            pytest.fail(message + " (CI requires the PostgreSQL tests to run)")
        pytest.skip(message)
    return POSTGRES_DSN


def pytest_configure(config: pytest.Config) -> None:
    """Count requirements by the tests that ran and passed (see ``requirement_coverage``)."""
    here = Path(__file__).resolve().parent
    config.pluginmanager.register(
        RequirementCoverage(here.parent / "spec", here), "woa-requirement-coverage"
    )


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark every test that uses PostgreSQL, so ``-m postgres`` selects them."""
    for item in items:
        if "postgres_dsn" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.postgres)


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    """Count passed PostgreSQL tests."""
    global _postgres_tests_passed
    if report.when == "call" and report.passed and "postgres" in report.keywords:
        _postgres_tests_passed += 1


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """In CI, a full run in which no PostgreSQL test passed is a failure."""
    if hasattr(session.config, "workerinput"):
        return  # an xdist worker: the controller counts every worker's reports
    selected_all = not session.config.option.markexpr and not session.config.option.keyword
    if IN_CI and selected_all and session.testscollected and _postgres_tests_passed == 0:
        session.config.pluginmanager.get_plugin("terminalreporter").write_line(
            "CI: no PostgreSQL test passed; the PostgreSQL tests must run in CI", red=True
        )
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
