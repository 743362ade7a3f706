from __future__ import annotations

import re

import pytest

import woa_protocol.errors as errors_module
from woa_protocol.errors import (
    PROBLEM_BASE,
    PROBLEM_TYPES,
    DigestMismatchError,
    InvalidSignatureError,
    ProblemType,
    SignatureExpiredError,
    SignatureNotYetValidError,
    SignatureReplayedError,
    ValidationFailedError,
    WoaError,
    register,
)

from ._support import SPEC_DIR

CORE_PROBLEM_TYPES = {
    "internal-error": 500,
    "not-canonicalizable": 422,
    "malformed-json": 400,
    "duplicate-member-name": 400,
    "ambiguous-host": 400,
    "invalid-did": 400,
    "invalid-key": 400,
    "invalid-card-signature": 401,
    "signature-missing": 401,
    "signature-invalid": 401,
    "content-digest-mismatch": 401,
    "signature-expired": 401,
    "signature-not-yet-valid": 401,
    "signature-replayed": 401,
    "invalid-schema": 422,
    "validation-failed": 422,
}
"""The protocol core's problem types and statuses, as spec/errors.md lists them."""

ERROR_CLASSES = [
    obj
    for obj in vars(errors_module).values()
    if isinstance(obj, type) and issubclass(obj, WoaError)
]


@pytest.mark.req("ERR-001")
def test_problem_document_has_the_rfc9457_members() -> None:
    error = SignatureExpiredError("signature expired 12s ago")
    assert error.to_problem() == {
        "type": "urn:woa:problem:signature-expired",
        "title": "HTTP message signature expired",
        "status": 401,
        "detail": "signature expired 12s ago",
    }
    assert error.to_problem(instance="/agents")["instance"] == "/agents"
    assert str(error) == error.detail


@pytest.mark.req("ERR-001")
def test_extension_members_are_added() -> None:
    error = WoaError("boom", retry_after=3)
    assert error.to_problem()["retry_after"] == 3
    failed = ValidationFailedError("bad", [{"path": "$", "message": "m"}])
    assert failed.to_problem()["errors"] == [{"path": "$", "message": "m"}]


@pytest.mark.req("ERR-001")
@pytest.mark.parametrize("cls", ERROR_CLASSES, ids=lambda c: c.__name__)
def test_every_error_class_names_a_registered_urn(cls: type[WoaError]) -> None:
    problem = cls.problem
    assert PROBLEM_TYPES[problem.slug] is problem
    assert problem.uri == PROBLEM_BASE + problem.slug
    assert re.fullmatch(r"urn:woa:problem:[a-z0-9]+(-[a-z0-9]+)*", problem.uri)
    assert 400 <= problem.status <= 599
    assert problem.title


@pytest.mark.req("ERR-002")
def test_core_problem_types_are_exactly_the_specified_ones() -> None:
    core = {cls.problem.slug: cls.problem.status for cls in ERROR_CLASSES}
    assert core == CORE_PROBLEM_TYPES
    text = (SPEC_DIR / "errors.md").read_text(encoding="utf-8")
    rows = dict(re.findall(r"^\| `urn:woa:problem:([a-z0-9-]+)` \| (\d{3}) \|", text, re.MULTILINE))
    for slug, status in CORE_PROBLEM_TYPES.items():
        assert rows.get(slug) == str(status), slug


@pytest.mark.req("ERR-002")
def test_register_is_idempotent_and_refuses_redefinition() -> None:
    slug = "test-only-problem-for-register"
    try:
        first = register(slug, 418, "Teapot")
        assert register(slug, 418, "Teapot") == first
        with pytest.raises(ValueError, match="already registered"):
            register(slug, 400, "Teapot")
        with pytest.raises(ValueError, match="already registered"):
            register("signature-expired", 400, "HTTP message signature expired")
        assert PROBLEM_TYPES["signature-expired"] == ProblemType(
            "signature-expired", 401, "HTTP message signature expired"
        )
    finally:
        PROBLEM_TYPES.pop(slug, None)


def test_signature_failures_share_a_base_class() -> None:
    for cls in (
        DigestMismatchError,
        SignatureExpiredError,
        SignatureNotYetValidError,
        SignatureReplayedError,
    ):
        assert issubclass(cls, InvalidSignatureError)
    assert issubclass(ValidationFailedError, ValueError)
