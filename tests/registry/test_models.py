"""The search page's direct serialisation matches the pydantic models it stands in for."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone

import pytest

from woa_registry.models import AgentList, AgentView, agent_list_json
from woa_registry.storage.base import AgentRecord, SearchPage, SkillEntry

T0 = datetime(2026, 3, 1, 12, 30, 45, 123456, tzinfo=UTC)


def _record(did: str, **changes: object) -> AgentRecord:
    fields: dict[str, object] = {
        "did": did,
        "card": {"name": "Ünïcode agent", "nested": {"none": None, "list": [1, 2.5, None]}},
        "name": "Ünïcode agent",
        "description": "translates — and more",
        "url": "http://127.0.0.1:9/a",
        "skills": (
            SkillEntry(
                skill_id="translate",
                name="Translate",
                description="d",
                tags=("t1", "t2"),
                family="classical",
                input_modes=("application/json",),
                output_modes=("text/plain",),
                input_schema={"type": "object", "required": ["text"]},
                output_schema={"type": "string"},
            ),
            SkillEntry(skill_id="plain", name="Plain", description="", family=None),
        ),
        "verified": True,
        "registered_at": T0,
        "updated_at": T0 + timedelta(seconds=1),
        "lease_expires_at": T0.astimezone(timezone(timedelta(hours=5))),
    }
    fields.update(changes)
    return AgentRecord(**fields)  # type: ignore[arg-type]


def _model_bytes(page: SearchPage) -> bytes:
    """What FastAPI's ``response_model=AgentList, response_model_exclude_none`` produced."""
    model = AgentList(
        agents=[AgentView.of(r) for r in page.agents],
        next_cursor=page.next_cursor,
        matched_skills=page.matched_skills,
    )
    return model.model_dump_json(by_alias=True, exclude_none=True).encode()


@pytest.mark.parametrize(
    "page",
    [
        SearchPage(agents=[]),
        SearchPage(agents=[_record("did:key:z6MkA")], next_cursor="abc"),
        SearchPage(
            agents=[
                _record("did:key:z6MkA", source_url="http://127.0.0.1:9/card", verified=False),
                _record("urn:woa:url:x", skills=(), card={}),
            ],
            matched_skills={"did:key:z6MkA": ["translate"], "urn:woa:url:x": []},
        ),
    ],
)
def test_agent_list_json_is_the_models_serialisation(page: SearchPage) -> None:
    assert agent_list_json(page) == _model_bytes(page)


def test_wire_timestamps_are_utc_with_milliseconds() -> None:
    wire = AgentView.wire(_record("did:key:z6MkA"))
    assert wire["registeredAt"] == "2026-03-01T12:30:45.123Z"
    assert wire["leaseExpiresAt"] == "2026-03-01T12:30:45.123Z"
    assert "sourceUrl" not in wire
    assert "family" not in wire["skills"][1]


def test_wire_refuses_what_the_model_refuses() -> None:
    naive = _record("did:key:z6MkA", registered_at=datetime(2026, 3, 1))
    with pytest.raises(ValueError, match="time zone"):
        AgentView.wire(naive)
    bad_family = _record(
        "did:key:z6MkA", skills=(SkillEntry(skill_id="s", name="s", description="", family="x"),)
    )
    with pytest.raises(ValueError, match="'x' is not a valid ModelFamily"):
        AgentView.wire(bad_family)


def test_agent_list_json_is_plain_json() -> None:
    body = json.loads(agent_list_json(SearchPage(agents=[_record("did:key:z6MkA")])))
    assert body["agents"][0]["card"]["nested"] == {"none": None, "list": [1, 2.5, None]}
    assert body["matchedSkills"] == {}
    assert "nextCursor" not in body
