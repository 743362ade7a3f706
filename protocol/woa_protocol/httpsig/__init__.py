"""RFC 9421 HTTP Message Signatures (Ed25519) and RFC 9530 Content-Digest."""

from .components import (
    HttpRequest,
    HttpResponse,
    decode_headers,
    normalize_headers,
    signature_base,
)
from .digest import content_digest, verify_content_digest
from .profile import (
    DEFAULT_LABEL,
    REQUIRED_REQUEST_COMPONENTS,
    REQUIRED_RESPONSE_COMPONENTS,
    REQUIRED_STREAM_COMPONENTS,
    SEMANTIC_REQUEST_FIELDS,
    MessageSigner,
    MessageVerifier,
    VerifiedMessage,
    request_signature_label,
    select_signature,
)
from .signatures import (
    ED25519_ALG,
    ParsedSignature,
    create_signature,
    parse_signatures,
    verify_signature,
)
from .target import request_host, target_uri

__all__ = [
    "DEFAULT_LABEL",
    "ED25519_ALG",
    "REQUIRED_REQUEST_COMPONENTS",
    "REQUIRED_RESPONSE_COMPONENTS",
    "REQUIRED_STREAM_COMPONENTS",
    "SEMANTIC_REQUEST_FIELDS",
    "HttpRequest",
    "HttpResponse",
    "MessageSigner",
    "MessageVerifier",
    "ParsedSignature",
    "VerifiedMessage",
    "content_digest",
    "create_signature",
    "decode_headers",
    "normalize_headers",
    "parse_signatures",
    "request_host",
    "request_signature_label",
    "select_signature",
    "signature_base",
    "target_uri",
    "verify_content_digest",
    "verify_signature",
]
