"""The transcriber agent: streamed segments, cancellation, and on real sockets."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from woa_agents import AgentClient, File, connect
from woa_protocol import SigningKey
from woa_protocol.models import TaskState
from woa_samples.inputs import InputPolicy
from woa_transcriber import Transcriber
from woa_transcriber.agent import TranscribeOut, build

from ..woa_samples.support import TEST_BODY_LIMIT, check_on_sockets, file_json, speak, wer
from .conftest import SPOKEN, transcode


@pytest.fixture
def sample(transcriber: Transcriber):  # type: ignore[no-untyped-def]
    built = build(model=transcriber, policy=InputPolicy(max_body_bytes=TEST_BODY_LIMIT))
    yield built
    built.close()


async def test_segments_stream_before_the_result(sample, memo_wav: bytes) -> None:  # type: ignore[no-untyped-def]
    partials: list[dict[str, object]] = []
    result: TranscribeOut | None = None
    async with connect(sample.agent) as client:
        async for event in client.stream(
            "transcribe", {"audio": file_json(memo_wav, "audio/wav")}, TranscribeOut
        ):
            if event.kind == "artifact" and not event.data.get("lastChunk"):  # a segment
                assert result is None
                partials.append(event.data["artifact"]["parts"][0]["data"])
            elif event.kind == "result":
                result = event.output
    assert result is not None
    assert len(partials) >= 2
    assert [p["text"] for p in partials] == [s.text for s in result.segments]
    assert wer(SPOKEN, result.text) <= 0.2
    assert 10 < result.duration < 25


async def test_a_plain_a2a_file_part(sample, memo_wav: bytes) -> None:  # type: ignore[no-untyped-def]
    async with connect(sample.agent) as client:
        out = await client.call(
            "transcribe", File(raw=memo_wav, media_type="audio/wav"), TranscribeOut
        )
    assert wer(SPOKEN, out.text) <= 0.2


@pytest.mark.req("SMP-004")
async def test_a_cancelled_transcription_stops_and_frees_the_model(sample, memo_wav: bytes) -> None:  # type: ignore[no-untyped-def]
    # about two minutes (many segments to go), as OGG/Opus to stay small
    long_ogg = transcode(speak(" ".join([SPOKEN] * 8)), "ogg", "libopus", 48000)
    async with (
        sample.agent.running() as running,  # a real socket: events arrive as they happen
        AgentClient(SigningKey.generate(), timeout=120) as client,
    ):
        task_id = None
        segments = 0
        stream = client.stream(
            "transcribe", {"audio": file_json(long_ogg, "audio/ogg")}, agent=running.url
        )
        async for event in stream:
            if event.kind == "task":
                task_id = event.data["id"]
            if event.kind == "artifact":  # the first segment: cancel now
                segments += 1
                assert task_id is not None
                canceled = await client.cancel(task_id, agent=running.url)
                assert canceled.status.state == TaskState.CANCELED
                break
        await stream.aclose()
        assert segments == 1
        # the worker stops before its next segment: a new call is not stuck behind it
        out = await asyncio.wait_for(
            client.call(
                "transcribe",
                {"audio": file_json(memo_wav, "audio/wav")},
                TranscribeOut,
                agent=running.url,
            ),
            30,
        )
        assert wer(SPOKEN, out.text) <= 0.2


@pytest.mark.req("SMP-003")
@pytest.mark.req("SMP-004")
async def test_on_real_sockets(sample, memo_wav: bytes, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    output = await check_on_sockets(
        tmp_path,
        sample,
        skill="transcribe",
        family="asr",
        payload={"audio": file_json(memo_wav, "audio/wav", "memo.wav")},
        search_payload={"audio": {"raw": "UklGRg==", "mediaType": "audio/wav"}},
        malformed={"audio": "memo.wav"},
        undecodable={"audio": file_json(b"RIFF-garbage-not-audio", "audio/wav")},
    )
    assert wer(SPOKEN, output["text"]) <= 0.2
