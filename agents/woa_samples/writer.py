"""The writer agent (``woa_writer``: a small LM via llama.cpp) as a sample-catalog entry.

``woa_writer`` builds its agent with ``build_agent(writer, ...)``; this adapter gives it the
catalog's ``build(**options) -> Sample`` shape, its model loading as the Sample's worker.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from woa_protocol import SigningKey

from .inputs import InputPolicy
from .sample import Sample

__all__ = ["build"]


class _Loader:
    """Loads the writer's model at ``Sample.warm``; nothing to stop at close."""

    def __init__(self, writer: Any) -> None:
        self.writer = writer

    async def warm(self) -> None:
        await self.writer.load()

    def close(self) -> None:
        """Nothing to stop: the model is freed with the process."""


def build(
    *,
    key: SigningKey | str | Path | None = None,
    registry_url: str | None = None,
    policy: InputPolicy | None = None,
    **options: Any,
) -> Sample:
    """The writer agent (generate, summarize, extract) from ``woa_writer``'s settings."""
    from woa_writer.agent import (  # type: ignore[import-not-found, unused-ignore]
        build_agent,
        build_writer,
    )

    writer = build_writer()
    if policy is not None:
        options.setdefault("max_body_bytes", policy.max_body_bytes)
    agent = build_agent(writer, key=key, registry_url=registry_url, **options)
    return Sample(agent, [_Loader(writer)])
