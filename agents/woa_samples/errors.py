"""Errors of the sample agents' model layer: a missing extra, a weight file that fails its check."""

from __future__ import annotations

__all__ = ["MissingExtraError", "WeightChecksumError"]


class MissingExtraError(ImportError):
    """A model runtime is not installed; the message names the extra that installs it."""

    def __init__(self, extra: str, module: str, hint: str | None = None) -> None:
        how = hint or f"pip install 'web-of-agents[{extra}]'"
        super().__init__(
            f"{module} is not installed: install the {extra!r} extra ({how})", name=module
        )
        self.extra = extra
        self.module = module


class WeightChecksumError(RuntimeError):
    """A weight file's SHA-256 differs from the pinned value: the file is refused."""

    def __init__(self, path: str, expected: str, actual: str) -> None:
        super().__init__(
            f"refusing {path}: its SHA-256 is {actual}, the pinned value is {expected}"
        )
        self.path = path
        self.expected = expected
        self.actual = actual
