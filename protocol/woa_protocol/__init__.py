"""Web of Agents protocol core: models, identities, canonical JSON and signatures.

No network, database or web framework here: every other part builds on these functions.
"""

from .canonical import MAX_DEPTH, MAX_SAFE_INTEGER, canonicalize, canonicalize_str
from .cards import VerifiedSignature, card_signing_payload, sign_card, verify_card
from .errors import (
    PROBLEM_TYPES,
    AmbiguousHostError,
    CanonicalizationError,
    CardSignatureError,
    DigestMismatchError,
    DuplicateMemberError,
    InvalidDidError,
    InvalidKeyError,
    InvalidSignatureError,
    MalformedJsonError,
    MissingSignatureError,
    ProblemType,
    SchemaError,
    SignatureExpiredError,
    SignatureNotYetValidError,
    SignatureReplayedError,
    ValidationFailedError,
    WoaError,
)
from .frames import FrameSigner, FrameVerifier
from .httpsig import (
    HttpRequest,
    HttpResponse,
    MessageSigner,
    MessageVerifier,
    VerifiedMessage,
    content_digest,
)
from .identity import SigningKey, VerifyingKey, did_from_public_bytes, did_url, resolve_did
from .replay import ReplayGuard, ReplayPolicy, ReplayStore, replay_key
from .validation import check_schema, ensure_valid, validate_instance

__all__ = [
    "MAX_DEPTH",
    "MAX_SAFE_INTEGER",
    "PROBLEM_TYPES",
    "AmbiguousHostError",
    "CanonicalizationError",
    "CardSignatureError",
    "DigestMismatchError",
    "DuplicateMemberError",
    "FrameSigner",
    "FrameVerifier",
    "HttpRequest",
    "HttpResponse",
    "InvalidDidError",
    "InvalidKeyError",
    "InvalidSignatureError",
    "MessageSigner",
    "MessageVerifier",
    "MalformedJsonError",
    "MissingSignatureError",
    "ProblemType",
    "ReplayGuard",
    "ReplayPolicy",
    "ReplayStore",
    "SchemaError",
    "SignatureExpiredError",
    "SignatureNotYetValidError",
    "SignatureReplayedError",
    "SigningKey",
    "ValidationFailedError",
    "VerifiedMessage",
    "VerifiedSignature",
    "VerifyingKey",
    "WoaError",
    "canonicalize",
    "canonicalize_str",
    "card_signing_payload",
    "check_schema",
    "content_digest",
    "did_from_public_bytes",
    "did_url",
    "ensure_valid",
    "replay_key",
    "resolve_did",
    "sign_card",
    "validate_instance",
    "verify_card",
]
