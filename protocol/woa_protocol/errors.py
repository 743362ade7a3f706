"""Errors with stable RFC 9457 problem types.

Every error the protocol core raises is a :class:`WoaError` subclass that names its problem
type. Servers turn it into ``application/problem+json`` with :meth:`WoaError.to_problem`;
the list of types is normative and is reproduced in ``spec/errors.md``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

__all__ = [
    "PROBLEM_BASE",
    "PROBLEM_TYPES",
    "AmbiguousHostError",
    "CanonicalizationError",
    "CardSignatureError",
    "DigestMismatchError",
    "DuplicateMemberError",
    "InvalidDidError",
    "InvalidKeyError",
    "InvalidSignatureError",
    "MalformedJsonError",
    "MissingSignatureError",
    "ProblemType",
    "SchemaError",
    "SignatureExpiredError",
    "SignatureNotYetValidError",
    "SignatureReplayedError",
    "ValidationFailedError",
    "WoaError",
    "register",
]

PROBLEM_BASE = "urn:woa:problem:"
"""Prefix of every problem ``type`` URI this project defines."""


@dataclass(frozen=True)
class ProblemType:
    """One entry of the problem-type registry."""

    slug: str
    status: int
    title: str

    @property
    def uri(self) -> str:
        """The stable ``type`` URI, e.g. ``urn:woa:problem:signature-expired``."""
        return PROBLEM_BASE + self.slug


PROBLEM_TYPES: dict[str, ProblemType] = {}
"""Every problem type, by slug. Later layers (registry, agents) add theirs with ``register``."""


def register(slug: str, status: int, title: str) -> ProblemType:
    """Add a problem type to the registry (idempotent for identical entries)."""
    entry = ProblemType(slug, status, title)
    existing = PROBLEM_TYPES.setdefault(slug, entry)
    if existing != entry:
        raise ValueError(f"problem type {slug!r} is already registered as {existing}")
    return entry


class WoaError(Exception):
    """Base class: an error that maps to one problem type."""

    problem: ClassVar[ProblemType] = register("internal-error", 500, "Internal error")

    def __init__(self, detail: str, **extensions: Any) -> None:
        super().__init__(detail)
        self.detail = detail
        self.extensions = extensions

    def to_problem(self, instance: str | None = None) -> dict[str, Any]:
        """Return the RFC 9457 problem details object for this error."""
        body: dict[str, Any] = {
            "type": self.problem.uri,
            "title": self.problem.title,
            "status": self.problem.status,
            "detail": self.detail,
        }
        if instance is not None:
            body["instance"] = instance
        body.update(self.extensions)
        return body


class CanonicalizationError(WoaError, ValueError):
    """A value has no RFC 8785 canonical form (NaN, huge integer, lone surrogate, ...)."""

    problem = register("not-canonicalizable", 422, "Value has no RFC 8785 canonical form")


class MalformedJsonError(WoaError, ValueError):
    """A body or document is not JSON (or not UTF-8)."""

    problem = register("malformed-json", 400, "Malformed JSON body")


class DuplicateMemberError(MalformedJsonError):
    """An object names one member twice, which I-JSON (RFC 7493) forbids (spec JCS-006).

    ``path`` is the JSON path of the object, ``name`` the repeated member name.
    """

    problem = register("duplicate-member-name", 400, "Duplicate JSON member name")


class InvalidDidError(WoaError, ValueError):
    """A string is not a did:key for an Ed25519 public key."""

    problem = register("invalid-did", 400, "Invalid did:key")


class InvalidKeyError(WoaError, ValueError):
    """Key material cannot be parsed or is not Ed25519."""

    problem = register("invalid-key", 400, "Invalid key")


class AmbiguousHostError(WoaError, ValueError):
    """A request carries more than one ``Host`` field line (RFC 9112 §3.2; spec MSG-011)."""

    problem = register("ambiguous-host", 400, "More than one Host header field")


class CardSignatureError(WoaError):
    """An agent card has no valid JWS signature by the expected key."""

    problem = register("invalid-card-signature", 401, "Agent card signature invalid")


class MissingSignatureError(WoaError):
    """A message that must be signed carries no (usable) Signature/Signature-Input."""

    problem = register("signature-missing", 401, "HTTP message signature missing")


class InvalidSignatureError(WoaError):
    """An RFC 9421 signature is malformed, covers too little, or does not verify."""

    problem = register("signature-invalid", 401, "HTTP message signature invalid")


class DigestMismatchError(InvalidSignatureError):
    """The Content-Digest field does not match the body (RFC 9530)."""

    problem = register("content-digest-mismatch", 401, "Content-Digest does not match body")


class SignatureExpiredError(InvalidSignatureError):
    """The signature's ``expires`` (or its validity window) lies in the past."""

    problem = register("signature-expired", 401, "HTTP message signature expired")


class SignatureNotYetValidError(InvalidSignatureError):
    """The signature's ``created`` lies in the future beyond the allowed clock skew."""

    problem = register("signature-not-yet-valid", 401, "HTTP message signature not yet valid")


class SignatureReplayedError(InvalidSignatureError):
    """The (keyid, nonce) pair was already seen inside the validity window."""

    problem = register("signature-replayed", 401, "HTTP message signature replayed")


class SchemaError(WoaError, ValueError):
    """A JSON Schema is itself invalid (not a valid Draft 2020-12 schema)."""

    problem = register("invalid-schema", 422, "Invalid JSON Schema")


class ValidationFailedError(WoaError, ValueError):
    """A payload does not satisfy a JSON Schema; ``errors`` lists each failing path."""

    problem = register("validation-failed", 422, "Payload fails schema validation")

    def __init__(self, detail: str, errors: list[dict[str, str]]) -> None:
        super().__init__(detail, errors=errors)
        self.errors = errors
