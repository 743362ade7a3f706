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
    NoAgentAvailableError,
    Rejected,
    RemoteAgent,
    SkillContext,
    StateClient,
    StateClientError,
    TransportError,
)
from woa_protocol import SigningKey
from woa_samples import Sample

from .planning import (
    CHOICE_INSTRUCTIONS,
    Candidate,
    Goal,
    InputFile,
    Plan,
    PlanningError,
    SkillInfo,
    Step,
    choice_prompt,
    make_plan,
    text_of,
)

__all__ = ["ActIn", "ActOut", "PlannerService", "build", "build_agent"]

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

    step: int | None = Field(description="The plan step, None for a planning call.")
    kind: Literal["route", "choose", "step"]
    span_id: str
    parent_span_id: str
    agent_did: str
    agent_name: str
    signer: str = Field(description="The DID whose signature on the answer was verified.")
    skill: str
    ms: float


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


class Run:
    """One ``act`` task: its trail document (STATE-050) and every call it makes, timed."""

    def __init__(self, service: PlannerService, ctx: SkillContext, goal: str) -> None:
        self.service = service
        self.ctx = ctx
        self.namespace, self.key = service.trail_place(ctx)
        self.version: int | None = None
        self.hops: list[Hop] = []
        self.trail: dict[str, Any] = {
            "kind": "woa.trail/1",
            "task": ctx.task_id,
            "contextId": ctx.context_id,
            "goal": goal,
            "planner": service.own_did,
            "caller": ctx.caller_did,
            "traceId": ctx.trace.trace_id,
            "spanId": ctx.trace.span_id,
            "parentSpanId": ctx.trace.parent_id,
            "startedAt": _now(),
            "status": "planning",
            "hops": [],
        }

    async def save(self) -> None:
        """Write the trail with compare-and-set (created on the first write)."""
        state = self.service.state
        if self.version is None:
            with contextlib.suppress(StateClientError):  # another task made it already
                await state.put_namespace(
                    self.namespace, public_read=True, context_id=self.ctx.context_id
                )
            written = await state.put(self.namespace, self.key, self.trail, create=True)
        else:
            written = await state.put(self.namespace, self.key, self.trail, if_match=self.version)
        self.version = int(written["version"])

    async def call(
        self,
        remote: RemoteAgent,
        skill: str,
        payload: Any,
        *,
        step: int | None,
        kind: str,
    ) -> Any:
        """Call ``skill`` on ``remote`` in a child span and record the hop."""
        span = self.ctx.trace.child()
        hop: dict[str, Any] = {
            "id": span.span_id,
            "parent": None,
            "kind": kind,
            "step": step,
            "skill": skill,
            "agent": remote.did,
            "agentName": remote.name,
            "agentUrl": remote.url,
            "at": _now(),
            "status": "working",
            "input": _summary(payload),
        }
        self.trail["hops"].append(hop)
        if kind == "step":
            await self.save()
        began = time.perf_counter()
        try:
            output = await self.service.client.call(
                skill, payload, agent=remote, traceparent=span.traceparent
            )
        except Exception as exc:
            hop.update(status="failed", error=str(exc), ms=_ms(began))
            await self.save()
            raise
        hop.update(
            status="completed",
            signer=remote.did,  # the answer's signature was verified against this DID
            ms=_ms(began),
            output=_summary(output),
        )
        self.hops.append(
            Hop(
                step=step,
                kind=kind,
                span_id=span.span_id,
                parent_span_id=self.ctx.trace.span_id,
                agent_did=remote.did or "",
                agent_name=remote.name,
                signer=remote.did or "",
                skill=skill,
                ms=hop["ms"],
            )
        )
        if kind == "step":
            await self.save()
        return output


def _ms(began: float) -> float:
    return round((time.perf_counter() - began) * 1000, 1)


class PlannerService:
    """Plans with the router (and an LM), acts through the SDK client, keeps the trail."""

    def __init__(
        self,
        key: SigningKey,
        registry_url: str,
        own_did: str,
        *,
        allow: Sequence[str] = ("*",),
        confident: float = 0.4,
        use_lm: bool = True,
        step_timeout: float = 300.0,
    ) -> None:
        self.own_did = own_did
        self.allow = set(allow)
        self.confident = confident
        self.use_lm = use_lm
        self.client = AgentClient(key, registry_url=registry_url, timeout=step_timeout)
        self.state = StateClient(registry_url, key)
        self._pending: dict[str, tuple[ActIn, ActOut, Run]] = {}

    @staticmethod
    def trail_place(ctx: SkillContext) -> tuple[str, str]:
        """(namespace, key) of a task's trail: a namespace per A2A context, ``trails/{task}``."""
        namespace = "trail-" + re.sub(r"[^A-Za-z0-9._-]", "-", ctx.context_id)
        return namespace[:128], "trails/" + re.sub(r"[^A-Za-z0-9._-]", "-", ctx.task_id)[:120]

    async def _provider(self, skill: str) -> RemoteAgent:
        found = await self.client.find(skill=skill)
        found = [a for a in found if a.did != self.own_did]
        if not found:
            raise PlanningError(f"no agent offering {skill!r} is registered")
        return found[0]

    # -- planning ---------------------------------------------------------------------

    def _route(self, run: Run) -> Any:
        async def route(text: str, media_type: str | None) -> list[Candidate]:
            router = await self._provider("route")
            payload = {"text": text, "k": 3, "input_mode": media_type}
            payload["exclude_agents"] = [self.own_did]
            answer = await run.call(router, "route", payload, step=None, kind="route")
            return [
                Candidate(
                    c["skill_id"],
                    c["agent_did"],
                    c["agent_url"],
                    c["agent_name"],
                    c["probability"],
                    c.get("description", ""),
                )
                for c in answer["candidates"]
            ]

        return route

    def _choose(self, run: Run) -> Any:
        async def choose(purpose: str, candidates: Sequence[Candidate]) -> int | None:
            """Ask an LM (``extract`` under a grammar) which candidate fits; None if unsure."""
            if not self.use_lm:
                return None
            text, schema, names = choice_prompt(purpose, candidates)
            try:
                lm = await self._provider("extract")
                answer = await run.call(
                    lm,
                    "extract",
                    {"text": text, "json_schema": schema, "instructions": CHOICE_INSTRUCTIONS},
                    step=None,
                    kind="choose",
                )
            except Exception as exc:  # a failing LM leaves the router's choice standing
                log.warning("LM choice failed (%s); the router's top choice stands", exc)
                return None
            record = answer.get("data", answer) if isinstance(answer, dict) else {}
            choice = record.get("choice") if isinstance(record, dict) else None
            return names.index(choice) if choice in names else None

        return choose

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

    async def plan(self, request: ActIn, run: Run) -> Plan:
        """A checked plan for ``request``."""
        goal = Goal(
            request.goal,
            tuple(InputFile(f.media_type, f.filename, f.to_json_dict()) for f in request.files),
            request.data,
        )
        return await make_plan(
            goal,
            self._route(run),
            self.describe,
            choose=self._choose(run),
            allowed=self.allowed,
            confident=self.confident,
        )

    # -- acting -----------------------------------------------------------------------

    async def act(self, request: ActIn, ctx: SkillContext) -> ActOut:
        """Plan, run every step, keep the trail, and ask before a side effect."""
        if request.approval is not None:
            return await self._resume(request, ctx)
        if not request.goal.strip():
            raise Rejected("a goal is required")
        run = Run(self, ctx, request.goal)
        await self.save_quietly(run)
        try:
            await ctx.progress("planning: asking the router for candidate skills")
            plan = await self.plan(request, run)
        except PlanningError as exc:
            run.trail.update(status="failed", error=str(exc))
            await run.save()
            raise Rejected(str(exc)) from exc
        run.trail["plan"] = plan.as_json()
        run.trail["status"] = "running"
        await run.save()
        await ctx.progress(
            "plan: "
            + "; ".join(f"{s.skill_id} at {s.agent_name} {s.agent_url}" for s in plan.steps)
        )
        outputs: dict[int, Any] = {}
        for step in plan.steps:
            if step.side_effect:
                raise Rejected(f"step {step.index} ({step.skill_id}) has side effects: not run")
            await ctx.progress(
                f"step {step.index + 1}/{len(plan.steps)}: {step.skill_id} at {step.agent_name}"
            )
            payload = dict(step.input)
            if step.text_field:
                payload[step.text_field] = "\n".join(text_of(outputs[i]) for i in step.text_from)
            try:
                outputs[step.index] = await self._run_step(run, step, payload, ctx)
            except Exception as exc:
                where = f"step {step.index + 1} ({step.skill_id} at {step.agent_name})"
                run.trail.update(status="failed", error=f"{where}: {exc}")
                await run.save()
                raise Rejected(f"{where} failed: {exc}") from exc
        result = outputs[plan.steps[-1].index]
        out = ActOut(
            result=result,
            plan=plan.as_json(),
            hops=run.hops,
            trail_namespace=run.namespace,
            trail_key=run.key,
            trace_id=ctx.trace.trace_id,
        )
        run.trail["result"] = _summary(result)
        if request.file_to:
            run.trail["status"] = "input-required"
            await run.save()
            self._pending[ctx.task_id] = (request, out, run)
            raise InputRequired(
                f"File the result in shared state {request.file_to!r}? "
                'Answer {"approval": "approve"} or {"approval": "reject"}.'
            )
        run.trail.update(status="completed", endedAt=_now())
        await run.save()
        return out

    async def _run_step(
        self, run: Run, step: Step, payload: dict[str, Any], ctx: SkillContext
    ) -> Any:
        """Call the planned agent; when it cannot be reached, the next one offering the skill.

        Only a transport failure moves on (the agent never answered): an agent that
        answered with an error would be asked the same thing again for nothing.
        """
        tried: set[str] = set()
        where: RemoteAgent | str = step.agent_url
        while True:
            try:
                remote = where if isinstance(where, RemoteAgent) else await self.client.agent(where)
                return await run.call(remote, step.skill_id, payload, step=step.index, kind="step")
            except (TransportError, NoAgentAvailableError) as exc:
                if isinstance(exc, NoAgentAvailableError) and not all(
                    isinstance(error, TransportError) for _, error in exc.attempts
                ):
                    raise  # an agent answered: its error stands
                tried.add(where.url if isinstance(where, RemoteAgent) else where)
                tried.add(step.agent_did)
                others = [
                    a
                    for a in await self.client.find(skill=step.skill_id)
                    if a.url not in tried and a.did not in tried and a.did != self.own_did
                ]
                if not others:
                    raise
                where = others[0]
                tried.add(where.did or where.url)
                await ctx.progress(
                    f"step {step.index + 1}: {step.skill_id} unreachable ({exc}); "
                    f"failing over to {where.name} {where.url}"
                )

    @staticmethod
    async def save_quietly(run: Run) -> None:
        """The first trail write: a failure here is logged, not fatal to the task."""
        try:
            await run.save()
        except Exception as exc:
            log.warning("cannot write the trail %s/%s: %s", run.namespace, run.key, exc)

    async def _resume(self, answer: ActIn, ctx: SkillContext) -> ActOut:
        pending = self._pending.pop(ctx.task_id, None)
        if pending is None:
            raise Rejected("nothing is waiting for approval in this task")
        request, out, run = pending
        run.trail["approval"] = {"answer": answer.approval, "by": ctx.caller_did, "at": _now()}
        if answer.approval == "approve" and request.file_to is not None:
            with contextlib.suppress(StateClientError):  # it exists already
                await self.state.put_namespace(request.file_to, public_read=True)
            key = re.sub(r"[^A-Za-z0-9._-]", "-", ctx.task_id)
            await self.state.put(request.file_to, key, out.result, create=True)
            out = out.model_copy(update={"filed_as": f"{request.file_to}/{key}"})
            run.trail["filedAs"] = out.filed_as
        run.trail.update(status="completed", endedAt=_now())
        await run.save()
        return out

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
        confident=float(os.environ.get("WOA_PLANNER_CONFIDENT", "0.4")),
        step_timeout=float(os.environ.get("WOA_PLANNER_STEP_TIMEOUT", "300")),
    )

    @agent.skill(
        family="lam",
        tags=["planning", "orchestration", "plan-and-act"],
        latency_ms=8000,
        input_modalities=["text", "image", "audio", "data"],
        examples=[
            ActIn(
                goal="From the receipt photo and the voice memo, make an expense record "
                "and file it once I approve.",
                file_to="expenses",
            )
        ],
    )
    async def act(request: ActIn, ctx: SkillContext) -> ActOut:
        """Plan a goal into skill calls on the web, run them, and return the result."""
        return await service.act(request, ctx)

    agent.planner_service = service  # type: ignore[attr-defined]
    return agent


def build(
    *,
    key: SigningKey | str | Path | None = None,
    registry_url: str | None = None,
    policy: Any = None,
    **options: Any,
) -> Sample:
    """The planner as a sample agent (``woa agents run planner``); it loads no model itself.

    ``policy`` (file inputs) is accepted for the catalog's sake; file size is bounded by
    ``max_body_bytes`` like any agent's.
    """
    if not registry_url:
        raise ValueError(
            "the planner finds its router and workers in a registry: give registry_url"
        )
    if policy is not None:
        options.setdefault("max_body_bytes", policy.max_body_bytes)
    return Sample(build_agent(registry_url, key, **options))
