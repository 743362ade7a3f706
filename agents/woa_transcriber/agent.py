"""The transcriber agent: ``transcribe`` audio -> text with timed segments, streamed.

Built on the SDK's public API only. The audio travels as a file (an A2A file part, or
``{"raw": base64, "mediaType": ...}`` in a data part). The handler is a streaming skill:
each segment is yielded as a ``Partial`` as soon as Whisper decodes it, then the whole
transcript. The model loads once, lazily or at start, and runs on its own worker thread;
a cancelled task stops decoding before the next segment.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field

from woa_agents import Agent, File, Partial, Progress, Rejected
from woa_protocol import SigningKey
from woa_samples import ModelWorker, Sample
from woa_samples.inputs import InputPolicy, file_bytes

from .speech import MODEL_ID, SAMPLE_RATE, Transcriber

__all__ = ["SegmentOut", "TranscribeIn", "TranscribeOut", "build"]

AUDIO_TYPES = [
    "audio/wav",
    "audio/x-wav",
    "audio/wave",
    "audio/flac",
    "audio/x-flac",
    "audio/ogg",
    "audio/opus",
    "audio/mpeg",
]
"""Media types of the audio file part (besides a data part, application/json)."""


class TranscribeIn(BaseModel):
    """English speech: WAV, FLAC or OGG (anything FFmpeg decodes), up to 30 minutes."""

    audio: File


class SegmentOut(BaseModel):
    """A timed stretch of the transcript (seconds) and its confidence 0..1."""

    start: float = Field(ge=0)
    end: float = Field(ge=0)
    text: str
    confidence: float = Field(ge=0, le=1)


class TranscribeOut(BaseModel):
    """The whole transcript, its segments, the audio's duration (s) and the model."""

    text: str
    segments: list[SegmentOut]
    duration: float
    language: str
    model: str


def build(
    *,
    key: SigningKey | str | Path | None = None,
    registry_url: str | None = None,
    policy: InputPolicy | None = None,
    model: Transcriber | None = None,
    threads: int = 0,
    **options: Any,
) -> Sample:
    """Build the transcriber agent (``options`` go to :class:`woa_agents.Agent`).

    ``model``: an already loaded model to use (tests share one); else it loads once, on
    the first call or at :meth:`~woa_samples.Sample.warm`.
    """
    Transcriber.check_installed()
    policy = policy or InputPolicy.from_env()
    worker: ModelWorker[Transcriber] = ModelWorker(
        lambda: model or Transcriber.load(threads), "transcriber"
    )
    options.setdefault("max_body_bytes", policy.max_body_bytes)
    agent = Agent(
        "transcriber",
        "Speech to text: Whisper tiny.en (faster-whisper, int8) transcribes English audio "
        "(WAV, FLAC, OGG) into text with timed segments, streamed as they are decoded.",
        key,
        registry_url,
        **options,
    )

    @agent.skill(
        family="asr",
        tags=["speech", "transcription", "whisper", "audio", "english"],
        input_modalities=["audio", "data"],
        input_modes=["application/json", *AUDIO_TYPES],
        output_modalities=["text", "data"],
        latency_ms=1300,
        cost_per_call=0.0,
        idempotent=True,
    )
    async def transcribe(
        request: TranscribeIn,
    ) -> AsyncIterator[Progress | Partial | TranscribeOut]:
        """Transcribe English speech; streams each timed segment as it is decoded."""
        data = await file_bytes(request.audio, policy, "audio")
        try:
            audio = await worker.run(lambda model: model.decode(data))
        except ValueError as exc:
            raise Rejected(f"audio: {exc}") from exc
        duration = round(audio.size / SAMPLE_RATE, 2)
        yield Progress(f"transcribing {duration:.1f} s of audio")
        segments: list[SegmentOut] = []
        async for found in worker.stream(lambda model, stop: model.segments(audio, stop)):
            segment = SegmentOut(
                start=found.start,
                end=found.end,
                text=found.text,
                confidence=min(1.0, max(0.0, found.confidence)),
            )
            segments.append(segment)
            yield Partial(segment.model_dump())
        yield TranscribeOut(
            text=" ".join(s.text for s in segments if s.text),
            segments=segments,
            duration=duration,
            language="en",
            model=MODEL_ID,
        )

    return Sample(agent, [worker])
