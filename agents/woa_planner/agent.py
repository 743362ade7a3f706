"""The planner agent (LAM-style plan -> act): a goal and files in, a checked plan executed.

It asks the router for ranked candidates per sub-goal, lets a small LM (any agent offering
``extract``, under a JSON-Schema grammar) choose among them when the router is unsure, checks
every step's input against the skill's signed input schema, calls only allowlisted skills,
and waits for approval (``input-required``) before a side effect. The plan, every hop (its
verified signer, skill, input, output, time and trace span) and the result are written to a
shared-state trail tied to the task's ``contextId``. Written only with the SDK's public API.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import re
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, Field

from woa_agents import (
    Agent,
    AgentClient,
    File,
    InputRequired,
    Rejected,
    SkillContext,
    StateClient,
    StateClientError,
    TraceContext,
)
from woa_protocol import SigningKey

from .planning import (
    Candidate,
    Goal,
    InputFile,
    Plan,
    PlanningError,
    SkillInfo,
    Step,
    make_plan,
    text_of,
)

__all__ = ["ActIn", "ActOut", "PlannerService", "build_agent"]

log = logging.getLogger("woa.planner")

SIDE_EFFECT_TAG = "side-effect"


class ActIn(BaseModel):
    """A goal in plain words, the files and data it comes with; or an approval answer."""

    goal: str = Field(default="", max_length=4000, description="What to do, in plain words.")
    files: list[File] = Field(default_factory=list, description="Images, audio, documents.")
    data: dict[str, Any] = Field(
        default_factory=dict, description="Named inputs for the steps, e.g. a JSON Schema."
    )
    file_to: str | None = Field(
        default=None,
        pattern=r"^[a-z0-9][a-z0-9._-]{0,62}$",
        description="A shared-state namespace to file the result in (a side effect: asks first).",
    )
    approval: Literal["approve", "reject"] | None = Field(
        default=None, description="The answer to an approval question (resuming the task)."
    )


class Hop(BaseModel):
    """One call the planner made, as the trail records it."""

    step: int
    span_id: str
    parent_span_id: str
    agent_did: str
    agent_name: str
    signer: str = Field(description="The DID whose signature on the answer was verified.")
    skill: str
    ms: float
    status: Literal["ok", "failed"]
    error: str | None = None


class ActOut(BaseModel):
    """The result, the plan that produced it and where the trail is."""

    result: Any = Field(description="The last step's output.")
    plan: dict[str, Any]
    hops: list[Hop]
    trail_namespace: str
    trail_key: str
    trace_id: str
    filed_as: str | None = None


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _summary(value: Any) -> Any:
    """What the trail keeps of an input or output: file bytes become their digest and size."""
    if isinstance(value, dict):
        if isinstance(value.get("raw"), str):
            raw = value["raw"]
            return {
                "mediaType": value.get("mediaType"),
                "filename": value.get("filename"),
                "sha256": hashlib.sha256(raw.encode()).hexdigest(),
                "base64Length": len(raw),
            }
        return {k: _summary(v) for k, v in value.items()}
    if isinstance(value, list):
        if len(value) > 32 and all(isinstance(v, int | float) for v in value):
            return {"numbers": len(value)}
        return [_summary(v) for v in value]
    if isinstance(value, str) and len(value) > 2000:
        return value[:2000] + "…"
    return value


class PlannerService:
    """Plans with the router (and an LM), acts through the SDK client, keeps the trail."""

    def __init__(
        self,
        key: SigningKey,
        registry_url: str,
        own_did: str,
        *,
        allow: Sequence[str] = ("*",),
        confident: float = 0.6,
        use_lm: bool = True,
    ) -> None:
        self.own_did = own_did
        self.allow = set(allow)
        self.confident = confident
        self.use_lm = use_lm
        self.client = AgentClient(key, registry_url=registry_url)
        self.state = StateClient(registry_url, key)
        self._pending: dict[str, tuple[ActIn, ActOut]] = {}
        self._namespaces: set[str] = set()

    # -- planning ---------------------------------------------------------------------

    async def route(self, text: str, media_type: str | None) -> list[Candidate]:
        """The router agent's ranked candidates for a sub-goal."""
        answer = await self.client.call(
            "route",
            {"text": text, "k": 3, "input_mode": media_type, "exclude_agents": [self.own_did]},
        )
        return [
            Candidate(
                c["skill_id"], c["agent_did"], c["agent_url"], c["agent_name"], c["probability"]
            )
            for c in answer["candidates"]
        ]

    async def choose(self, purpose: str, candidates: Sequence[Candidate]) -> int | None:
        """Ask an LM (``extract`` under a grammar) which candidate fits; None when unsure."""
        if not self.use_lm:
            return None
        options = {f"option{i + 1}": c for i, c in enumerate(candidates)}
        listing = "\n".join(f"{name}: {c.skill_id} ({c.agent_name})" for name, c in options.items())
        schema = {
            "type": "object",
            "properties": {"choice": {"enum": [*options, "unsure"]}},
            "required": ["choice"],
        }
        text = f"Request: {purpose}\nWhich skill should handle it?\n{listing}"
        try:
            answer = await self.client.call("extract", {"text": text, "schema": schema})
        except Exception as exc:  # an LM that fails leaves the router's choice standing
            log.warning("LM choice failed (%s); the router's top choice stands", exc)
            return None
        choice = (answer.get("data") or answer).get("choice") if isinstance(answer, dict) else None
        names = list(options)
        return names.index(choice) if choice in names else None

    async def describe(self, candidate: Candidate) -> SkillInfo | None:
        """The skill's input schema (from its signed card) and whether it has side effects."""
        remote = await self.client.agent(candidate.agent_url)
        profile = remote.skills.get(candidate.skill_id)
        if profile is None:
            return None
        tags = next(
            (
                s.get("tags") or []
                for s in remote.card.get("skills", [])
                if s.get("id") == candidate.skill_id
            ),
            [],
        )
        return SkillInfo(dict(profile.input_schema), side_effect=SIDE_EFFECT_TAG in tags)

    def allowed(self, candidate: Candidate) -> bool:
        """Allowlisted: ``*``, the skill id, or the agent's DID."""
        return bool({"*", candidate.skill_id, candidate.agent_did} & self.allow)

    async def plan(self, request: ActIn) -> Plan:
        """A checked plan for ``request``."""
        goal = Goal(
            request.goal,
            tuple(InputFile(f.media_type, f.filename, f.to_json_dict()) for f in request.files),
            request.data,
        )
        return await make_plan(
            goal,
            self.route,
            self.describe,
            choose=self.choose,
            allowed=self.allowed,
            confident=self.confident,
        )

    # -- acting -----------------------------------------------------------------------

    @staticmethod
    def trail_place(ctx: SkillContext) -> tuple[str, str]:
        """(namespace, key) of a task's trail: one namespace per A2A context, a key per task."""
        namespace = "trail-" + re.sub(r"[^A-Za-z0-9._-]", "-", ctx.context_id)
        return namespace[:128], re.sub(r"[^A-Za-z0-9._-]", "-", ctx.task_id)[:128]

    async def _trail(self, ctx: SkillContext, document: dict[str, Any]) -> str:
        namespace, key = self.trail_place(ctx)
        if ctx.task_id not in self._namespaces:
            with contextlib.suppress(StateClientError):  # it exists: another task's context
                await self.state.put_namespace(
                    namespace, public_read=True, context_id=ctx.context_id
                )
            self._namespaces.add(ctx.task_id)
        await self.state.put(namespace, key, document)
        return namespace

    async def _call(self, step: Step, outputs: dict[int, Any], trace: TraceContext) -> Any:
        payload = dict(step.input)
        if step.text_field:
            payload[step.text_field] = "\n".join(text_of(outputs[i]) for i in step.text_from)
        return await self.client.call(
            step.skill_id, payload, agent=step.agent_url, traceparent=trace.traceparent
        )

    async def act(self, request: ActIn, ctx: SkillContext) -> ActOut:
        """Plan, run every step, keep the trail, and ask before a side effect."""
        if request.approval is not None:
            return await self._resume(request, ctx)
        if not request.goal.strip():
            raise Rejected("a goal is required")
        started = _now()
        trail: dict[str, Any] = {
            "kind": "woa.trail/v1",
            "goal": request.goal,
            "contextId": ctx.context_id,
            "taskId": ctx.task_id,
            "traceId": ctx.trace.trace_id,
            "rootSpanId": ctx.trace.span_id,
            "planner": self.own_did,
            "caller": ctx.caller_did,
            "startedAt": started,
            "status": "planning",
            "hops": [],
        }
        try:
            plan = await self.plan(request)
        except PlanningError as exc:
            trail["status"] = "failed"
            trail["error"] = str(exc)
            await self._trail(ctx, trail)
            raise Rejected(str(exc)) from exc
        trail["plan"] = plan.as_json()
        trail["status"] = "running"
        namespace = await self._trail(ctx, trail)
        outputs: dict[int, Any] = {}
        hops: list[Hop] = []
        for step in plan.steps:
            if step.side_effect:
                raise Rejected(f"step {step.index} ({step.skill_id}) has side effects: not run")
            await ctx.progress(f"step {step.index + 1}/{len(plan.steps)}: {step.skill_id}")
            span = ctx.trace.child()
            began = time.perf_counter()
            entry: dict[str, Any] = {
                "step": step.index,
                "spanId": span.span_id,
                "parentSpanId": ctx.trace.span_id,
                "agent": step.agent_did,
                "agentName": step.agent_name,
                "agentUrl": step.agent_url,
                "skill": step.skill_id,
                "input": _summary(step.input),
                "startedAt": _now(),
            }
            try:
                outputs[step.index] = await self._call(step, outputs, span)
            except Exception as exc:
                entry.update(
                    status="failed", error=str(exc), ms=(time.perf_counter() - began) * 1000
                )
                trail["hops"].append(entry)
                trail["status"] = "failed"
                trail["error"] = f"step {step.index} ({step.skill_id} at {step.agent_name}): {exc}"
                await self._trail(ctx, trail)
                raise Rejected(trail["error"]) from exc
            ms = (time.perf_counter() - began) * 1000
            entry.update(
                status="ok",
                signer=step.agent_did,
                ms=round(ms, 1),
                output=_summary(outputs[step.index]),
            )
            trail["hops"].append(entry)
            hops.append(
                Hop(
                    step=step.index,
                    span_id=span.span_id,
                    parent_span_id=ctx.trace.span_id,
                    agent_did=step.agent_did,
                    agent_name=step.agent_name,
                    signer=step.agent_did,
                    skill=step.skill_id,
                    ms=round(ms, 1),
                    status="ok",
                )
            )
            await self._trail(ctx, trail)
        last = plan.steps[-1].index
        result = outputs[last]
        out = ActOut(
            result=result,
            plan=plan.as_json(),
            hops=hops,
            trail_namespace=namespace,
            trail_key=self.trail_place(ctx)[1],
            trace_id=ctx.trace.trace_id,
        )
        trail["result"] = _summary(result)
        if request.file_to:
            trail["status"] = "awaiting-approval"
            await self._trail(ctx, trail)
            self._pending[ctx.task_id] = (request, out)
            raise InputRequired(
                f"File the result in shared state {request.file_to!r}? "
                'Answer {"approval": "approve"} or {"approval": "reject"}.'
            )
        trail["status"] = "completed"
        trail["endedAt"] = _now()
        await self._trail(ctx, trail)
        return out

    async def _resume(self, answer: ActIn, ctx: SkillContext) -> ActOut:
        pending = self._pending.pop(ctx.task_id, None)
        if pending is None:
            raise Rejected("nothing is waiting for approval in this task")
        request, out = pending
        namespace = out.trail_namespace
        trail = (await self.state.get(namespace, self.trail_place(ctx)[1]))["value"]
        if answer.approval == "reject":
            trail["status"] = "completed"
            trail["approval"] = {"answer": "reject", "by": ctx.caller_did, "at": _now()}
            await self._trail(ctx, trail)
            return out
        assert request.file_to is not None
        with contextlib.suppress(Exception):
            await self.state.put_namespace(request.file_to, public_read=True)
        key = ctx.task_id.lower()
        await self.state.put(request.file_to, key, out.result)
        trail["approval"] = {"answer": "approve", "by": ctx.caller_did, "at": _now()}
        trail["filedAs"] = f"{request.file_to}/{key}"
        trail["status"] = "completed"
        trail["endedAt"] = _now()
        await self._trail(ctx, trail)
        return out.model_copy(update={"filed_as": f"{request.file_to}/{key}"})

    async def aclose(self) -> None:
        """Close connections."""
        await self.client.aclose()
        await self.state.aclose()


def build_agent(
    registry_url: str, key: SigningKey | str | Path | None = None, **agent_options: Any
) -> Agent:
    """The planner agent, finding its router, LM and workers through ``registry_url``."""
    agent = Agent(
        "planner",
        "Plans and acts: turns a goal with files into a checked plan of skill calls on the "
        "web, runs it, asks before side effects, and keeps a signed trail in shared state.",
        key=key,
        registry_url=registry_url,
        **agent_options,
    )
    allow = [a for a in os.environ.get("WOA_PLANNER_ALLOW", "*").split(",") if a.strip()]
    service = PlannerService(
        agent.key,
        registry_url,
        agent.did,
        allow=allow,
        use_lm=os.environ.get("WOA_PLANNER_USE_LM", "1") != "0",
    )

    @agent.skill(
        family="lam",
        tags=["planning", "orchestration", "plan-and-act"],
        latency_ms=8000,
        input_modalities=["text", "image", "audio", "data"],
    )
    async def act(request: ActIn, ctx: SkillContext) -> ActOut:
        """Plan a goal into skill calls on the web, run them, and return the result."""
        return await service.act(request, ctx)

    agent.planner_service = service  # type: ignore[attr-defined]
    return agent
