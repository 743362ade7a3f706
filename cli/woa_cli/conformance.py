"""``woa conformance registry|agent URL``: check a server against the spec, by requirement ID."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Literal

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from woa_conformance import (
    Check,
    CheckResult,
    Options,
    Report,
    checks_for,
    load_requirements,
    run_checks,
    select_checks,
)
from woa_conformance.core import TargetKind
from woa_conformance.manifest import SERVER_KINDS

from ._console import console

__all__ = ["app", "register_commands", "render_summary"]

app = typer.Typer(
    help="Check a registry or agent URL against the spec; report by requirement ID.",
    no_args_is_help=True,
)

_STYLE = {
    "passed": "green",
    "failed": "red",
    "error": "red",
    "inconclusive": "yellow",
    "not-applicable": "dim",
    "not-run": "dim",
}
_MARK = {"passed": "PASS", "failed": "FAIL", "error": "ERR ", "not-applicable": "N/A "}


def render_summary(report: Report) -> Table:
    """The summary table: one row per requirement with its verdict and the first reason."""
    table = Table(title=f"{report.kind} {report.url}: requirements", expand=True)
    table.add_column("requirement", no_wrap=True)
    table.add_column("level", no_wrap=True)
    table.add_column("verdict", no_wrap=True)
    table.add_column("detail", overflow="fold")
    for verdict in report.verdicts().values():
        style = _STYLE.get(verdict.status, "")
        table.add_row(
            verdict.id, verdict.level, f"[{style}]{verdict.status}[/]", verdict.message[:300]
        )
    return table


def _run(
    kind: TargetKind,
    url: str,
    level: str,
    timeout: float,
    lease_wait: float,
    json_path: Path | None,
    junit_path: Path | None,
    only: list[str] | None,
    oversize_bytes: int = Options.oversize_bytes,
) -> None:
    if level not in ("must", "should"):
        raise typer.BadParameter("--level is must or should")
    chosen: Literal["must", "should"] = "must" if level == "must" else "should"
    options = Options(timeout=timeout, lease_wait=lease_wait, oversize_bytes=oversize_bytes)
    total = len(select_checks(kind, chosen, only))
    progress = Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=True,
    )
    task = progress.add_task(f"{kind} checks", total=total)

    def started(check: Check) -> None:
        progress.update(task, description=f"{check.name}")

    def finished(result: CheckResult) -> None:
        style = _STYLE[result.status]
        where = f" {result.failed_requirement}" if result.failed_requirement else ""
        ids = " ".join(result.requirements)
        line = f"[{style}]{_MARK[result.status]}[/] {result.name} [dim]{ids}[/]"
        if result.status != "passed":
            line += f"\n      {where.strip() + ': ' if where else ''}{result.message}"
        progress.console.print(line, highlight=False, markup=True)
        progress.advance(task)

    with progress:
        report = asyncio.run(
            run_checks(
                kind,
                url,
                options=options,
                level=chosen,
                only=only,
                on_start=started,
                on_result=finished,
            )
        )
    console.print(render_summary(report))
    counts = ", ".join(f"{n} {status}" for status, n in sorted(report.counts().items()))
    if report.left_behind:
        console.print(
            f"[dim]left behind on the target: {len(report.left_behind)} item(s), e.g. "
            f"{report.left_behind[0]} (all listed in the --json report)[/]"
        )
    if json_path is not None:
        report.write_json(json_path)
    if junit_path is not None:
        report.write_junit(junit_path)
    verdict = (
        "[red]FAILED[/] (a MUST requirement failed)" if report.must_failed else "[green]PASSED[/]"
    )
    console.print(f"{verdict}: {counts}")
    if report.must_failed:
        raise typer.Exit(1)


_LEVEL = typer.Option("should", "--level", help="must: MUST checks only; should: also SHOULD.")
_TIMEOUT = typer.Option(10.0, "--timeout", help="Bound of every request and WebSocket wait (s).")
_LEASE = typer.Option(30.0, "--lease-wait", help="Longest wait for a lease to lapse (s).")
_JSON = typer.Option(None, "--json", help="Write the report as JSON here.")
_JUNIT = typer.Option(None, "--junit", help="Write the checks as JUnit XML here.")
_ONLY = typer.Option(None, "--only", help="Run only checks with this name suffix or ID.")


@app.command("registry")
def registry(
    url: str = typer.Argument(..., help="Base URL of the registry, e.g. http://127.0.0.1:8470."),
    level: str = _LEVEL,
    timeout: float = _TIMEOUT,
    lease_wait: float = _LEASE,
    json_path: Path = _JSON,
    junit_path: Path = _JUNIT,
    only: list[str] = _ONLY,
) -> None:
    """Check a registry (discovery and shared state) at URL; exit 1 when a MUST fails."""
    _run("registry", url, level, timeout, lease_wait, json_path, junit_path, only or None)


@app.command("agent")
def agent(
    url: str = typer.Argument(..., help="Base URL of the agent (serving its agent card)."),
    level: str = _LEVEL,
    timeout: float = _TIMEOUT,
    lease_wait: float = _LEASE,
    json_path: Path = _JSON,
    junit_path: Path = _JUNIT,
    only: list[str] = _ONLY,
    oversize_bytes: int = typer.Option(
        Options.oversize_bytes,
        "--oversize-bytes",
        help="Body size sent to check the agent's body limit (AGT-040); above its limit.",
    ),
) -> None:
    """Check an A2A agent at URL; exit 1 when a MUST fails."""
    _run(
        "agent",
        url,
        level,
        timeout,
        lease_wait,
        json_path,
        junit_path,
        only or None,
        oversize_bytes,
    )


@app.command("requirements")
def requirements(
    target: str = typer.Option(
        None, "--target", help="Only those checkable against registry|agent."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """List the spec's requirements: level, what they are checked against, and by which checks."""
    manifest = load_requirements()
    cited: dict[str, list[str]] = {}
    for kind in SERVER_KINDS:
        for c in checks_for(kind):
            for ident in c.requirements:
                cited.setdefault(ident, []).append(c.name)
    rows = [
        r
        for r in manifest.values()
        if target is None or r.checkable_against(target)  # type: ignore[arg-type]
    ]
    if as_json:
        out = [
            {
                "id": r.id,
                "level": r.level,
                "chapter": r.chapter,
                "appliesTo": list(r.applies),
                "reason": r.reason,
                "checks": cited.get(r.id, []),
            }
            for r in rows
        ]
        typer.echo(json.dumps(out, indent=2))
        return
    table = Table(title="requirements")
    for column in ("requirement", "level", "checked against", "checks or reason"):
        table.add_column(column, overflow="fold")
    for r in rows:
        detail = ", ".join(cited.get(r.id, [])) or r.reason
        table.add_row(r.id, r.level, ", ".join(r.applies), detail)
    console.print(table)


def register_commands(root: typer.Typer) -> None:
    """Add ``conformance`` to the ``woa`` app."""
    root.add_typer(app, name="conformance")
