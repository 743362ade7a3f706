"""``woa demo``: a task no single model can do, done by agents that find and call each other.

A generated receipt photo and a generated voice memo ("file this under travel, it was the
taxi to the airport") go to the planner, found through the registry. The planner asks the
router which skills fit, has the reader read the receipt, the transcriber transcribe the
memo and the writer extract an expense record (JSON Schema-constrained), asks before filing
it in shared state, and keeps a trail. The demo prints the record and the call tree rebuilt
from the trail's trace spans, with each hop's verified signer, skill and time.
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import typer
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table
from rich.tree import Tree

from woa_agents import (
    AgentClient,
    File,
    StateClient,
    TraceContext,
    WoaError,
    natural_value,
    text_of,
)
from woa_protocol import SigningKey
from woa_protocol.models import Message, Task, TaskState

from ._console import console, fail

__all__ = ["DEFAULT_MEMO", "DemoResult", "call_tree", "demo", "run_demo"]

DEFAULT_MEMO = "File this under travel. It was the taxi to the airport."
GOAL = (
    "Extract the expense record (vendor, date, total, currency, category) from the receipt "
    "and the voice memo."
)

INSTRUCTIONS = (
    "The text has two parts: what a receipt photo says and what a voice memo says. "
    "The vendor, date, total and currency come from the receipt; the total is the line "
    "marked TOTAL. The category comes from the memo."
)

PAUSED_OR_DONE = {
    state.value
    for state in (
        TaskState.INPUT_REQUIRED,
        TaskState.AUTH_REQUIRED,
        TaskState.COMPLETED,
        TaskState.FAILED,
        TaskState.CANCELED,
        TaskState.REJECTED,
    )
}


@dataclass
class DemoResult:
    """What the demo produced: the record, the planner's answer and its trail."""

    record: Any
    answer: dict[str, Any]
    trail: dict[str, Any]
    seconds: float
    trace: TraceContext


def call_tree(trail: dict[str, Any], root_label: str = "woa demo") -> Tree:
    """The trail's hops as a tree (STATE-051: a malformed trail is reported, not drawn)."""
    hops = trail.get("hops") or []
    ids = [h.get("id") for h in hops]
    if len(set(ids)) != len(ids) or any(h.get("parent") not in (None, *ids) for h in hops):
        bad = next(
            h for h in hops if ids.count(h.get("id")) > 1 or h.get("parent") not in (None, *ids)
        )
        return Tree(f"[red]malformed trail[/red]: hop {bad.get('id')!r}")
    tree = Tree(f"[bold]{root_label}[/bold]  trace {trail.get('traceId', '?')}")
    planner = tree.add(
        f"[bold]planner[/bold] act  [dim]{trail.get('planner', '')}[/dim]  "
        f"span {trail.get('spanId', '')}"
    )
    nodes: dict[str | None, Tree] = {None: planner}
    for hop in hops:
        parent = nodes.get(hop.get("parent"), planner)
        ok = hop.get("status") == "completed"
        mark = "[green]✓ signature verified[/green]" if ok and hop.get("signer") else "[red]✗[/red]"
        label = (
            f"[bold]{hop.get('agentName', '?')}[/bold] {hop.get('skill')} "
            f"({hop.get('kind', 'step')})  {hop.get('ms', '?')} ms  {mark}\n"
            f"[dim]signer {hop.get('signer') or hop.get('agent')}  span {hop.get('id')}[/dim]"
        )
        if hop.get("error"):
            label += f"\n[red]{hop['error']}[/red]"
        nodes[hop.get("id")] = parent.add(label)
    return tree


async def run_demo(
    registry_url: str,
    key: SigningKey,
    *,
    memo: str = DEFAULT_MEMO,
    approve: bool = True,
    timeout: float = 600.0,
    on_progress: Any = None,
) -> DemoResult:
    """Run the compound task against the web at ``registry_url``; return what it produced."""
    from .demo_inputs import EXPENSE_SCHEMA, receipt_png, voice_memo_wav

    def note(text: str) -> None:
        if on_progress is not None:
            on_progress(text)

    note("generating a receipt photo and a voice memo")
    receipt = File(raw=receipt_png(), media_type="image/png", filename="receipt.png")
    audio = File(raw=voice_memo_wav(memo), media_type="audio/wav", filename="memo.wav")
    started = time.perf_counter()
    trace = TraceContext.new()
    context_id = uuid.uuid4().hex
    request = {
        "goal": GOAL,
        "files": [receipt.to_json_dict(), audio.to_json_dict()],
        "data": {"json_schema": EXPENSE_SCHEMA, "instructions": INSTRUCTIONS},
        "file_to": "expenses",
    }
    async with AgentClient(key, registry_url=registry_url, timeout=timeout) as client:
        note("finding a planner through the registry")
        planners = await client.find(skill="act")
        if not planners:
            raise WoaError(
                f"no planner is registered at {registry_url}: start the web with `woa up`"
            )
        planner = planners[0]
        note(f"planner {planner.name} at {planner.url}: planning and acting")
        answer = await client.send(
            "act",
            request,
            agent=planner,
            context_id=context_id,
            return_immediately=True,
            traceparent=trace.traceparent,
        )
        task_id = answer.id if isinstance(answer, Task) else None
        if task_id is not None:
            async for event in client.subscribe(task_id, agent=planner):
                if event.kind == "status":
                    status = event.data.get("status") or {}
                    message = status.get("message")
                    if message:
                        note(text_of(Message.model_validate(message)))
                    if status.get("state") in PAUSED_OR_DONE:
                        break  # the stream may stay open on a pause: stop reading here
            answer = await client.get_task(task_id, agent=planner)
        if isinstance(answer, Task) and answer.status.state is TaskState.INPUT_REQUIRED:
            question = text_of(answer.status.message) if answer.status.message else ""
            note(f"approval: {question}")
            answer = await client.send(
                "act",
                {"approval": "approve" if approve else "reject"},
                agent=planner,
                task_id=answer.id,
                context_id=context_id,
                traceparent=trace.traceparent,
            )
        if isinstance(answer, Task) and answer.status.state is not TaskState.COMPLETED:
            why = text_of(answer.status.message) if answer.status.message else ""
            raise WoaError(f"the planner's task ended {answer.status.state.value}: {why}")
        out = _record_of(answer)
    async with StateClient(registry_url, key) as state:
        trail = (await state.get(out["trail_namespace"], out["trail_key"]))["value"]
    record = out["result"]
    if isinstance(record, dict) and isinstance(record.get("data"), dict):
        record = record["data"]  # an extract answer: the record and the model that wrote it
    return DemoResult(record, out, trail, time.perf_counter() - started, trace)


def _record_of(answer: Task | Message) -> dict[str, Any]:
    value = natural_value(answer)
    if not isinstance(value, dict):
        raise WoaError(f"the planner answered no record: {value!r}")
    return value


def demo(
    registry_url: str = typer.Option(
        "http://127.0.0.1:8470", "--registry-url", envvar="WOA_REGISTRY_URL", help="Registry."
    ),
    key_file: Path = typer.Option(
        None, "--key", help="Your key file (default: a fresh key for this run)."
    ),
    memo: str = typer.Option(DEFAULT_MEMO, help="What the voice memo says."),
    yes: bool = typer.Option(True, "--yes/--ask", help="Approve filing the record without asking."),
    timeout: float = typer.Option(600.0, min=1.0, help="Seconds the whole task may take."),
    as_json: bool = typer.Option(False, "--json", help="Print the result and trail as JSON."),
) -> None:
    """Run the compound demo against a running web (start it with `make run`)."""
    from woa_protocol.keyfile import load_key

    key = load_key(key_file) if key_file else SigningKey.generate()
    approve = yes
    if not yes:
        approve = typer.confirm("File the expense record in shared state 'expenses'?")
    with Progress(
        SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn(), console=console
    ) as progress:
        line = progress.add_task("starting", total=None)
        try:
            result = asyncio.run(
                run_demo(
                    registry_url,
                    key,
                    memo=memo,
                    approve=approve,
                    timeout=timeout,
                    on_progress=lambda text: progress.update(line, description=text),
                )
            )
        except (WoaError, OSError) as exc:
            progress.stop()
            fail(str(exc))
    if as_json:
        typer.echo(
            json.dumps(
                {
                    "record": result.record,
                    "seconds": round(result.seconds, 3),
                    "trail_namespace": result.answer["trail_namespace"],
                    "trail_key": result.answer["trail_key"],
                    "filed_as": result.answer.get("filed_as"),
                    "trail": result.trail,
                }
            )
        )
        return
    table = Table(title="Expense record", show_header=False)
    for field, value in (result.record or {}).items():
        table.add_row(str(field), str(value))
    console.print(table)
    console.print(call_tree(result.trail))
    filed = result.answer.get("filed_as")
    console.print(
        f"done in {result.seconds:.1f} s; trail: state {result.answer['trail_namespace']}/"
        f"{result.answer['trail_key']}" + (f"; filed as {filed}" if filed else ""),
        soft_wrap=True,
    )
