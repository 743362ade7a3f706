"""Whisper tiny.en alone: word error rate on generated speech, WAV, FLAC and OGG."""

from __future__ import annotations

import itertools
import sys
import threading

import pytest

from woa_transcriber import Transcriber
from woa_transcriber.speech import SAMPLE_RATE

from ..woa_samples.support import wer
from .conftest import SPOKEN, transcode


def test_word_error_rate_on_generated_speech(transcriber: Transcriber, memo_wav: bytes) -> None:
    audio = transcriber.decode(memo_wav)
    assert 10 < audio.size / SAMPLE_RATE < 25
    segments = list(transcriber.segments(audio))
    text = " ".join(s.text for s in segments)
    rate = wer(SPOKEN, text)
    print(f"\nWER {rate:.3f} over {len(segments)} segments: {text}", file=sys.stderr)
    assert rate <= 0.2
    assert len(segments) >= 2
    assert all(0 <= s.start < s.end <= audio.size / SAMPLE_RATE + 1 for s in segments)
    assert all(a.end <= b.start + 0.01 for a, b in itertools.pairwise(segments))
    assert all(0 < s.confidence <= 1 for s in segments)


@pytest.mark.parametrize(
    ("container", "codec", "rate"), [("flac", "flac", 22050), ("ogg", "libopus", 48000)]
)
def test_flac_and_ogg_decode_to_the_same_words(
    transcriber: Transcriber, memo_wav: bytes, container: str, codec: str, rate: int
) -> None:
    audio = transcriber.decode(transcode(memo_wav, container, codec, rate))
    text = " ".join(s.text for s in transcriber.segments(audio))
    assert wer(SPOKEN, text) <= 0.2


def test_not_audio_is_a_value_error(transcriber: Transcriber) -> None:
    with pytest.raises(ValueError, match="not a decodable audio file"):
        transcriber.decode(b"RIFF....WAVEfmt garbage")


def test_a_set_stop_event_ends_the_segments(transcriber: Transcriber, memo_wav: bytes) -> None:
    stop = threading.Event()
    stop.set()
    assert len(list(transcriber.segments(transcriber.decode(memo_wav), stop))) == 1
