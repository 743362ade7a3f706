"""``File``: a file a skill takes or returns, shaped like an A2A file part."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Self

from pydantic import model_validator

from woa_protocol.models import A2AModel, ProtoBytes

__all__ = ["File", "MediaTypes"]


class File(A2AModel):
    """A file: its bytes (``raw``) or a ``url``, with a media type and an optional name.

    As a field of a skill's input model it accepts a plain A2A file part; in JSON (a data
    part) it is ``{"raw": "<base64>", "mediaType": "image/png", "filename": "x.png"}`` or
    ``{"url": "https://...", "mediaType": "..."}``.
    """

    raw: ProtoBytes | None = None
    url: str | None = None
    media_type: str = "application/octet-stream"
    filename: str | None = None

    @model_validator(mode="after")
    def _bytes_or_url(self) -> Self:
        if (self.raw is None) == (self.url is None):
            raise ValueError("a File holds exactly one of raw (bytes) or url")
        return self


@dataclass(frozen=True)
class MediaTypes:
    """Media types a ``File`` field accepts: ``Annotated[File, MediaTypes("image/png")]``.

    They become the skill's accepted input modes (with ``type/*`` wildcards allowed); a
    ``File`` field without them accepts any media type (``*/*``).
    """

    types: tuple[str, ...]

    def __init__(self, *types: str) -> None:
        if not types:
            raise ValueError("MediaTypes needs at least one media type")
        object.__setattr__(self, "types", tuple(types))
