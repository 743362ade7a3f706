"""Web of Agents conformance suite: check any registry or agent URL against spec/, by ID.

    report = await run_checks("registry", "http://127.0.0.1:8470")
    report.must_failed        # True when a MUST requirement failed
    report.verdicts()         # requirement ID -> passed / failed / not-applicable / ...

Checks are small functions citing the requirement IDs they cover (:func:`check`); the
requirements manifest (:func:`load_requirements`) says which IDs a server can show.
"""

from .core import (
    CHECKS,
    Check,
    CheckFailed,
    NotApplicable,
    TargetKind,
    check,
    checks_for,
    not_applicable,
    require,
)
from .manifest import ManifestError, Requirement, load_requirements
from .report import CheckResult, Report, RequirementResult
from .runner import run_checks, select_checks
from .target import Options, Reply, Target

__all__ = [
    "CHECKS",
    "Check",
    "CheckFailed",
    "CheckResult",
    "ManifestError",
    "NotApplicable",
    "Options",
    "Reply",
    "Report",
    "Requirement",
    "RequirementResult",
    "Target",
    "TargetKind",
    "check",
    "checks_for",
    "load_requirements",
    "not_applicable",
    "require",
    "run_checks",
    "select_checks",
]
