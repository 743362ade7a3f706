"""Model time vs this project's layers, per sample model agent, for one call.

For each case (a skill and a generated input) three things are timed, interleaved, and
their medians kept:

* ``model``: the work the skill's handler does, called directly on the loaded model in a
  worker thread (decoding the file, running the model, encoding the answer);
* ``layers``: a signed call over a real socket to a probe agent that declares the same
  skill (same input and output models) and answers the output the real agent gave, at
  once: the client's signing, transport, the agent's signature check, input validation
  and parsing (base64 files included), task bookkeeping, the signed answer, and the
  client's signature and output-schema checks; everything but the model;
* ``call``: the same signed call to the real agent (should be about model + layers).

The goal is ``layers / (model + layers) <= 10 %`` for every model-backed skill. Cases
whose model takes under 0.2 s get up to ten times ``calls`` calls (steadier medians).
"""

from __future__ import annotations

import asyncio
import base64
import statistics
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

import httpx
from pydantic import BaseModel

from woa_agents import Agent, AgentCallError, AgentClient
from woa_protocol import SigningKey
from woa_samples import CATALOG, MissingExtraError

__all__ = ["GOAL_SHARE", "Case", "ModelRow", "cases", "run"]

GOAL_SHARE = 0.10
"""Most of a call that this project's layers may take."""
_CHEAP = 0.2
"""A case whose model takes less than this many seconds gets more calls."""


@dataclass(frozen=True)
class Case:
    """A skill call to measure: its payload, and the handler's work done directly."""

    agent: str
    skill: str
    label: str
    payload: dict[str, Any]
    direct: Callable[[Any], Any]
    """``direct(model)``: what the handler does, without the SDK."""


@dataclass(frozen=True)
class ModelRow:
    """Medians of one case (seconds)."""

    agent: str
    skill: str
    label: str
    model: float
    layers: float
    call: float

    @property
    def share(self) -> float:
        """Share of a call taken by our layers: layers / (model + layers)."""
        return self.layers / (self.model + self.layers)


def _file(data: bytes, media_type: str) -> dict[str, str]:
    return {"raw": base64.b64encode(data).decode(), "mediaType": media_type}


def _embedder_cases() -> list[Case]:
    from woa_embedder import Encoder

    corpus = [f"Document {i}: notes about topic number {i % 7} and its details." for i in range(32)]

    def similarity(m: Encoder) -> Any:
        return m.similarity("A man is eating food.", "Someone is having a meal.")

    def rank(m: Encoder) -> Any:
        return m.rank("notes about topic number 3", corpus)

    return [
        Case(
            "embedder",
            "similarity",
            "two short sentences",
            {"a": "A man is eating food.", "b": "Someone is having a meal."},
            similarity,
        ),
        Case(
            "embedder",
            "rank",
            "a query vs 32 candidates",
            {"query": "notes about topic number 3", "candidates": corpus},
            rank,
        ),
    ]


def _segmenter_cases() -> list[Case]:
    from woa_samples.generated import scene
    from woa_segmenter import Segmenter
    from woa_segmenter.model import decode_image, mask_png, rle_of

    drawn = scene()
    png = drawn.png()
    x0, y0, x1, y1 = drawn.box

    def box(m: Segmenter) -> Any:
        result = m.segment_box(decode_image(png), drawn.box)
        return mask_png(result.mask), rle_of(result.mask)

    def point(m: Segmenter) -> Any:
        result = m.segment_point(decode_image(png), drawn.point)
        return mask_png(result.mask), rle_of(result.mask)

    image = _file(png, "image/png")
    return [
        Case(
            "segmenter",
            "segment",
            "box prompt, 480x360 PNG",
            {"image": image, "box": {"x0": x0, "y0": y0, "x1": x1, "y1": y1}},
            box,
        ),
        Case(
            "segmenter",
            "segment",
            "point prompt, 480x360 PNG",
            {"image": image, "point": {"x": drawn.point[0], "y": drawn.point[1]}},
            point,
        ),
    ]


def _reader_cases() -> list[Case]:
    import io

    from PIL import Image

    from woa_reader import Reader
    from woa_samples.generated import receipt_png

    png = receipt_png()

    def read(m: Reader) -> Any:
        return m.read(Image.open(io.BytesIO(png)).convert("RGB"))

    return [
        Case(
            "reader",
            "read",
            "an 11-line receipt, 520x458 PNG",
            {"image": _file(png, "image/png")},
            read,
        )
    ]


def _transcriber_cases() -> list[Case]:
    from woa_samples.generated import SENTENCES, speak
    from woa_transcriber import Transcriber

    wav = speak(" ".join(SENTENCES))

    def transcribe(m: Transcriber) -> Any:
        return list(m.segments(m.decode(wav)))

    return [
        Case(
            "transcriber",
            "transcribe",
            "a 15 s spoken memo, WAV",
            {"audio": _file(wav, "audio/wav")},
            transcribe,
        )
    ]


_CASES: dict[str, Callable[[], list[Case]]] = {
    "embedder": _embedder_cases,
    "segmenter": _segmenter_cases,
    "reader": _reader_cases,
    "transcriber": _transcriber_cases,
}
_LOADERS: dict[str, tuple[str, str]] = {
    "embedder": ("woa_embedder", "Encoder"),
    "segmenter": ("woa_segmenter", "Segmenter"),
    "reader": ("woa_reader", "Reader"),
    "transcriber": ("woa_transcriber", "Transcriber"),
}


def cases(name: str) -> list[Case]:
    """The cases measured for the sample agent ``name``."""
    return _CASES[name]()


async def _timed_call(client: AgentClient, case: Case, url: str) -> tuple[float, Any]:
    """One signed call: its seconds and output.

    A call that fails because the server closed an idle keep-alive connection just as it
    was reused (uvicorn closes them after 5 s; a model call can take longer) is repeated
    once on a new connection, and only that attempt is timed.
    """
    for attempt in (1, 2):
        started = time.perf_counter()
        try:
            output = await client.call(case.skill, case.payload, agent=url)
        except AgentCallError as exc:
            if attempt == 2 or not isinstance(exc.__cause__, httpx.TransportError):
                raise
            continue
        return time.perf_counter() - started, output
    raise AssertionError("unreachable")


def _canned_handler(canned: dict[tuple[str, str], Any], skill_id: str, *, streaming: bool) -> Any:
    """A handler (streaming like the real one, or not) answering the recorded output."""
    if streaming:

        async def streamed(request: BaseModel) -> AsyncIterator[Any]:
            yield canned[(skill_id, request.model_dump_json())]

        return streamed

    async def unary(request: BaseModel) -> Any:
        return canned[(skill_id, request.model_dump_json())]

    return unary


def _probe(real: Agent, canned: dict[tuple[str, str], Any], by_label: dict[str, Case]) -> Agent:
    """An agent declaring ``real``'s skills that answers each case's recorded output at once."""
    probe = Agent(
        f"{real.name}-probe", "answers recorded outputs", max_body_bytes=real.max_body_bytes
    )
    for skill_id in {case.skill for case in by_label.values()}:
        skill = real.skills[skill_id]
        handler = _canned_handler(canned, skill_id, streaming=skill.streaming)
        probe.skill(skill_id, input=skill.input_model, output=skill.output_model)(handler)
    return probe


async def _measure(name: str, calls: int, progress: Callable[[str], None]) -> list[ModelRow]:
    import importlib

    module, cls = _LOADERS[name]
    progress(f"{name}: loading the model")
    model = getattr(importlib.import_module(module), cls).load()
    sample = CATALOG[name].build(model=model)
    measured = cases(name)
    real = sample.agent
    canned: dict[tuple[str, str], Any] = {}
    by_label = {case.label: case for case in measured}
    probe = _probe(real, canned, by_label)
    rows: list[ModelRow] = []
    try:
        async with (
            real.running() as running,
            probe.running() as probing,
            AgentClient(SigningKey.generate(), timeout=600) as client,
        ):
            for case in measured:
                skill = real.skills[case.skill]
                parsed = skill.input_model.model_validate(case.payload)
                _, output = await _timed_call(client, case, running.url)  # warm-up
                canned[(case.skill, parsed.model_dump_json())] = output
                started = time.perf_counter()
                await asyncio.to_thread(case.direct, model)
                estimate = time.perf_counter() - started
                await _timed_call(client, case, probing.url)
                # cheap cases get more calls (up to 10x): their medians are noisier
                repeats = calls * max(1, min(10, int(_CHEAP / max(estimate, 1e-3))))
                times: dict[str, list[float]] = {"model": [], "layers": [], "call": []}
                for i in range(repeats):
                    progress(f"{name} {case.skill} ({case.label}): call {i + 1}/{repeats}")
                    started = time.perf_counter()
                    await asyncio.to_thread(case.direct, model)
                    times["model"].append(time.perf_counter() - started)
                    seconds, echoed = await _timed_call(client, case, probing.url)
                    times["layers"].append(seconds)
                    seconds, answered = await _timed_call(client, case, running.url)
                    times["call"].append(seconds)
                    if echoed != output or answered != output:
                        raise RuntimeError(f"{name} {case.skill}: the answer changed between calls")
                rows.append(
                    ModelRow(
                        name,
                        case.skill,
                        case.label,
                        statistics.median(times["model"]),
                        statistics.median(times["layers"]),
                        statistics.median(times["call"]),
                    )
                )
    finally:
        sample.close()
    return rows


def run(
    agents: list[str] | None = None,
    calls: int = 5,
    progress: Callable[[str], None] = lambda _text: None,
) -> tuple[list[ModelRow], dict[str, str]]:
    """Measure the agents (default: all); return the rows and why any agent was skipped."""
    rows: list[ModelRow] = []
    skipped: dict[str, str] = {}
    for name in agents or list(_CASES):
        try:
            rows.extend(asyncio.run(_measure(name, calls, progress)))
        except (MissingExtraError, FileNotFoundError) as exc:
            skipped[name] = str(exc)
    return rows, skipped
