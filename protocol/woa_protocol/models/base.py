"""Shared model configuration: A2A's JSON conventions."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, PlainSerializer
from pydantic.alias_generators import to_camel

__all__ = ["A2AModel", "UtcTimestamp", "format_timestamp"]


class A2AModel(BaseModel):
    """Base for wire models: camelCase names, unknown fields ignored, no None on output."""

    model_config = ConfigDict(
        alias_generator=to_camel,
        populate_by_name=True,
        extra="ignore",
        use_enum_values=False,
        ser_json_bytes="base64",
        val_json_bytes="base64",
    )

    def to_json_dict(self) -> dict[str, Any]:
        """Return the wire form: camelCase keys, absent optional fields omitted."""
        return self.model_dump(mode="json", by_alias=True, exclude_none=True)


def _to_utc(value: datetime) -> datetime:
    if value.tzinfo is None:
        raise ValueError("timestamps must carry a time zone (RFC 3339)")
    return value.astimezone(UTC)


def format_timestamp(value: datetime) -> str:
    """Format as RFC 3339 UTC with millisecond precision and a ``Z`` suffix."""
    return _to_utc(value).isoformat(timespec="milliseconds").replace("+00:00", "Z")


UtcTimestamp = Annotated[
    datetime,
    AfterValidator(_to_utc),
    PlainSerializer(format_timestamp, return_type=str, when_used="json"),
]
"""A timestamp that must be zone-aware, is held in UTC and serialises ending in ``Z``."""
