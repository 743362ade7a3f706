"""RFC 9457 problem details as a model, for schemas and clients."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

__all__ = ["ProblemDetails"]


class ProblemDetails(BaseModel):
    """An ``application/problem+json`` body; extension members are kept."""

    model_config = ConfigDict(extra="allow")

    type: str = "about:blank"
    title: str | None = None
    status: int | None = None
    detail: str | None = None
    instance: str | None = None
