"""Errors of the A2A JSON-RPC binding, and what the client raises.

Codes are A2A 1.0's (JSON-RPC's own -32700..-32603 and A2A's -32001..-32009), plus two in
the implementation-defined server range for signed messaging (spec AGT-030): -32050 when a
request's signature is missing or does not verify, -32051 when the verified caller is not
allowed. ``data`` follows a2a-sdk: a list of typed details, first a
``google.rpc.ErrorInfo`` (``reason``, ``domain``, ``metadata``), then for schema failures a
``google.rpc.BadRequest`` whose ``fieldViolations`` name each failing JSON path.

Everything the SDK's clients raise derives from :class:`woa_protocol.WoaError`, the root the
protocol core's own errors (signatures, DIDs, cards) already share: ``except WoaError``
catches any failure of a call, a registry or a state request. Transport failures are
wrapped (:class:`TransportError`, the httpx error as ``__cause__``), as httpx wraps its own.
"""

from __future__ import annotations

from typing import Any

from woa_protocol import WoaError

__all__ = [
    "BAD_REQUEST_TYPE",
    "ERROR_INFO_TYPE",
    "AgentCallError",
    "AgentIdentityError",
    "AgentUnreachableError",
    "JsonRpcCode",
    "NoAgentAvailableError",
    "RpcError",
    "SkillOutputError",
    "TransportError",
    "WoaError",
]

ERROR_INFO_TYPE = "type.googleapis.com/google.rpc.ErrorInfo"
BAD_REQUEST_TYPE = "type.googleapis.com/google.rpc.BadRequest"
A2A_DOMAIN = "a2a-protocol.org"
WOA_DOMAIN = "web-of-agents"


class JsonRpcCode:
    """JSON-RPC error codes used by the binding (A2A 1.0 names as constant names)."""

    PARSE_ERROR = -32700
    INVALID_REQUEST = -32600
    METHOD_NOT_FOUND = -32601
    INVALID_PARAMS = -32602
    INTERNAL_ERROR = -32603
    TASK_NOT_FOUND = -32001
    TASK_NOT_CANCELABLE = -32002
    PUSH_NOTIFICATION_NOT_SUPPORTED = -32003
    UNSUPPORTED_OPERATION = -32004
    CONTENT_TYPE_NOT_SUPPORTED = -32005
    INVALID_AGENT_RESPONSE = -32006
    EXTENDED_AGENT_CARD_NOT_CONFIGURED = -32007
    EXTENSION_SUPPORT_REQUIRED = -32008
    VERSION_NOT_SUPPORTED = -32009
    UNAUTHENTICATED = -32050
    FORBIDDEN = -32051


_REASONS = {
    JsonRpcCode.PARSE_ERROR: "PARSE_ERROR",
    JsonRpcCode.INVALID_REQUEST: "INVALID_REQUEST",
    JsonRpcCode.METHOD_NOT_FOUND: "METHOD_NOT_FOUND",
    JsonRpcCode.INVALID_PARAMS: "INVALID_PARAMS",
    JsonRpcCode.INTERNAL_ERROR: "INTERNAL_ERROR",
    JsonRpcCode.TASK_NOT_FOUND: "TASK_NOT_FOUND",
    JsonRpcCode.TASK_NOT_CANCELABLE: "TASK_NOT_CANCELABLE",
    JsonRpcCode.PUSH_NOTIFICATION_NOT_SUPPORTED: "PUSH_NOTIFICATION_NOT_SUPPORTED",
    JsonRpcCode.UNSUPPORTED_OPERATION: "UNSUPPORTED_OPERATION",
    JsonRpcCode.CONTENT_TYPE_NOT_SUPPORTED: "CONTENT_TYPE_NOT_SUPPORTED",
    JsonRpcCode.INVALID_AGENT_RESPONSE: "INVALID_AGENT_RESPONSE",
    JsonRpcCode.EXTENDED_AGENT_CARD_NOT_CONFIGURED: "EXTENDED_AGENT_CARD_NOT_CONFIGURED",
    JsonRpcCode.EXTENSION_SUPPORT_REQUIRED: "EXTENSION_SUPPORT_REQUIRED",
    JsonRpcCode.VERSION_NOT_SUPPORTED: "VERSION_NOT_SUPPORTED",
    JsonRpcCode.UNAUTHENTICATED: "UNAUTHENTICATED",
    JsonRpcCode.FORBIDDEN: "FORBIDDEN",
}


class RpcError(WoaError):
    """A JSON-RPC error: raised by handlers, sent to the caller, raised again by the client.

    ``reason`` is the ErrorInfo reason (defaults to the code's A2A name), ``metadata`` its
    string map (``type`` holds a ``urn:woa:problem:`` URI when one applies), ``violations``
    the failing JSON paths of a payload as ``{"field", "description"}``.
    """

    def __init__(
        self,
        code: int,
        message: str,
        *,
        reason: str | None = None,
        metadata: dict[str, str] | None = None,
        violations: list[dict[str, str]] | None = None,
        http_status: int = 200,
    ) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.reason = reason or _REASONS.get(code, "UNKNOWN_ERROR")
        self.metadata = metadata or {}
        self.violations = violations or []
        self.http_status = http_status

    def to_error(self) -> dict[str, Any]:
        """The JSON-RPC ``error`` member."""
        domain = WOA_DOMAIN if self.code in (-32050, -32051) else A2A_DOMAIN
        data: list[dict[str, Any]] = [
            {
                "@type": ERROR_INFO_TYPE,
                "reason": self.reason,
                "domain": domain,
                "metadata": self.metadata,
            }
        ]
        if self.violations:
            data.append({"@type": BAD_REQUEST_TYPE, "fieldViolations": self.violations})
        return {"code": self.code, "message": self.message, "data": data}

    @classmethod
    def from_error(cls, error: Any) -> RpcError:
        """Rebuild from a received JSON-RPC ``error`` member (lenient about its shape)."""
        if not isinstance(error, dict):
            return cls(JsonRpcCode.INVALID_AGENT_RESPONSE, f"malformed error: {error!r}")
        code = error.get("code")
        reason: str | None = None
        metadata: dict[str, str] = {}
        violations: list[dict[str, str]] = []
        data = error.get("data")
        for detail in data if isinstance(data, list) else ():
            if not isinstance(detail, dict):
                continue
            if detail.get("@type") == ERROR_INFO_TYPE:
                reason = detail.get("reason") if isinstance(detail.get("reason"), str) else None
                raw = detail.get("metadata")
                metadata = {str(k): str(v) for k, v in raw.items()} if isinstance(raw, dict) else {}
            elif detail.get("@type") == BAD_REQUEST_TYPE:
                violations = [
                    {"field": str(v.get("field", "")), "description": str(v.get("description", ""))}
                    for v in detail.get("fieldViolations") or ()
                    if isinstance(v, dict)
                ]
        return cls(
            code if isinstance(code, int) and not isinstance(code, bool) else -32603,
            str(error.get("message", "")),
            reason=reason,
            metadata=metadata,
            violations=violations,
        )

    @property
    def problem_type(self) -> str | None:
        """The ``urn:woa:problem:`` type URI carried in the metadata, if any."""
        return self.metadata.get("type")

    def __repr__(self) -> str:
        return f"RpcError({self.code}, {self.message!r}, reason={self.reason!r})"


class TransportError(WoaError):
    """A peer could not be reached, or did not answer in time (``__cause__``: httpx's error)."""

    def __init__(self, message: str, *, retry_safe: bool = False) -> None:
        super().__init__(message)
        self.retry_safe = retry_safe
        """True when the request certainly did not reach the peer (e.g. connection refused)."""


class AgentCallError(WoaError):
    """A call could not be completed (transport failure, timeout, failed task, ...)."""

    def __init__(self, message: str, *, retry_safe: bool = False) -> None:
        super().__init__(message)
        self.retry_safe = retry_safe
        """True when the request certainly did not run (e.g. connection refused)."""


class AgentUnreachableError(AgentCallError, TransportError):
    """An agent could not be reached or did not answer in time."""


class AgentIdentityError(AgentCallError):
    """The answer was not signed by the agent that was called (wrong DID, bad signature)."""


class SkillOutputError(AgentCallError):
    """The skill's result does not satisfy its declared output schema or model."""


class NoAgentAvailableError(AgentCallError):
    """No agent offering the skill could complete the call; ``attempts`` says why, per URL."""

    def __init__(self, message: str, attempts: list[tuple[str, BaseException]]) -> None:
        super().__init__(message)
        self.attempts = attempts
