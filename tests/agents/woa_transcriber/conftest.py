from __future__ import annotations

import io

import pytest

from woa_samples.generated import SENTENCES
from woa_transcriber import Transcriber

from ..woa_samples.support import speak

SPOKEN = " ".join(SENTENCES)


@pytest.fixture(scope="session")
def transcriber() -> Transcriber:
    """The real model, loaded once per test session."""
    return Transcriber.load()


@pytest.fixture(scope="session")
def memo_wav() -> bytes:
    """About 15 s of speech by espeak-ng (American English, 130 words a minute)."""
    return speak(SPOKEN)


def transcode(wav: bytes, container: str, codec: str, rate: int) -> bytes:
    """Re-encode WAV bytes (PyAV, FFmpeg's libraries): FLAC, OGG/Opus..."""
    import av

    source = av.open(io.BytesIO(wav))
    buffer = io.BytesIO()
    with av.open(buffer, mode="w", format=container) as sink:
        stream = sink.add_stream(codec, rate=rate)
        stream.layout = "mono"
        if codec != "flac":
            stream.bit_rate = 32000
        resampler = av.AudioResampler(format="s16" if codec == "flac" else "flt", rate=rate)
        for frame in source.decode(audio=0):
            for resampled in resampler.resample(frame):
                for packet in stream.encode(resampled):
                    sink.mux(packet)
        for packet in stream.encode(None):
            sink.mux(packet)
    return buffer.getvalue()
