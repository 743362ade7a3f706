"""Requirement coverage from test runs: a requirement counts once a test citing it passed.

Each test names what it checks with ``@pytest.mark.req("ID")``. This plugin copies those
IDs into the test's report (``user_properties``, which pytest-xdist carries from its
workers), collects the IDs of tests whose call phase passed (a skipped, failed or
deselected test counts for nothing) and, at the end of a full run (no ``-k``, ``-m``,
``--lf``, ``--deselect`` and no path narrower than the test root), fails the session if a
requirement of ``spec/`` has no passing test.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

__all__ = ["REQUIREMENT", "RequirementCoverage", "spec_requirements"]

REQUIREMENT = re.compile(r"^- \*\*([A-Z]+-\d{3})\*\* \((MUST|SHOULD|MAY)\)", re.MULTILINE)


def spec_requirements(spec: Path) -> dict[str, str]:
    """Return every requirement ID of ``spec/*.md`` and the chapter that defines it."""
    found: dict[str, str] = {}
    for chapter in sorted(spec.glob("*.md")):
        for match in REQUIREMENT.finditer(chapter.read_text(encoding="utf-8")):
            ident = match.group(1)
            if ident in found:
                raise ValueError(f"{ident} defined in {found[ident]} and {chapter.name}")
            found[ident] = chapter.name
    return found


class RequirementCoverage:
    """The pytest plugin; ``root`` is the test root a full run starts from."""

    def __init__(self, spec: Path, root: Path) -> None:
        self.spec = spec
        self.root = root.resolve()
        self.passed: set[str] = set()

    @pytest.hookimpl(trylast=True)
    def pytest_collection_modifyitems(self, items: list[pytest.Item]) -> None:
        """Record each test's requirement IDs in its reports."""
        for item in items:
            for marker in item.iter_markers("req"):
                item.user_properties.append(("req", str(marker.args[0])))

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        """Count the IDs of a test whose call passed (under xdist: on the controller too)."""
        if report.when == "call" and report.passed:
            self.passed.update(str(v) for k, v in report.user_properties if k == "req")

    def full_run(self, config: pytest.Config) -> bool:
        """Whether every test under the root was selected."""
        option = config.option
        narrowed = (
            getattr(option, "collectonly", False)
            or option.markexpr
            or option.keyword
            or getattr(option, "lf", False)
            or getattr(option, "deselect", None)
        )
        if narrowed:
            return False
        paths = [Path(str(arg).split("::", 1)[0]).resolve() for arg in config.args]
        return all(path == self.root or path in self.root.parents for path in paths)

    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        """Fail a full run in which some requirement has no passing test."""
        if hasattr(session.config, "workerinput") or not self.full_run(session.config):
            return  # a worker reports to the controller, which decides
        if session.testscollected == 0:
            return
        missing = sorted(set(spec_requirements(self.spec)) - self.passed)
        if not missing:
            return
        reporter = session.config.pluginmanager.get_plugin("terminalreporter")
        if reporter is not None:
            reporter.write_line(
                f"requirements without a passing test ({len(missing)}): {', '.join(missing)}",
                red=True,
            )
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
