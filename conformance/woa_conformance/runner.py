"""Run the checks of one target kind against a URL (or an in-process app) and report."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable
from pathlib import Path
from typing import Literal

import httpx

from .core import Check, CheckFailed, NotApplicable, TargetKind, checks_for
from .manifest import load_requirements
from .report import CheckResult, Report
from .target import Options, Target, TargetUnreachable

__all__ = ["run_checks", "select_checks"]


def select_checks(
    kind: TargetKind, level: Literal["must", "should"], only: list[str] | None = None
) -> list[Check]:
    """The checks of ``kind`` citing a requirement at ``level`` (or named in ``only``)."""
    requirements = load_requirements()
    chosen = []
    for c in checks_for(kind):
        if only and not any(c.name.endswith(o) or o in c.requirements for o in only):
            continue
        levels = {requirements[i].level for i in c.requirements if i in requirements}
        if level == "must" and "MUST" not in levels:
            continue
        chosen.append(c)
    return chosen


async def _run_one(check: Check, target: Target, budget: float) -> CheckResult:
    started = time.monotonic()

    def done(status: str, message: str = "", failed: str | None = None) -> CheckResult:
        return CheckResult(
            check.name,
            check.requirements,
            status,  # type: ignore[arg-type]
            message,
            failed,
            round(time.monotonic() - started, 3),
            check.description,
        )

    try:
        await asyncio.wait_for(check.func(target), budget)
    except CheckFailed as exc:
        return done("failed", exc.message, exc.requirement)
    except NotApplicable as exc:
        return done("not-applicable", exc.reason)
    except TargetUnreachable as exc:
        return done("error", str(exc))
    except TimeoutError:
        return done("error", f"no answer within the time allowed ({budget:.1f} s)")
    except httpx.HTTPError as exc:
        return done("error", f"{type(exc).__name__}: {exc or 'connection failed'}")
    except Exception as exc:  # a check must never crash the run: what broke goes in the report
        return done("error", f"{type(exc).__name__}: {exc}")
    return done("passed")


async def run_checks(
    kind: TargetKind,
    url: str,
    *,
    transport: httpx.AsyncBaseTransport | None = None,
    options: Options | None = None,
    level: Literal["must", "should"] = "should",
    only: list[str] | None = None,
    spec_dir: Path | None = None,
    on_start: Callable[[Check], None] | None = None,
    on_result: Callable[[CheckResult], None] | None = None,
) -> Report:
    """Run every selected check of ``kind`` against ``url``; never raises for the target's faults.

    ``transport`` serves the target in-process (``httpx.ASGITransport`` or, with WebSockets,
    ``httpx_ws.transport.ASGIWebSocketTransport``).
    """
    options = options or Options()
    report = Report(kind, url, level, load_requirements(spec_dir))
    target = Target(kind, url, options, transport)
    budget = options.timeout * 8 + options.lease_wait
    try:
        for check in select_checks(kind, level, only):
            if on_start is not None:
                on_start(check)
            result = await _run_one(check, target, budget)
            report.results.append(result)
            if on_result is not None:
                on_result(result)
    finally:
        for cleanup in reversed(target.cleanups):
            try:
                await asyncio.wait_for(cleanup(), options.timeout)
            except Exception as exc:  # cleanup failures are reported, never raised
                report.left_behind.append(f"cleanup failed: {type(exc).__name__}: {exc}")
        report.left_behind.extend(target.left_behind)
        with contextlib.suppress(Exception):
            await target.aclose()
    return report
