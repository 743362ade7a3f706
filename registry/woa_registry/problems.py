"""Registry problem types (RFC 9457) and their rendering as ``application/problem+json``.

The protocol core defines the signature and card errors; the registry adds the ones below.
Every type URI is ``urn:woa:problem:<slug>`` and is listed in ``spec/registry.md``.
"""

from __future__ import annotations

from woa_protocol import WoaError
from woa_protocol.errors import MalformedJsonError, register

__all__ = [
    "PROBLEM_CONTENT_TYPE",
    "AgentConflictError",
    "AgentNotFoundError",
    "CardFetchError",
    "DidMismatchError",
    "InvalidCardError",
    "InvalidCursorError",
    "InvalidRequestError",
    "LeaseOutOfRangeError",
    "MalformedJsonError",
    "MethodNotAllowedError",
    "NotFoundError",
    "PayloadTooLargeError",
    "RateLimitedError",
    "UnsafeUrlError",
    "UrlRegistrationDisabledError",
]

PROBLEM_CONTENT_TYPE = "application/problem+json"


class InvalidRequestError(WoaError):
    """The body or query parameters do not match the documented schema."""

    problem = register("invalid-request", 422, "Request does not match its schema")

    def __init__(self, detail: str, errors: list[dict[str, str]] | None = None) -> None:
        super().__init__(detail, errors=errors or [])


class InvalidCardError(WoaError):
    """The agent card is not a valid A2A card carrying a valid Web of Agents extension."""

    problem = register("invalid-card", 422, "Agent card is not schema-valid")

    def __init__(self, detail: str, errors: list[dict[str, str]] | None = None) -> None:
        super().__init__(detail, errors=errors or [])


class DidMismatchError(WoaError):
    """The request signer, the path and the card extension do not name the same DID."""

    problem = register("did-mismatch", 403, "DID mismatch")


class AgentNotFoundError(WoaError):
    """No agent with this DID is registered."""

    problem = register("agent-not-found", 404, "Agent not found")


class AgentConflictError(WoaError):
    """A URL registration would overwrite an agent that registered itself (verified)."""

    problem = register("agent-conflict", 409, "Agent already registered by its key holder")


class LeaseOutOfRangeError(WoaError):
    """The requested lease lies outside the server's bounds."""

    problem = register("lease-out-of-range", 422, "Lease out of range")


class PayloadTooLargeError(WoaError):
    """The request body exceeds the server's limit."""

    problem = register("payload-too-large", 413, "Payload too large")


class RateLimitedError(WoaError):
    """Too many requests from one address or one DID; retry after ``retry_after`` seconds."""

    problem = register("rate-limited", 429, "Too many requests")

    def __init__(self, detail: str, retry_after: int) -> None:
        super().__init__(detail, retryAfter=retry_after)
        self.retry_after = retry_after


class InvalidCursorError(WoaError):
    """A search cursor was not issued by this registry (or is corrupt)."""

    problem = register("invalid-cursor", 400, "Invalid cursor")


class UrlRegistrationDisabledError(WoaError):
    """Registration by URL is turned off on this registry."""

    problem = register("url-registration-disabled", 403, "Registration by URL is disabled")


class UnsafeUrlError(WoaError):
    """The URL is not http(s) or resolves to an address the SSRF filter refuses."""

    problem = register("unsafe-url", 422, "URL refused")


class CardFetchError(WoaError):
    """The agent card could not be fetched from the given URL."""

    problem = register("card-fetch-failed", 502, "Agent card could not be fetched")


class NotFoundError(WoaError):
    """No such resource (route)."""

    problem = register("not-found", 404, "Not found")


class MethodNotAllowedError(WoaError):
    """The route exists but not with this method."""

    problem = register("method-not-allowed", 405, "Method not allowed")
