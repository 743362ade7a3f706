"""Verdicts by requirement, and the JSON and JUnit renderings of a report."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from woa_conformance import CheckResult, Report, check, load_requirements, require
from woa_conformance.core import CHECKS, CheckFailed


def _report(*results: CheckResult, level: str = "should") -> Report:
    return Report("registry", "http://x.test", level, load_requirements(), list(results))  # type: ignore[arg-type]


def test_a_requirement_passes_only_when_a_check_citing_it_passed() -> None:
    report = _report(
        CheckResult("registry.a", ("REG-001", "REG-002"), "passed"),
        CheckResult("registry.b", ("REG-003", "REG-004"), "failed", "boom", "REG-003"),
        CheckResult("registry.c", ("REG-080",), "not-applicable", "why not"),
        CheckResult("registry.d", ("REG-081",), "error", "timed out"),
    )
    verdicts = report.verdicts()
    assert verdicts["REG-001"].status == verdicts["REG-002"].status == "passed"
    assert verdicts["REG-003"].status == "failed"
    assert "boom" in verdicts["REG-003"].message
    assert verdicts["REG-004"].status == "inconclusive"  # its check stopped on REG-003
    assert verdicts["REG-080"].status == "not-applicable"
    assert verdicts["REG-080"].message == "why not"
    assert verdicts["REG-081"].status == "failed"  # an error fails every ID its check cites
    assert verdicts["REG-010"].status == "not-run"
    assert "AGT-001" not in verdicts  # another target kind
    assert report.must_failed


def test_a_failure_in_one_check_outweighs_a_pass_in_another() -> None:
    report = _report(
        CheckResult("registry.a", ("REG-001",), "passed"),
        CheckResult("registry.b", ("REG-001",), "failed", "no", "REG-001"),
    )
    assert report.verdicts()["REG-001"].status == "failed"


def test_should_failures_alone_do_not_fail_the_run() -> None:
    report = _report(CheckResult("registry.a", ("REG-074",), "failed", "long", "REG-074"))
    assert report.verdicts()["REG-074"].status == "failed"
    assert not report.must_failed
    assert "REG-074" not in _report(level="must").verdicts()


def test_json_and_junit(tmp_path: Path) -> None:
    report = _report(
        CheckResult("registry.a", ("REG-001",), "passed", seconds=0.5),
        CheckResult("registry.b", ("REG-003",), "failed", "bad binding", "REG-003"),
        CheckResult("registry.c", ("REG-080",), "not-applicable", "why not"),
    )
    report.left_behind.append("namespace x")
    report.write_json(tmp_path / "r.json")
    data = json.loads((tmp_path / "r.json").read_text())
    assert data["passed"] is False
    assert data["leftBehind"] == ["namespace x"]
    assert {r["id"]: r["status"] for r in data["requirements"]}["REG-003"] == "failed"
    report.write_junit(tmp_path / "r.xml")
    suite = ET.parse(tmp_path / "r.xml").getroot()
    assert (suite.get("tests"), suite.get("failures"), suite.get("skipped")) == ("3", "1", "1")
    failure = suite.find("testcase[@name='registry.b [REG-003]']/failure")
    assert failure is not None
    assert failure.get("message", "").startswith("REG-003: bad binding")


def test_checks_cite_ids_and_register_once() -> None:
    with pytest.raises(ValueError, match="at least one"):
        check("registry")
    before = len(CHECKS)

    @check("registry", "REG-001", name="extra_probe_for_test")
    async def probe(target: object) -> None:
        require(False, "REG-001", "nope")

    try:
        assert CHECKS[-1].name == "registry.extra_probe_for_test"
        assert CHECKS[-1].description == "extra_probe_for_test"
        with pytest.raises(ValueError, match="twice"):
            check("registry", "REG-001", name="extra_probe_for_test")(probe)
        with pytest.raises(CheckFailed) as info:
            require(0, "REG-001", "nope")
        assert info.value.requirement == "REG-001"
    finally:
        del CHECKS[before:]
