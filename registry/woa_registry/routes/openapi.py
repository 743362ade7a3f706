"""OpenAPI helpers shared by the routers: documented problem responses, query parameters."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from woa_protocol import PROBLEM_TYPES

from ..problems import PROBLEM_CONTENT_TYPE

__all__ = ["problem_responses", "query_parameters"]

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


def query_parameters(model: type[BaseModel]) -> dict[str, Any]:
    """Return ``openapi_extra`` listing ``model``'s fields as query parameters.

    For routes that validate their query string with ``model`` themselves; the shapes are
    FastAPI's own (``$ref`` to components, which the app's OpenAPI builder adds).
    """
    schema = model.model_json_schema(by_alias=True, ref_template="#/components/schemas/{model}")
    required = set(schema.get("required", ()))
    parameters = []
    for name, field in schema["properties"].items():
        parameter: dict[str, Any] = {
            "name": name,
            "in": "query",
            "required": name in required,
            "schema": field,
        }
        if "description" in field:
            parameter["description"] = field["description"]
        parameters.append(parameter)
    return {"parameters": parameters}
