"""Problem types (RFC 9457) of the shared-state service, listed in ``spec/state.md``.

Each failure mode has its own ``type`` so that a client can react without parsing ``detail``:
a version mismatch carries ``currentVersion``, a failed batch carries ``operation`` (the
index of the operation that failed).
"""

from __future__ import annotations

from typing import Any

from woa_protocol import WoaError
from woa_protocol.errors import register

__all__ = [
    "AlreadyExistsError",
    "DocumentNotFoundError",
    "ForbiddenError",
    "InvalidPatchError",
    "NamespaceNotFoundError",
    "PatchTestFailedError",
    "PreconditionRequiredError",
    "QuotaExceededError",
    "StateError",
    "VersionMismatchError",
]


class StateError(WoaError):
    """Base class of the state service's errors (never raised itself)."""


class VersionMismatchError(StateError):
    """``If-Match`` names another version than the document's current one."""

    problem = register("state-version-mismatch", 412, "Document version does not match")

    def __init__(self, detail: str, current_version: int | None, **extra: Any) -> None:
        super().__init__(detail, currentVersion=current_version, **extra)
        self.current_version = current_version


class AlreadyExistsError(StateError):
    """``If-None-Match: *`` (create only) on a document that exists."""

    problem = register("state-already-exists", 412, "Document already exists")

    def __init__(self, detail: str, current_version: int, **extra: Any) -> None:
        super().__init__(detail, currentVersion=current_version, **extra)
        self.current_version = current_version


class PreconditionRequiredError(StateError):
    """A write without the precondition it needs (``If-Match`` or ``If-None-Match: *``)."""

    problem = register("state-precondition-required", 428, "Precondition required")


class InvalidPatchError(StateError):
    """The JSON Patch (RFC 6902) is malformed or cannot be applied to the document."""

    problem = register("state-invalid-patch", 422, "Invalid JSON Patch")


class PatchTestFailedError(StateError):
    """A ``test`` operation of the JSON Patch did not hold."""

    problem = register("state-patch-test-failed", 409, "JSON Patch test failed")


class ForbiddenError(StateError):
    """The signer (or an anonymous caller) is not allowed this access by the namespace ACL."""

    problem = register("state-forbidden", 403, "Not allowed by the namespace ACL")


class NamespaceNotFoundError(StateError):
    """No namespace of that name exists."""

    problem = register("state-namespace-not-found", 404, "Namespace not found")


class DocumentNotFoundError(StateError):
    """No live document under that key (never written, deleted or expired)."""

    problem = register("state-document-not-found", 404, "Document not found")


class QuotaExceededError(StateError):
    """A document, a namespace or a batch would exceed its size quota."""

    problem = register("state-too-large", 413, "State quota exceeded")

    def __init__(self, detail: str, *, limit: int, size: int, **extra: Any) -> None:
        super().__init__(detail, limit=limit, size=size, **extra)
