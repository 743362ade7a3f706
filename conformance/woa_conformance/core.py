"""Checks: small async functions, each citing the requirement IDs it covers.

A check is registered with :func:`check` for one or both target kinds. It receives the
target's :class:`~woa_conformance.target.Target` and signals its outcome by returning
(passed), raising :class:`CheckFailed` through :func:`require` (failed, naming the
requirement the target broke) or :class:`NotApplicable` (skipped, with the reason).
Adding a check for a new requirement ID is one decorated function.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal, NoReturn

if TYPE_CHECKING:
    from .target import Target

__all__ = [
    "CHECKS",
    "Check",
    "CheckFailed",
    "CheckFunction",
    "NotApplicable",
    "TargetKind",
    "check",
    "checks_for",
    "not_applicable",
    "require",
]

TargetKind = Literal["registry", "agent"]
"""What a check runs against: a registry (with its shared state) or an agent."""

CheckFunction = Callable[["Target"], Awaitable[None]]


class CheckFailed(Exception):  # noqa: N818 (outcomes, not errors)
    """The target broke ``requirement`` (or, when None, every ID its check cites)."""

    def __init__(self, requirement: str | None, message: str) -> None:
        super().__init__(message)
        self.requirement = requirement
        self.message = message


class NotApplicable(Exception):  # noqa: N818 (outcomes, not errors)
    """The check cannot apply to this target; ``reason`` says why."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class Check:
    """One registered check: its name, target kind, cited requirement IDs and function."""

    name: str
    kind: TargetKind
    requirements: tuple[str, ...]
    func: CheckFunction
    description: str


CHECKS: list[Check] = []
"""Every registered check, in registration order (the order they run in)."""


def check(
    kinds: TargetKind | Iterable[TargetKind], *requirements: str, name: str | None = None
) -> Callable[[CheckFunction], CheckFunction]:
    """Register the decorated coroutine as a check of ``kinds`` covering ``requirements``."""
    if not requirements:
        raise ValueError("a check cites at least one requirement ID")
    kind_list: list[TargetKind] = [kinds] if isinstance(kinds, str) else list(kinds)

    def register(func: CheckFunction) -> CheckFunction:
        base = name or func.__name__.removeprefix("check_")
        doc = (func.__doc__ or base).strip().splitlines()[0]
        for kind in kind_list:
            full = f"{kind}.{base}"
            if any(c.name == full for c in CHECKS):
                raise ValueError(f"check {full} is registered twice")
            CHECKS.append(Check(full, kind, tuple(requirements), func, doc))
        return func

    return register


def checks_for(kind: TargetKind) -> list[Check]:
    """The checks that run against a target of ``kind``, in order."""
    _load_builtin_checks()
    return [c for c in CHECKS if c.kind == kind]


def require(condition: object, requirement: str, message: str) -> None:
    """Fail the running check, naming ``requirement``, unless ``condition`` holds."""
    if not condition:
        raise CheckFailed(requirement, message)


def not_applicable(reason: str) -> NoReturn:
    """Skip the running check: it does not apply to this target."""
    raise NotApplicable(reason)


def _load_builtin_checks() -> None:
    from . import checks  # noqa: F401  (registers the built-in checks on import)
