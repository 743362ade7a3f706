"""Requirement coverage comes from test runs: only a citing test that passed counts."""

from __future__ import annotations

from pathlib import Path

import pytest
from requirement_coverage import spec_requirements

HERE = Path(__file__).resolve().parent

CONFTEST = f"""
import sys
from pathlib import Path

sys.path.insert(0, {str(HERE)!r})
from requirement_coverage import RequirementCoverage


def pytest_configure(config):
    here = Path(__file__).resolve().parent
    config.pluginmanager.register(RequirementCoverage(here.parent / "spec", here))
"""

TESTS = """
import pytest

@pytest.mark.req("XYZ-001")
def test_passes():
    pass

@pytest.mark.req("XYZ-002")
def test_skipped():
    pytest.skip("its server is not there")

@pytest.mark.req("XYZ-003")
@pytest.mark.req("XYZ-001")
def test_also_passes():
    pass
"""


@pytest.fixture
def project(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> pytest.Pytester:
    monkeypatch.setenv("PYTEST_DISABLE_PLUGIN_AUTOLOAD", "1")  # start fast; xdist by -p
    spec = pytester.mkdir("spec")
    (spec / "chapter.md").write_text(
        "- **XYZ-001** (MUST) one\n- **XYZ-002** (MUST) two\n- **XYZ-003** (SHOULD) three\n"
    )
    tests = pytester.mkdir("tests")
    (tests / "conftest.py").write_text(CONFTEST)
    (tests / "test_things.py").write_text(TESTS)
    pytester.makeini("[pytest]\nmarkers =\n    req(id): a requirement\ntestpaths = tests\n")
    return pytester


@pytest.mark.req("MOD-004")
@pytest.mark.parametrize("workers", [[], ["-p", "xdist", "-n", "2"]], ids=["serial", "xdist"])
def test_a_requirement_cited_only_by_a_skipped_test_fails_a_full_run(
    project: pytest.Pytester, workers: list[str]
) -> None:
    result = project.runpytest_subprocess(*workers, "-p", "no:cacheprovider")
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.stdout.fnmatch_lines(["*requirements without a passing test (1): XYZ-002*"])
    result.assert_outcomes(passed=2, skipped=1)


def test_a_full_run_passes_once_every_requirement_has_a_passing_test(
    project: pytest.Pytester,
) -> None:
    (project.path / "tests" / "test_things.py").write_text(
        TESTS.replace('pytest.skip("its server is not there")', "pass")
    )
    result = project.runpytest_subprocess("-p", "no:cacheprovider")
    assert result.ret == pytest.ExitCode.OK
    assert "requirements without" not in result.stdout.str()


@pytest.mark.parametrize("narrowing", [["-k", "passes"], ["tests/test_things.py::test_passes"]])
def test_a_partial_run_is_not_judged(project: pytest.Pytester, narrowing: list[str]) -> None:
    result = project.runpytest_subprocess(*narrowing, "-p", "no:cacheprovider")
    assert result.ret == pytest.ExitCode.OK


def test_a_requirement_defined_twice_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "a.md").write_text("- **XYZ-001** (MUST) one\n")
    (tmp_path / "b.md").write_text("- **XYZ-001** (MUST) again\n")
    with pytest.raises(ValueError, match=r"XYZ-001 defined in a\.md and b\.md"):
        spec_requirements(tmp_path)
