"""Reading request bodies with the size limit, and parsing them into models precisely.

Routes read bodies themselves (rather than letting FastAPI parse them) so that the order of
checks is the spec's: size, signature, JSON, schema; and so that each failure gets its own
problem type. The OpenAPI document still describes each body (see ``json_body``).
"""

from __future__ import annotations

from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError
from starlette.requests import Request

from woa_protocol import strict_json

from .problems import InvalidRequestError, MalformedJsonError, PayloadTooLargeError

__all__ = ["json_body", "parse_json", "parse_model", "pydantic_errors", "read_body"]

M = TypeVar("M", bound=BaseModel)


async def read_body(request: Request, max_bytes: int) -> bytes:
    """Return the whole body, raising :class:`PayloadTooLargeError` beyond ``max_bytes``."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > max_bytes:
        raise PayloadTooLargeError(f"body of {declared} bytes exceeds {max_bytes}", limit=max_bytes)
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > max_bytes:
            raise PayloadTooLargeError(f"body exceeds {max_bytes} bytes", limit=max_bytes)
        chunks.append(chunk)
    return b"".join(chunks)


def parse_json(body: bytes) -> Any:
    """Parse a JSON body as I-JSON (``woa_protocol.strict_json``).

    Raises ``MalformedJsonError`` with the position, ``DuplicateMemberError`` with the path
    of a repeated member name, ``CanonicalizationError`` for nesting past the limit.
    """
    if not body.strip():
        raise MalformedJsonError("the request body is empty; a JSON object is required")
    return strict_json.loads(body)


def pydantic_errors(exc: ValidationError) -> list[dict[str, str]]:
    """Turn a pydantic error into ``[{"path": JSONPath, "message": ...}]``."""
    out = []
    for error in exc.errors(include_url=False):
        path = "$" + "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in error["loc"])
        out.append({"path": path, "message": error["msg"]})
    return out


def parse_model(data: Any, model: type[M], what: str = "request body") -> M:
    """Validate parsed JSON against ``model``; raise :class:`InvalidRequestError`."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        errors = pydantic_errors(exc)
        paths = ", ".join(e["path"] for e in errors)
        raise InvalidRequestError(f"{what} does not match its schema at {paths}", errors) from exc


def json_body(model: type[BaseModel], *, required: bool = True) -> dict[str, Any]:
    """Return ``openapi_extra`` describing a JSON request body of ``model``."""
    return {
        "requestBody": {
            "required": required,
            "content": {
                "application/json": {"schema": {"$ref": f"#/components/schemas/{model.__name__}"}}
            },
        }
    }
