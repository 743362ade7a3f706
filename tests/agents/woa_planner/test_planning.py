"""The planning algorithm on a fixed table of skills (the agents run in the demo's tests)."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from woa_planner import Candidate, Goal, InputFile, PlanningError, SkillInfo, make_plan
from woa_planner.planning import step_input, text_of

FILE_SCHEMA = {
    "type": "object",
    "properties": {
        "raw": {"type": "string"},
        "url": {"type": "string"},
        "mediaType": {"type": "string"},
    },
}
SCHEMAS = {
    "read": {
        "type": "object",
        "required": ["image"],
        "properties": {"image": {"$ref": "#/$defs/File"}},
        "$defs": {"File": FILE_SCHEMA},
    },
    "transcribe": {
        "type": "object",
        "required": ["audio"],
        "properties": {"audio": {"$ref": "#/$defs/File"}},
        "$defs": {"File": FILE_SCHEMA},
    },
    "extract": {
        "type": "object",
        "required": ["text", "schema"],
        "properties": {"text": {"type": "string"}, "schema": {"type": "object"}},
    },
    "summarize": {
        "type": "object",
        "required": ["text"],
        "properties": {"text": {"type": "string"}},
    },
}
MODES = {"read": "image/png", "transcribe": "audio/wav"}


def cand(skill: str, p: float) -> Candidate:
    return Candidate(skill, f"did:key:{skill}", f"http://{skill}", skill, p)


class Table:
    def __init__(self, ranking: dict[str, list[tuple[str, float]]], lm: int | None = None) -> None:
        self.ranking, self.lm, self.lm_asked = ranking, lm, 0

    async def route(self, text: str, media_type: str | None) -> list[Candidate]:
        ranked = self.ranking[text]
        return [cand(s, p) for s, p in ranked if media_type is None or MODES.get(s) == media_type]

    async def describe(self, candidate: Candidate) -> SkillInfo | None:
        return SkillInfo(SCHEMAS[candidate.skill_id], side_effect=candidate.skill_id == "summarize")

    async def choose(self, purpose: str, candidates: Sequence[Candidate]) -> int | None:
        self.lm_asked += 1
        return self.lm


IMAGE = InputFile("image/png", "r.png", {"raw": "aGk=", "mediaType": "image/png"})
AUDIO = InputFile("audio/wav", "m.wav", {"raw": "aGk=", "mediaType": "audio/wav"})
GOAL = "extract the expense record"
RANKING = {
    "read the text printed in this image": [("read", 0.9), ("transcribe", 0.1)],
    "transcribe the speech in this recording to text": [("transcribe", 0.8), ("read", 0.2)],
    GOAL: [("summarize", 0.45), ("extract", 0.40), ("read", 0.15)],
}


async def test_one_step_per_file_then_the_goal_fed_their_text() -> None:
    table = Table(RANKING, lm=1)
    plan = await make_plan(
        Goal(GOAL, (IMAGE, AUDIO), {"schema": {"type": "object"}}),
        table.route,
        table.describe,
        confident=0.6,
        choose=table.choose,
    )
    assert [s.skill_id for s in plan.steps] == ["read", "transcribe", "extract"]
    assert plan.steps[0].input == {"image": IMAGE.json}
    last = plan.steps[-1]
    assert last.text_field == "text"
    assert last.text_from == [0, 1]
    assert last.input["schema"] == {"type": "object"}
    assert last.chosen_by == "lm"
    assert table.lm_asked == 1


async def test_unsure_lm_falls_back_to_the_router_and_unmet_schemas_are_skipped() -> None:
    table = Table(RANKING, lm=None)
    plan = await make_plan(
        Goal(GOAL, (), {}), table.route, table.describe, choose=table.choose, confident=0.6
    )
    # summarize's schema is met (text only); extract's needs "schema", absent from the data
    assert plan.steps[0].skill_id == "summarize"
    assert plan.steps[0].chosen_by == "fallback"
    assert plan.steps[0].side_effect


async def test_the_allowlist_and_missing_skills_end_in_a_planning_error() -> None:
    table = Table(RANKING)
    with pytest.raises(PlanningError, match="no allowed skill"):
        await make_plan(
            Goal(GOAL, (IMAGE,), {}),
            table.route,
            table.describe,
            allowed=lambda c: c.skill_id != "read",
        )


def test_step_input_validates_against_the_schema() -> None:
    assert step_input(SCHEMAS["extract"], None, {"schema": 3}) is None  # not an object
    assert step_input(SCHEMAS["read"], None, {}) is None  # no file to give it
    assert text_of({"text": "a", "lines": ["b"]}) == "a"
    assert text_of({"vendor": "x", "n": 1}) == "x"
