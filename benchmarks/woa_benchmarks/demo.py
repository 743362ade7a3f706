"""The compound demo's time split by hop: model time vs this project's layers.

``woa demo`` (:func:`woa_cli.demo.run_demo`) is run against a web (started here on free
loopback ports, or a running one). Its STATE-050 trail gives every hop the planner made
(route, choose, read, transcribe, extract) with the signed call's time (``ms``). Each hop's
*model time* is then measured directly in this process, on the same inputs, with the same
model wrappers the agents use (the approach of :mod:`woa_benchmarks.models`): the files are
the ones the demo sent (their SHA-256 is checked against the trail's digest) and the texts
come from the trail. So, per hop, ``our layers = call - model``; end to end,
``our layers = end-to-end - sum of model times``: signing, discovery, shared-state trail
writes, transport, validation, the planner's own work and the demo client.

Subtracting two times taken at different moments is at the mercy of the machine's load, so
each step's layers are also measured directly, as ``woa bench models`` does: a probe agent
declaring the real skill answers the trail's recorded output at once, and the same signed
call is timed (:func:`probe_trail`). End to end, ``our layers = (end-to-end - sum of hops)
+ each hop's layers`` (probe-measured for steps; ``call - model`` for route hops, whose
model time is the embedder on the routed text: the router's own signed call to the
embedder is ours). The goal: ``our layers / end-to-end <= 10 %``.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import io
import socket
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from woa_protocol import SigningKey

__all__ = [
    "DEMO_AGENTS",
    "GOAL_SHARE",
    "DemoSplit",
    "HopRow",
    "ModelTimer",
    "combine",
    "probe_trail",
    "run",
    "split",
    "start_web",
]

GOAL_SHARE = 0.10
"""Most of the demo's end-to-end time that this project's layers may take."""
DEMO_AGENTS = ("embedder", "router", "reader", "transcriber", "writer", "planner")
"""The sample agents the demo needs (in start order: the router needs the embedder)."""


@dataclass(frozen=True)
class HopRow:
    """One hop of the trail: the signed call's time and the model time on its input (ms)."""

    index: int
    kind: str
    agent: str
    skill: str
    status: str
    call_ms: float
    model_ms: float | None
    """None when no model time is known (a failed hop, an unknown skill): all ours."""
    probe_ms: float | None = None
    """The same signed call answered at once by a probe (no model): our layers, measured."""

    @property
    def layers_ms(self) -> float:
        """Our layers: measured by the probe, else the call's time that is not model time."""
        if self.probe_ms is not None:
            return self.probe_ms
        return self.call_ms - (self.model_ms or 0.0)

    @property
    def share(self) -> float:
        """Our layers' share of the call."""
        return self.layers_ms / self.call_ms if self.call_ms > 0 else 0.0


@dataclass(frozen=True)
class DemoSplit:
    """One demo (or the medians of several): its hops and end-to-end time (ms)."""

    hops: list[HopRow]
    end_to_end_ms: float
    runs: int = 1

    @property
    def hops_ms(self) -> float:
        """The sum of the hops' call times."""
        return sum(h.call_ms for h in self.hops)

    @property
    def model_ms(self) -> float:
        """The sum of the hops' model times."""
        return sum(h.model_ms or 0.0 for h in self.hops)

    @property
    def outside_hops_ms(self) -> float:
        """End to end minus the hops: planner, trail writes, discovery, the demo client."""
        return self.end_to_end_ms - self.hops_ms

    @property
    def layers_ms(self) -> float:
        """Our layers: outside the hops, plus each hop's (probe-measured where possible)."""
        return self.outside_hops_ms + sum(h.layers_ms for h in self.hops)

    @property
    def residual_ms(self) -> float:
        """End to end minus model and layers: the measurement's noise (0 without probes)."""
        return self.end_to_end_ms - self.model_ms - self.layers_ms

    @property
    def share(self) -> float:
        """Our layers' share of the end-to-end time."""
        return self.layers_ms / self.end_to_end_ms

    @property
    def meets_goal(self) -> bool:
        """Whether our layers take at most :data:`GOAL_SHARE` end to end."""
        return self.share <= GOAL_SHARE

    def as_json(self) -> dict[str, Any]:
        """The figures as JSON (milliseconds, shares as fractions)."""
        return {
            "runs": self.runs,
            "end_to_end_ms": round(self.end_to_end_ms, 1),
            "hops_ms": round(self.hops_ms, 1),
            "model_ms": round(self.model_ms, 1),
            "outside_hops_ms": round(self.outside_hops_ms, 1),
            "layers_ms": round(self.layers_ms, 1),
            "residual_ms": round(self.residual_ms, 1),
            "layers_by_subtraction_share": round(1 - self.model_ms / self.end_to_end_ms, 4),
            "layers_share": round(self.share, 4),
            "goal_share": GOAL_SHARE,
            "meets_goal": self.meets_goal,
            "hops": [
                {
                    "hop": h.index,
                    "kind": h.kind,
                    "agent": h.agent,
                    "skill": h.skill,
                    "status": h.status,
                    "call_ms": round(h.call_ms, 1),
                    "model_ms": None if h.model_ms is None else round(h.model_ms, 1),
                    "probe_ms": None if h.probe_ms is None else round(h.probe_ms, 1),
                    "layers_ms": round(h.layers_ms, 1),
                    "layers_share": round(h.share, 4),
                }
                for h in self.hops
            ],
        }


def split(
    trail: dict[str, Any],
    end_to_end_ms: float,
    model_ms: dict[str, float],
    probe_ms: dict[str, float] | None = None,
) -> DemoSplit:
    """The split of one demo from its trail, its end-to-end time, model and probe ms by hop id.

    Raises ``ValueError`` for a trail with no hops or a hop without its time.
    """
    hops = trail.get("hops") or []
    if not hops:
        raise ValueError("the trail has no hops")
    rows = []
    for index, hop in enumerate(hops, 1):
        if not isinstance(hop.get("ms"), int | float):
            raise ValueError(f"hop {index} ({hop.get('skill')}) has no time")
        ok = hop.get("status") == "completed"
        rows.append(
            HopRow(
                index,
                str(hop.get("kind", "step")),
                str(hop.get("agentName", "?")),
                str(hop.get("skill", "?")),
                str(hop.get("status", "?")),
                float(hop["ms"]),
                model_ms.get(str(hop.get("id"))) if ok else None,
                (probe_ms or {}).get(str(hop.get("id"))) if ok else None,
            )
        )
    return DemoSplit(rows, end_to_end_ms)


def combine(splits: list[DemoSplit]) -> DemoSplit:
    """Per-hop and end-to-end medians of runs that made the same hops (else the median run)."""
    if len(splits) == 1:
        return splits[0]

    def shape(s: DemoSplit) -> list[tuple[str, str, str]]:
        return [(h.kind, h.skill, h.status) for h in s.hops]

    if any(shape(s) != shape(splits[0]) for s in splits):
        middle = sorted(splits, key=lambda s: s.end_to_end_ms)[len(splits) // 2]
        return replace(middle, runs=len(splits))
    hops = []
    for i, first in enumerate(splits[0].hops):
        models = [s.hops[i].model_ms for s in splits]
        probes = [s.hops[i].probe_ms for s in splits]
        hops.append(
            replace(
                first,
                call_ms=statistics.median(s.hops[i].call_ms for s in splits),
                model_ms=_median_or_none(models),
                probe_ms=_median_or_none(probes),
            )
        )
    return DemoSplit(hops, statistics.median(s.end_to_end_ms for s in splits), len(splits))


def _median_or_none(values: list[float | None]) -> float | None:
    known = [v for v in values if v is not None]
    return statistics.median(known) if len(known) == len(values) else None


# -- model time, measured directly -------------------------------------------------------


def _digest(raw: bytes) -> str:
    """The trail's digest of a file: SHA-256 of its base64 text."""
    return hashlib.sha256(base64.b64encode(raw)).hexdigest()


def _file_in(value: Any, files: dict[str, bytes]) -> bytes:
    """The bytes of the file (a trail summary) in ``value``, among the files the demo sent."""
    if isinstance(value, dict):
        if value.get("sha256") in files:
            return files[value["sha256"]]
        for inner in value.values():
            with contextlib.suppress(LookupError):
                return _file_in(inner, files)
    raise LookupError("no file the demo sent is in this hop's input")


def _text(value: Any) -> str:
    if not isinstance(value, str) or value.endswith("…"):
        raise LookupError("the trail kept no whole text for this hop")
    return value


@dataclass
class ModelTimer:
    """The demo's models loaded in this process, timing each hop's model work directly."""

    files: dict[str, bytes]
    """The files the demo sent, by :func:`_digest`."""
    _models: dict[str, Any] = field(default_factory=dict)

    async def load(self, skills: set[str]) -> None:
        """Load the models the ``skills`` need (once)."""
        if "route" in skills and "embedder" not in self._models:
            from woa_embedder import Encoder

            self._models["embedder"] = await asyncio.to_thread(Encoder.load)
        if "read" in skills and "reader" not in self._models:
            from woa_reader import Reader

            self._models["reader"] = await asyncio.to_thread(Reader.load)
        if "transcribe" in skills and "transcriber" not in self._models:
            from woa_transcriber import Transcriber

            self._models["transcriber"] = await asyncio.to_thread(Transcriber.load)
        if "extract" in skills and "writer" not in self._models:
            from woa_writer.agent import build_writer

            writer = build_writer()
            await writer.load()
            self._models["writer"] = writer

    def close(self) -> None:
        """Free the models that hold resources."""
        writer = self._models.pop("writer", None)
        if writer is not None:
            writer.close()

    def _work(self, skill: str, given: dict[str, Any]) -> Callable[[], Awaitable[Any]]:
        """The model work a hop's agent does for ``given`` (its input as the trail has it)."""
        if skill == "route":
            encoder, text = self._models["embedder"], _text(given.get("text"))
            return lambda: asyncio.to_thread(encoder.embed, [text])
        if skill == "read":
            from PIL import Image

            reader, png = self._models["reader"], _file_in(given, self.files)
            return lambda: asyncio.to_thread(
                lambda: reader.read(Image.open(io.BytesIO(png)).convert("RGB"))
            )
        if skill == "transcribe":
            model, wav = self._models["transcriber"], _file_in(given, self.files)
            return lambda: asyncio.to_thread(lambda: list(model.segments(model.decode(wav))))
        if skill == "extract":
            writer, text = self._models["writer"], _text(given.get("text"))
            schema, instructions = given.get("json_schema"), given.get("instructions")
            if not isinstance(schema, dict):
                raise LookupError("the trail kept no JSON Schema for this hop")
            return lambda: writer.extract(text, schema, instructions=instructions)
        raise LookupError(f"no model is known for the skill {skill!r}")

    async def time_trail(self, trail: dict[str, Any], repeats: int = 1) -> dict[str, float]:
        """Model ms by hop id for the trail's completed hops (median of ``repeats``)."""
        hops = [h for h in trail.get("hops") or [] if h.get("status") == "completed"]
        await self.load({str(h.get("skill")) for h in hops})
        times: dict[str, float] = {}
        for hop in hops:
            try:
                work = self._work(str(hop.get("skill")), hop.get("input") or {})
            except LookupError:
                continue
            seen = []
            for _ in range(repeats):
                started = time.perf_counter()
                await work()
                seen.append((time.perf_counter() - started) * 1000)
            times[str(hop["id"])] = statistics.median(seen)
        return times


def _restore(value: Any, files: dict[str, bytes]) -> Any:
    """A hop's input as sent: the trail's file summaries replaced by the files' bytes."""
    if isinstance(value, dict):
        if value.get("sha256") in files:
            restored = {"raw": base64.b64encode(files[value["sha256"]]).decode()}
            restored |= {k: value[k] for k in ("mediaType", "filename") if value.get(k)}
            return restored
        return {k: _restore(v, files) for k, v in value.items()}
    if isinstance(value, list):
        return [_restore(v, files) for v in value]
    return value


async def probe_trail(
    trail: dict[str, Any], files: dict[str, bytes], repeats: int = 3
) -> dict[str, float]:
    """Our layers, measured, by hop id for the trail's completed steps (median of ``repeats``).

    As ``woa bench models`` does: a probe agent declaring the real agent's skill (same input
    and output models) answers the output the trail recorded at once, and the same signed
    call (the same input, files restored) is timed over a real socket. Hops whose agent is
    not in the sample catalog, or whose recorded input or output no longer validates (the
    trail shortens long values), are left out.
    """
    from woa_agents import Agent, AgentClient
    from woa_samples import CATALOG

    from .models import _canned_handler

    times: dict[str, float] = {}
    async with AgentClient(SigningKey.generate(), timeout=60) as client:
        for hop in trail.get("hops") or []:
            name, skill_id = str(hop.get("agentName")), str(hop.get("skill"))
            if hop.get("status") != "completed" or hop.get("kind") != "step" or name not in CATALOG:
                continue
            sample = CATALOG[name].build()
            try:
                real = sample.agent
                skill = real.skills[skill_id]
                payload = _restore(hop.get("input") or {}, files)
                output = hop.get("output")
                parsed = skill.input_model.model_validate(payload)
                skill.output_model.model_validate(output)
            except (KeyError, ValueError):
                sample.close()
                continue
            try:
                canned = {(skill_id, parsed.model_dump_json()): output}
                probe = Agent(
                    f"{name}-probe", "answers a recorded output", max_body_bytes=real.max_body_bytes
                )
                handler = _canned_handler(canned, skill_id, streaming=skill.streaming)
                probe.skill(skill_id, input=skill.input_model, output=skill.output_model)(handler)
                async with probe.running() as running:
                    await client.call(skill_id, payload, agent=running.url)  # warm-up
                    seen = []
                    for _ in range(repeats):
                        started = time.perf_counter()
                        await client.call(skill_id, payload, agent=running.url)
                        seen.append((time.perf_counter() - started) * 1000)
                times[str(hop["id"])] = statistics.median(seen)
            finally:
                sample.close()
    return times


# -- the web and the runs ----------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextlib.contextmanager
def start_web(
    workdir: Path, timeout: float = 300.0, progress: Callable[[str], None] = lambda _t: None
) -> Iterator[str]:
    """Run the registry and the demo's agents (as ``woa up`` does) on free ports; yield the URL."""
    from woa_cli.up import Process, Stack, wait_until_up, woa_executable

    woa = woa_executable()
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    registry = Process(
        "registry",
        [
            *woa,
            "registry",
            "serve",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--no-mdns",
            "--database-url",
            f"sqlite:///{workdir / 'registry.db'}",
            "--key-file",
            str(workdir / "registry-key.pem"),
        ],
        url,
        workdir / "registry.log",
    )
    agents = []
    for name in DEMO_AGENTS:
        agent_port = _free_port()
        argv = [*woa, "agents", "run", name, "--host", "127.0.0.1", "--port", str(agent_port)]
        argv += ["--registry-url", url]
        agents.append(
            Process(name, argv, f"http://127.0.0.1:{agent_port}", workdir / f"{name}.log")
        )
    stack = Stack(registry, url, agents)
    try:
        progress("starting the registry and the demo's agents (models load first)")
        for part in stack.all():
            part.start()
        failed = asyncio.run(wait_until_up(stack, timeout))
        if failed:
            raise RuntimeError(f"did not come up: {', '.join(failed)} (logs in {workdir})")
        yield url
    finally:
        stack.stop()


async def _runs(
    registry_url: str,
    runs: int,
    warmup: bool,
    memo: str,
    repeats: int,
    progress: Callable[[str], None],
) -> list[DemoSplit]:
    from woa_cli.demo import run_demo
    from woa_cli.demo_inputs import receipt_png, voice_memo_wav

    files = {_digest(raw): raw for raw in (receipt_png(), voice_memo_wav(memo))}
    timer = ModelTimer(files)
    key = SigningKey.generate()
    splits = []
    try:
        for i in range(int(warmup) + runs):
            label = "warm-up demo" if warmup and i == 0 else f"demo {i + 1 - int(warmup)}/{runs}"
            result = await run_demo(
                registry_url,
                key,
                memo=memo,
                on_progress=lambda text, at=label: progress(f"{at}: {text}"),
            )
            if warmup and i == 0:
                continue
            progress(f"{label}: timing each hop's model directly on the same inputs")
            await timer.time_trail(result.trail)  # warm-up of the loaded models
            model_ms = await timer.time_trail(result.trail, repeats)
            progress(f"{label}: timing each step's signed call to a probe (no model)")
            probe_ms = await probe_trail(result.trail, files, repeats)
            splits.append(split(result.trail, result.seconds * 1000, model_ms, probe_ms))
    finally:
        timer.close()
    return splits


def run(
    registry_url: str | None = None,
    *,
    runs: int = 1,
    warmup: bool = True,
    memo: str | None = None,
    model_repeats: int = 3,
    startup_timeout: float = 300.0,
    progress: Callable[[str], None] = lambda _text: None,
) -> DemoSplit:
    """Run the demo ``runs`` times (after a warm-up run) and return the medians' split.

    After each run, every hop's model work is done ``model_repeats`` times in this process
    (after one unmeasured call) and its median kept.

    Without ``registry_url`` the registry and the demo's agents are started on free ports
    and stopped afterwards.
    """
    from woa_cli.demo import DEFAULT_MEMO

    said = memo or DEFAULT_MEMO
    if registry_url is not None:
        return combine(
            asyncio.run(_runs(registry_url, runs, warmup, said, model_repeats, progress))
        )
    with (
        tempfile.TemporaryDirectory(prefix="woa-bench-demo-") as workdir,
        start_web(Path(workdir), startup_timeout, progress) as url,
    ):
        return combine(asyncio.run(_runs(url, runs, warmup, said, model_repeats, progress)))
