"""The requirements manifest, in both directions: every checkable ID has a check, and back."""

from __future__ import annotations

import pytest

import woa_conformance
from woa_conformance import checks_for, load_requirements
from woa_conformance.manifest import SERVER_KINDS, ManifestError, problem_statuses

_MODULES = ("core", "manifest", "report", "runner", "target", "checks")


def test_public_api() -> None:
    assert sorted(woa_conformance.__all__) == sorted(
        n for n in dir(woa_conformance) if not n.startswith("_") and n not in _MODULES
    )


def test_every_spec_requirement_is_classified() -> None:
    requirements = load_requirements()
    assert len(requirements) >= 140
    for req in requirements.values():
        assert req.applies, req.id
        if not any(kind in req.applies for kind in SERVER_KINDS):
            assert req.reason, f"{req.id} is not server-checkable and gives no reason"


def test_every_server_checkable_requirement_has_a_check() -> None:
    requirements = load_requirements()
    missing = []
    for kind in SERVER_KINDS:
        cited = {i for c in checks_for(kind) for i in c.requirements}
        for req in requirements.values():
            if (
                req.level in ("MUST", "SHOULD")
                and req.checkable_against(kind)
                and req.id not in cited
            ):
                missing.append(f"{kind}:{req.id}")
    assert not missing, f"server-checkable requirements no check cites: {missing}"


def test_every_cited_id_exists() -> None:
    requirements = load_requirements()
    every_check = [c for kind in SERVER_KINDS for c in checks_for(kind)]
    unknown = sorted(
        {f"{c.name}: {i}" for c in every_check for i in c.requirements}
        - {f"{c.name}: {i}" for c in every_check for i in c.requirements if i in requirements}
    )
    assert not unknown, f"checks cite IDs the spec does not define: {unknown}"


def test_check_names_are_unique_and_documented() -> None:
    for kind in SERVER_KINDS:
        names = [c.name for c in checks_for(kind)]
        assert len(names) == len(set(names))
        assert all(c.description for c in checks_for(kind))


def test_unclassified_ids_are_refused(tmp_path) -> None:
    (tmp_path / "x.md").write_text("- **NEW-001** (MUST) something a server does.\n")
    with pytest.raises(ManifestError, match="NEW-001"):
        load_requirements(tmp_path)
    (tmp_path / "conformance.md").write_text("| `NEW-001` | library | |\n")
    with pytest.raises(ManifestError, match="reason"):
        load_requirements(tmp_path)
    (tmp_path / "conformance.md").write_text(
        "| `NEW-001` | registry | a probe |\n| `OLD-001` | agent | x |\n"
    )
    with pytest.raises(ManifestError, match="OLD-001"):
        load_requirements(tmp_path)


def test_problem_table_is_read_from_the_errors_chapter() -> None:
    statuses = problem_statuses()
    assert statuses["urn:woa:problem:signature-replayed"] == 401
    assert statuses["urn:woa:problem:state-version-mismatch"] == 412
