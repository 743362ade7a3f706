"""What a run found: one result per check, one verdict per requirement, JSON and JUnit XML.

A requirement *passed* only when a check citing it ran and passed and none failed it; it
*failed* when a check failed naming it (or failed without naming any one of its IDs);
it is *inconclusive* when its checks stopped on another requirement first, *not
applicable* when every check citing it said why it does not apply, and *not run* when no
selected check cites it.
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

from .core import TargetKind
from .manifest import Requirement

__all__ = ["CheckResult", "CheckStatus", "Report", "RequirementResult", "RequirementStatus"]

CheckStatus = Literal["passed", "failed", "error", "not-applicable"]
RequirementStatus = Literal["passed", "failed", "inconclusive", "not-applicable", "not-run"]


@dataclass(frozen=True)
class CheckResult:
    """The outcome of one check."""

    name: str
    requirements: tuple[str, ...]
    status: CheckStatus
    message: str = ""
    failed_requirement: str | None = None
    seconds: float = 0.0
    description: str = ""

    def fails(self, requirement: str) -> bool:
        """True when this result counts against ``requirement``."""
        if self.status not in ("failed", "error"):
            return False
        return self.failed_requirement in (None, requirement)


@dataclass(frozen=True)
class RequirementResult:
    """The verdict on one requirement, and the checks behind it."""

    id: str
    level: str
    status: RequirementStatus
    checks: tuple[str, ...]
    message: str = ""


@dataclass
class Report:
    """One run against one target."""

    kind: TargetKind
    url: str
    level: Literal["must", "should"]
    requirements: dict[str, Requirement]
    results: list[CheckResult] = field(default_factory=list)
    left_behind: list[str] = field(default_factory=list)

    def verdicts(self) -> dict[str, RequirementResult]:
        """The verdict on every requirement of this target kind at the selected level."""
        wanted = {
            r.id
            for r in self.requirements.values()
            if r.checkable_against(self.kind) and _selected(r.level, self.level)
        }
        cited = {i for result in self.results for i in result.requirements}
        out: dict[str, RequirementResult] = {}
        for ident in sorted(wanted | (cited & set(self.requirements))):
            req = self.requirements[ident]
            if not _selected(req.level, self.level):
                continue
            results = [r for r in self.results if ident in r.requirements]
            out[ident] = _verdict(req, results)
        return out

    @property
    def must_failed(self) -> bool:
        """True when a MUST requirement failed (the exit status is then non-zero)."""
        return any(v.status == "failed" and v.level == "MUST" for v in self.verdicts().values())

    def counts(self) -> dict[str, int]:
        """How many requirements ended in each status."""
        counts: dict[str, int] = {}
        for verdict in self.verdicts().values():
            counts[verdict.status] = counts.get(verdict.status, 0) + 1
        return counts

    def to_json(self) -> dict[str, Any]:
        """The report as a JSON object (what ``--json`` writes)."""
        return {
            "target": {"kind": self.kind, "url": self.url},
            "level": self.level,
            "passed": not self.must_failed,
            "counts": self.counts(),
            "requirements": [asdict(v) for v in self.verdicts().values()],
            "checks": [asdict(r) for r in self.results],
            "leftBehind": self.left_behind,
        }

    def write_json(self, path: Path) -> None:
        """Write :meth:`to_json` to ``path``."""
        path.write_text(json.dumps(self.to_json(), indent=2) + "\n", encoding="utf-8")

    def to_junit(self) -> ET.Element:
        """The checks as a JUnit XML ``testsuite`` (requirement IDs in each case's name)."""
        failures = sum(r.status == "failed" for r in self.results)
        errors = sum(r.status == "error" for r in self.results)
        skipped = sum(r.status == "not-applicable" for r in self.results)
        suite = ET.Element(
            "testsuite",
            name=f"woa-conformance-{self.kind}",
            tests=str(len(self.results)),
            failures=str(failures),
            errors=str(errors),
            skipped=str(skipped),
            time=f"{sum(r.seconds for r in self.results):.3f}",
        )
        props = ET.SubElement(suite, "properties")
        ET.SubElement(props, "property", name="url", value=self.url)
        ET.SubElement(props, "property", name="level", value=self.level)
        for result in self.results:
            case = ET.SubElement(
                suite,
                "testcase",
                classname=f"woa_conformance.{self.kind}",
                name=f"{result.name} [{' '.join(result.requirements)}]",
                time=f"{result.seconds:.3f}",
            )
            if result.status in ("failed", "error"):
                tag = "failure" if result.status == "failed" else "error"
                where = result.failed_requirement or ", ".join(result.requirements)
                element = ET.SubElement(case, tag, message=f"{where}: {result.message}"[:500])
                element.text = result.message
            elif result.status == "not-applicable":
                ET.SubElement(case, "skipped", message=result.message)
        return suite

    def write_junit(self, path: Path) -> None:
        """Write :meth:`to_junit` to ``path``."""
        tree = ET.ElementTree(self.to_junit())
        ET.indent(tree)
        tree.write(path, encoding="utf-8", xml_declaration=True)


def _selected(level: str, chosen: str) -> bool:
    return level == "MUST" or (chosen == "should" and level == "SHOULD")


def _verdict(req: Requirement, results: list[CheckResult]) -> RequirementResult:
    names = tuple(r.name for r in results)
    failing = [r for r in results if r.fails(req.id)]
    if failing:
        first = failing[0]
        return RequirementResult(
            req.id, req.level, "failed", names, f"{first.name}: {first.message}"
        )
    if any(r.status == "passed" for r in results):
        return RequirementResult(req.id, req.level, "passed", names)
    stopped = [r for r in results if r.status in ("failed", "error")]
    if stopped:
        first = stopped[0]
        message = f"{first.name} stopped on {first.failed_requirement}: {first.message}"
        return RequirementResult(req.id, req.level, "inconclusive", names, message)
    if results:
        return RequirementResult(req.id, req.level, "not-applicable", names, results[0].message)
    return RequirementResult(req.id, req.level, "not-run", names, "no selected check cites it")
