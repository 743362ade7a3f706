"""Plan -> act, the planning half: a goal and its inputs become a checked plan of skill calls.

No I/O here: the agent module supplies the three things planning needs, as functions —
``route`` (the router's ranked candidates for a sub-goal), ``choose`` (a small LM picking one
of those candidates under a grammar, or None when it cannot) and ``describe`` (a skill's
input schema and side-effect flag from its signed card).

How a plan is made:
1. each input file becomes a step of its own: "read the text in this image", "transcribe
   this recording"; the router ranks only skills that accept the file's media type;
2. the goal itself becomes the last step, fed the text the earlier steps produce and the
   goal's data (e.g. the JSON Schema of the record wanted);
3. for each step the router's top candidate is taken when it is confident; otherwise the LM
   chooses among the top k; when the LM is unsure the router's top choice stands;
4. every step's input is built from the skill's input schema and validated against it; a
   candidate whose schema cannot be satisfied is skipped for the next one;
5. only allowlisted skills are planned; a skill marked side-effecting is flagged for approval.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from jsonschema import Draft202012Validator

__all__ = [
    "CHOICE_INSTRUCTIONS",
    "Candidate",
    "Choose",
    "Describe",
    "Goal",
    "InputFile",
    "Plan",
    "PlanningError",
    "Route",
    "SkillInfo",
    "Step",
    "choice_prompt",
    "make_plan",
    "step_input",
    "text_of",
]

TEXT_PLACEHOLDER = "<text from earlier steps>"


@dataclass(frozen=True)
class InputFile:
    """A file given with the goal (its JSON is the A2A file-part shape)."""

    media_type: str
    filename: str | None
    json: dict[str, Any]


@dataclass(frozen=True)
class Goal:
    """What the caller wants, with the files and data it comes with."""

    text: str
    files: tuple[InputFile, ...] = ()
    data: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Candidate:
    """A skill the router proposed, with its probability."""

    skill_id: str
    agent_did: str
    agent_url: str
    agent_name: str
    probability: float
    description: str = ""


@dataclass(frozen=True)
class SkillInfo:
    """What planning needs from a skill's signed card."""

    input_schema: dict[str, Any]
    side_effect: bool = False


Route = Callable[[str, str | None], Awaitable[list[Candidate]]]
"""``route(sub_goal, input_media_type)``: ranked candidates, most likely first."""
Choose = Callable[[str, Sequence[Candidate]], Awaitable[int | None]]
"""``choose(sub_goal, candidates)``: the index the LM picks, or None when unsure."""
Describe = Callable[[Candidate], Awaitable[SkillInfo | None]]
"""``describe(candidate)``: the skill's schema and flags, None when its card has none."""


@dataclass
class Step:
    """One skill call of a plan."""

    index: int
    purpose: str
    skill_id: str
    agent_did: str
    agent_url: str
    agent_name: str
    input: dict[str, Any]
    text_field: str | None = None
    """The input field filled at run time with the text of the steps in ``text_from``."""
    text_from: list[int] = field(default_factory=list)
    side_effect: bool = False
    chosen_by: str = "router"
    """``router`` (confident), ``lm`` (picked among the top k) or ``fallback`` (router top)."""
    candidates: list[tuple[str, float]] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        """The step as JSON (file bytes left out: their names and types stay)."""
        out = asdict(self)
        out["input"] = _without_bytes(self.input)
        out["candidates"] = [{"skill": s, "probability": p} for s, p in self.candidates]
        return out


@dataclass
class Plan:
    """The steps, in the order they run."""

    goal: str
    steps: list[Step]

    def as_json(self) -> dict[str, Any]:
        """The plan as JSON."""
        return {"goal": self.goal, "steps": [s.as_json() for s in self.steps]}


class PlanningError(Exception):
    """No allowed skill on the web can do a part of the goal."""


def _without_bytes(value: Any) -> Any:
    if isinstance(value, dict):
        return {
            k: (
                f"<{len(v) * 3 // 4} bytes>"
                if k == "raw" and isinstance(v, str)
                else _without_bytes(v)
            )
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [_without_bytes(v) for v in value]
    return value


def _is_file_schema(schema: Mapping[str, Any], defs: Mapping[str, Any]) -> bool:
    ref = schema.get("$ref")
    if isinstance(ref, str):
        schema = defs.get(ref.rsplit("/", 1)[-1], {})
    props = schema.get("properties") or {}
    return "raw" in props and "mediaType" in props


def _resolve(schema: Mapping[str, Any], defs: Mapping[str, Any]) -> Mapping[str, Any]:
    ref = schema.get("$ref")
    if isinstance(ref, str):
        target: Mapping[str, Any] = defs.get(ref.rsplit("/", 1)[-1], {})
        return target
    for key in ("anyOf", "oneOf"):
        for option in schema.get(key) or ():
            if option.get("type") != "null":
                return _resolve(option, defs)
    return schema


def step_input(
    schema: Mapping[str, Any], file: InputFile | None, data: Mapping[str, Any]
) -> tuple[dict[str, Any], str | None] | None:
    """Build a step's input from its skill's schema; None when the schema cannot be met.

    A file goes into the schema's file-shaped field; properties named in ``data`` take its
    values; one required string property left over takes the earlier steps' text (its name
    is returned). The result, with a placeholder text, must validate against the schema.
    """
    defs = schema.get("$defs") or {}
    props: Mapping[str, Any] = schema.get("properties") or {}
    required = list(schema.get("required") or [])
    built: dict[str, Any] = {}
    text_field: str | None = None
    if file is not None:
        file_fields = [
            n
            for n, p in props.items()
            if _is_file_schema(_resolve(p, defs), defs) or _is_file_schema(p, defs)
        ]
        if not file_fields:
            return None
        built[file_fields[0]] = file.json
    for name in props:
        if name in data and name not in built:
            built[name] = data[name]
    missing = [n for n in required if n not in built]
    strings = [n for n in missing if _resolve(props.get(n, {}), defs).get("type") == "string"]
    if file is None and len(strings) >= 1:
        text_field = "text" if "text" in strings else strings[0]
        built[text_field] = TEXT_PLACEHOLDER
        missing.remove(text_field)
    if missing:
        return None
    if list(Draft202012Validator(dict(schema)).iter_errors(built)):
        return None
    return built, text_field


async def _pick(
    purpose: str,
    candidates: list[Candidate],
    choose: Choose | None,
    confident: float,
) -> tuple[list[Candidate], str]:
    """Candidates in the order to try them, and who decided the first."""
    if not candidates:
        return [], "router"
    if candidates[0].probability >= confident or choose is None or len(candidates) == 1:
        return candidates, "router"
    picked = await choose(purpose, candidates)
    if picked is None or not 0 <= picked < len(candidates):
        return candidates, "fallback"
    return [candidates[picked], *(c for i, c in enumerate(candidates) if i != picked)], "lm"


def _purpose(file: InputFile) -> str:
    major = file.media_type.split("/", 1)[0]
    if major == "image":
        return "read the text printed in this image"
    if major == "audio":
        return "transcribe the speech in this recording to text"
    return f"read the text of this {file.media_type} document"


async def make_plan(
    goal: Goal,
    route: Route,
    describe: Describe,
    *,
    choose: Choose | None = None,
    allowed: Callable[[Candidate], bool] = lambda _: True,
    confident: float = 0.4,
) -> Plan:
    """Plan ``goal``: one step per input file, then one for the goal itself."""
    steps: list[Step] = []
    subgoals: list[tuple[str, InputFile | None]] = [(_purpose(f), f) for f in goal.files]
    subgoals.append((goal.text, None))
    for purpose, file in subgoals:
        ranked = [c for c in await route(purpose, file.media_type if file else None) if allowed(c)]
        ordered, chosen_by = await _pick(purpose, ranked, choose, confident)
        step: Step | None = None
        for rank, candidate in enumerate(ordered):
            info = await describe(candidate)
            if info is None:
                continue
            built = step_input(info.input_schema, file, {} if file else goal.data)
            if built is None:
                continue
            values, text_field = built
            step = Step(
                index=len(steps),
                purpose=purpose,
                skill_id=candidate.skill_id,
                agent_did=candidate.agent_did,
                agent_url=candidate.agent_url,
                agent_name=candidate.agent_name,
                input=values,
                text_field=text_field,
                text_from=[s.index for s in steps] if text_field else [],
                side_effect=info.side_effect,
                chosen_by=chosen_by if rank == 0 else "fallback",
                candidates=[(c.skill_id, round(c.probability, 4)) for c in ranked],
            )
            break
        if step is None:
            tried = ", ".join(c.skill_id for c in ranked) or "none offered"
            raise PlanningError(f"no allowed skill can {purpose!r} (candidates: {tried})")
        steps.append(step)
    return Plan(goal.text, steps)


CHOICE_INSTRUCTIONS = (
    "You route a request to one of the listed skills. Choose the option whose skill does "
    "what the request asks for. Answer unsure when none of them fits."
)
"""What the LM is told when it chooses among the router's candidates."""


def choice_prompt(
    purpose: str, candidates: Sequence[Candidate]
) -> tuple[str, dict[str, Any], list[str]]:
    """The LM's text, its JSON Schema (an enum of the options and ``unsure``) and the names."""
    names = [f"option{i + 1}" for i in range(len(candidates))]
    listing = "\n".join(
        f"{name}: {c.skill_id} ({c.agent_name}) - {c.description or c.skill_id}"
        for name, c in zip(names, candidates, strict=True)
    )
    schema = {
        "type": "object",
        "properties": {"choice": {"enum": [*names, "unsure"]}},
        "required": ["choice"],
    }
    return f"Request: {purpose}\nOptions:\n{listing}", schema, names


def text_of(output: Any) -> str:
    """The text a step produced: its ``text`` member, else every string in it, joined."""
    if isinstance(output, str):
        return output
    if isinstance(output, dict):
        if isinstance(output.get("text"), str):
            return str(output["text"])
        return " ".join(text_of(v) for v in output.values() if isinstance(v, str | dict))
    if isinstance(output, list):
        return " ".join(text_of(v) for v in output)
    return ""
