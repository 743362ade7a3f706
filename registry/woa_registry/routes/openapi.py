"""OpenAPI helpers shared by the routers: documented problem responses."""

from __future__ import annotations

from typing import Any

from woa_protocol import PROBLEM_TYPES

from ..problems import PROBLEM_CONTENT_TYPE

__all__ = ["problem_responses"]

_PROBLEM_REF = {"$ref": "#/components/schemas/ProblemDetails"}


def problem_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """Describe problem+json answers for ``statuses`` (the types each may carry are listed)."""
    out: dict[int | str, dict[str, Any]] = {}
    for status in statuses:
        types = sorted(p.uri for p in PROBLEM_TYPES.values() if p.status == status)
        headers = {}
        if status == 429:
            headers["Retry-After"] = {
                "description": "Seconds to wait before retrying.",
                "schema": {"type": "integer"},
            }
        out[status] = {
            "description": "Problem details; type is one of: " + ", ".join(types),
            "content": {PROBLEM_CONTENT_TYPE: {"schema": _PROBLEM_REF}},
            **({"headers": headers} if headers else {}),
        }
    return out
