"""Every ID a test cites exists in spec/; the spec files generated from the code are current.

Whether every requirement is covered is decided by the test run itself: a requirement
counts only when a test citing it ran and passed (``requirement_coverage``, registered by
``tests/conftest.py``).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from requirement_coverage import spec_requirements

ROOT = Path(__file__).resolve().parents[1]
SPEC = ROOT / "spec"
CITATION = re.compile(r"""mark\.req\(\s*["']([A-Z]+-\d{3})["']""")


def _requirements() -> dict[str, str]:
    return spec_requirements(SPEC)


def _citations() -> set[str]:
    cited: set[str] = set()
    for path in (ROOT / "tests").rglob("*.py"):
        if path.name == "test_requirement_coverage.py":  # cites a made-up spec of its own
            continue
        cited.update(CITATION.findall(path.read_text(encoding="utf-8")))
    return cited


def test_spec_defines_requirements() -> None:
    assert len(_requirements()) >= 40


def test_every_citation_names_a_requirement() -> None:
    unknown = sorted(_citations() - set(_requirements()))
    assert not unknown, f"tests cite IDs the spec does not define: {unknown}"


@pytest.mark.req("MOD-004")
def test_generated_spec_files_match_the_code() -> None:
    from woa_cli.spec import expected_files

    drift = [
        str(path.relative_to(ROOT))
        for path, text in expected_files(SPEC).items()
        if not path.exists() or path.read_text(encoding="utf-8") != text
    ]
    assert not drift, f"run `woa spec generate`: {drift}"


@pytest.mark.req("ERR-002")
def test_error_table_lists_every_problem_type() -> None:
    from woa_cli.spec import render_error_table
    from woa_protocol.errors import PROBLEM_TYPES

    table = render_error_table()
    text = (SPEC / "errors.md").read_text(encoding="utf-8")
    assert table in text
    for entry in PROBLEM_TYPES.values():
        assert f"| `{entry.uri}` | {entry.status} |" in text
