"""Shared model configuration: A2A's JSON conventions."""

from __future__ import annotations

import base64
import binascii
from datetime import UTC, datetime
from typing import Annotated, Any

import pydantic_core
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    PlainSerializer,
    WithJsonSchema,
)
from pydantic.alias_generators import to_camel
from typing_extensions import TypeAliasType

__all__ = ["A2AModel", "JsonValue", "ProtoBytes", "UtcTimestamp", "format_timestamp"]


class A2AModel(BaseModel):
    """Base for wire models: camelCase names, unknown fields ignored, no None on output."""

    model_config = ConfigDict(
        alias_generator=to_camel,
        populate_by_name=True,
        extra="ignore",
        use_enum_values=False,
    )

    def to_json_dict(self) -> dict[str, Any]:
        """Return the wire form: camelCase keys, absent optional fields omitted."""
        return self.model_dump(mode="json", by_alias=True, exclude_none=True)

    def to_json_bytes(self) -> bytes:
        """Return the wire form as JSON text (the bytes :meth:`to_json_dict` would encode)."""
        return pydantic_core.to_json(self, by_alias=True, exclude_none=True)


def _to_utc(value: datetime) -> datetime:
    if value.tzinfo is None:
        raise ValueError("timestamps must carry a time zone (RFC 3339)")
    return value.astimezone(UTC)


def format_timestamp(value: datetime) -> str:
    """Format as RFC 3339 UTC with millisecond precision and a ``Z`` suffix."""
    if value.tzinfo is not UTC:  # models hold UTC already: skip the conversion (hot path)
        value = _to_utc(value)
    return value.isoformat(timespec="milliseconds")[:-6] + "Z"  # "+00:00" -> "Z"


UtcTimestamp = Annotated[
    datetime,
    AfterValidator(_to_utc),
    PlainSerializer(format_timestamp, return_type=str, when_used="json"),
]
"""A timestamp that must be zone-aware, is held in UTC and serialises ending in ``Z``."""


def _decode_base64(value: Any) -> Any:
    if isinstance(value, str):
        text = value.strip()
        try:
            if "-" in text or "_" in text:
                return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
            return base64.b64decode(text + "=" * (-len(text) % 4), validate=True)
        except (binascii.Error, ValueError) as exc:
            raise ValueError(f"not base64: {exc}") from exc
    return value


ProtoBytes = Annotated[
    bytes,
    BeforeValidator(_decode_base64),
    PlainSerializer(
        lambda b: base64.b64encode(b).decode("ascii"), return_type=str, when_used="json"
    ),
    WithJsonSchema({"type": "string", "contentEncoding": "base64"}),
]
"""Bytes as ProtoJSON writes them: standard base64 with padding (URL-safe accepted on input)."""


JsonValue = TypeAliasType("JsonValue", Any)
"""Any JSON value, taken as it was parsed. Same name and schema (``{}``) as pydantic's
``JsonValue``, which the wire models used before, but nothing walks the value again:
pydantic's type checks each nested value through a Python callback (~160 µs for an
embedding of 384 numbers, against ~3 µs here). What a model reads from JSON text is JSON
already; a value built in Python that is not JSON fails when the model is serialised."""
