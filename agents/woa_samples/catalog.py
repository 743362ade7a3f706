"""The sample agents, by name: one table that ``woa agents run`` and the benchmarks read.

Each entry names the module and builder that make the agent and the extra that installs
its model runtime; nothing is imported until an agent is built, so listing them is cheap.
A builder takes keyword arguments only (``key``, ``registry_url``, ``policy`` and any
:class:`woa_agents.Agent` option) and returns a :class:`~woa_samples.sample.Sample`.
"""

from __future__ import annotations

import importlib
import importlib.util
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .errors import MissingExtraError

if TYPE_CHECKING:
    from .sample import Sample

__all__ = ["CATALOG", "SampleSpec", "build"]


@dataclass(frozen=True)
class SampleSpec:
    """Where a sample agent's builder lives, the extra it needs and what it does."""

    name: str
    module: str
    extra: str
    summary: str
    builder: str = "build"

    def installed(self) -> bool:
        """Whether the agent's package is installed (its extra may still be missing)."""
        try:
            return importlib.util.find_spec(self.module.split(".")[0]) is not None
        except (ImportError, ValueError):
            return False

    def build(self, **options: Any) -> Sample:
        """Import the agent's module and build it (raises MissingExtraError naming the extra)."""
        try:
            module = importlib.import_module(self.module)
        except ModuleNotFoundError as exc:  # a runtime of the extra, imported at module level
            if exc.name is None or exc.name.split(".")[0] == self.module.split(".")[0]:
                raise
            raise MissingExtraError(self.extra, exc.name) from exc
        factory = getattr(module, self.builder)
        sample: Sample = factory(**options)
        return sample


CATALOG: dict[str, SampleSpec] = {
    spec.name: spec
    for spec in (
        SampleSpec(
            "embedder",
            "woa_embedder.agent",
            "embedder",
            "all-MiniLM-L6-v2 (int8 ONNX): embed, similarity, rank, zero-shot classify",
        ),
        SampleSpec(
            "segmenter",
            "woa_segmenter.agent",
            "segmenter",
            "U^2-Net-p (ONNX) box prompts, OpenCV GrabCut point prompts: segment -> mask",
        ),
        SampleSpec(
            "reader",
            "woa_reader.agent",
            "reader",
            "Tesseract OCR: read an image -> text, lines, word boxes with confidences",
        ),
        SampleSpec(
            "transcriber",
            "woa_transcriber.agent",
            "transcriber",
            "faster-whisper tiny.en: transcribe WAV/FLAC/OGG -> text, timed segments (streamed)",
        ),
        SampleSpec(
            "writer",
            "woa_writer.agent",
            "writer",
            "Qwen2.5-Coder-1.5B-Instruct (llama.cpp; or an OpenAI-compatible server, "
            "WOA_WRITER_BACKEND=openai): generate (streamed), summarize, extract JSON by schema",
        ),
        SampleSpec(
            "router",
            "woa_router.agent",
            "router",
            "routing over the web's skills: request text -> ranked skills (needs an embedder)",
        ),
        SampleSpec(
            "planner",
            "woa_planner.agent",
            "router",
            "plan -> act: a goal with files -> checked skill calls, approval, a trail in state",
        ),
    )
}
"""Every sample agent by name."""


def build(name: str, **options: Any) -> Sample:
    """Build the sample agent ``name`` (KeyError if the catalog has none)."""
    return CATALOG[name].build(**options)
