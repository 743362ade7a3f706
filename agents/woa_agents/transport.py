"""What the A2A bindings (JSON-RPC, HTTP+JSON) share.

Reading a bounded body, writing JSON, and a light complete response.
"""

from __future__ import annotations

from typing import Any

import pydantic_core
from starlette.responses import StreamingResponse
from starlette.types import Receive, Scope, Send

from woa_protocol import DuplicateMemberError, WoaError, strict_json

from .errors import JsonRpcCode, RpcError

__all__ = [
    "Answer",
    "ClientGoneError",
    "JsonAnswer",
    "TooLargeError",
    "check_json_content_type",
    "parse_body",
    "read_body",
    "to_json",
]


class TooLargeError(Exception):
    """The body exceeds the limit."""


class ClientGoneError(Exception):
    """The client disconnected before its request body arrived: nobody to answer."""


def to_json(value: Any) -> bytes:
    """Write a result: JSON values and A2A models (in their wire form), in one pass."""
    return pydantic_core.to_json(value, by_alias=True, exclude_none=True)


class JsonAnswer:
    """A complete response sent as two ASGI messages (lighter than a Starlette Response)."""

    __slots__ = ("body", "headers", "status")

    def __init__(self, status: int, headers: dict[str, str], body: bytes) -> None:
        self.status = status
        self.headers = headers
        self.body = body

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Send the response."""
        raw = [(k.encode("latin-1"), v.encode("latin-1")) for k, v in self.headers.items()]
        raw.append((b"content-length", str(len(self.body)).encode("ascii")))
        await send({"type": "http.response.start", "status": self.status, "headers": raw})
        await send({"type": "http.response.body", "body": self.body})


Answer = JsonAnswer | StreamingResponse
"""A complete signed response, or a stream whose head is signed."""


async def read_body(receive: Receive, headers: dict[str, str], limit: int) -> bytes:
    """Read the request body, refusing (without reading on) more than ``limit`` bytes."""
    declared = headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise TooLargeError
    chunks: list[bytes] = []
    size = 0
    more = True
    while more:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise ClientGoneError
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise TooLargeError
        chunks.append(chunk)
        more = message.get("more_body", False)
    return chunks[0] if len(chunks) == 1 else b"".join(chunks)


def parse_body(raw: bytes) -> Any:
    """The envelope as I-JSON (JCS-006): no duplicate names, NaN, lone surrogates, deep nesting."""
    try:
        return strict_json.loads(raw)
    except DuplicateMemberError as exc:
        raise RpcError(
            JsonRpcCode.PARSE_ERROR,
            f"invalid JSON: {exc.detail}",
            reason="DUPLICATE_MEMBER_NAME",
            metadata={"type": exc.problem.uri, **exc.extensions},
        ) from exc
    except WoaError as exc:  # malformed, or nested past the limit (JCS-004)
        raise RpcError(
            JsonRpcCode.PARSE_ERROR,
            f"invalid JSON: {exc.detail}",
            metadata={"type": exc.problem.uri},
        ) from exc


def check_json_content_type(headers: dict[str, str]) -> None:
    """Refuse a body declared as anything but JSON: -32005 (ContentTypeNotSupported), 415.

    A request without ``Content-Type`` is read as JSON; ``application/json`` and any
    ``application/*+json`` (e.g. ``application/a2a+json``) are JSON.
    """
    declared = headers.get("content-type")
    if declared is None:
        return
    media = declared.split(";", 1)[0].strip().lower()
    if media == "application/json" or (
        media.startswith("application/") and media.endswith("+json")
    ):
        return
    raise RpcError(
        JsonRpcCode.CONTENT_TYPE_NOT_SUPPORTED,
        f"the request body is {media or 'untyped'}; this binding reads application/json",
        metadata={"mediaType": media, "acceptedModes": "application/json"},
        http_status=415,
    )
