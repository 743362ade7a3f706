from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import jsonschema
import pytest
from pydantic import ValidationError

from woa_protocol.models import (
    TERMINAL_TASK_STATES,
    AgentCard,
    AgentSkill,
    Artifact,
    Message,
    Part,
    ProblemDetails,
    Role,
    Task,
    TaskState,
    TaskStatus,
    format_timestamp,
)
from woa_protocol.schemas import SCHEMA_BASE_URI, generate_schemas, render_schema

from ._support import SPEC_DIR


def card_json() -> dict[str, Any]:
    return {
        "name": "Echo",
        "description": "Repeats what it hears",
        "supportedInterfaces": [
            {
                "url": "https://echo.example/a2a",
                "protocolBinding": "JSONRPC",
                "protocolVersion": "1.0",
            }
        ],
        "version": "1.0.0",
        "capabilities": {},
        "defaultInputModes": ["text/plain"],
        "defaultOutputModes": ["text/plain"],
        "skills": [{"id": "echo", "name": "Echo", "description": "echo", "tags": ["demo"]}],
    }


@pytest.mark.req("MOD-001")
def test_wire_form_uses_camel_case_and_enum_strings() -> None:
    task = Task(
        id="t-1",
        context_id="c-1",
        status=TaskStatus(
            state=TaskState.COMPLETED,
            timestamp=datetime(2026, 1, 2, 3, 4, 5, 678901, tzinfo=UTC),
        ),
        history=[Message(message_id="m-1", role=Role.USER, parts=[Part(text="hi")])],
    )
    wire = task.to_json_dict()
    assert wire == {
        "id": "t-1",
        "contextId": "c-1",
        "status": {"state": "TASK_STATE_COMPLETED", "timestamp": "2026-01-02T03:04:05.678Z"},
        "history": [{"messageId": "m-1", "role": "ROLE_USER", "parts": [{"text": "hi"}]}],
    }
    assert Task.model_validate(wire).to_json_dict() == wire  # milliseconds on the wire
    assert json.loads(task.model_dump_json(by_alias=True, exclude_none=True)) == wire


@pytest.mark.req("MOD-001")
def test_timestamps_are_utc_with_z_and_must_carry_a_zone() -> None:
    plus_two = timezone(timedelta(hours=2))
    status = TaskStatus(
        state="TASK_STATE_WORKING", timestamp=datetime(2026, 1, 1, 2, tzinfo=plus_two)
    )
    assert status.to_json_dict()["timestamp"] == "2026-01-01T00:00:00.000Z"
    parsed = TaskStatus.model_validate(
        {"state": "TASK_STATE_WORKING", "timestamp": "2026-01-01T02:00:00+02:00"}
    )
    assert parsed.timestamp == datetime(2026, 1, 1, tzinfo=UTC)
    assert format_timestamp(datetime(2026, 5, 6, 7, 8, 9, tzinfo=UTC)) == "2026-05-06T07:08:09.000Z"
    assert format_timestamp(datetime(2026, 1, 1, 2, 0, 0, 123987, plus_two)) == (
        "2026-01-01T00:00:00.123Z"
    )
    assert parsed.to_json_dict()["timestamp"] == "2026-01-01T00:00:00.000Z"
    with pytest.raises(ValidationError, match="time zone"):
        TaskStatus.model_validate(
            {"state": "TASK_STATE_WORKING", "timestamp": "2026-01-01T02:00:00"}
        )
    with pytest.raises(ValueError, match="time zone"):
        format_timestamp(datetime(2026, 1, 1))


@pytest.mark.req("MOD-001")
def test_unknown_members_are_ignored_and_snake_case_is_accepted() -> None:
    data = {**card_json(), "futureField": {"x": 1}, "signatures": []}
    card = AgentCard.model_validate(data)
    assert "futureField" not in card.to_json_dict()
    message = Message.model_validate(
        {"message_id": "m", "role": "ROLE_AGENT", "parts": [{"data": {"a": 1}}], "newThing": 1}
    )
    assert message.to_json_dict() == {
        "messageId": "m",
        "role": "ROLE_AGENT",
        "parts": [{"data": {"a": 1}}],
    }


@pytest.mark.req("MOD-001")
@pytest.mark.parametrize("state", ["COMPLETED", "completed", "TASK_STATE_DONE", 3])
def test_enum_values_must_be_proto_json_strings(state: Any) -> None:
    with pytest.raises(ValidationError):
        TaskStatus.model_validate({"state": state})
    with pytest.raises(ValidationError):
        Message.model_validate({"messageId": "m", "role": "user", "parts": [{"text": "x"}]})


def test_terminal_states() -> None:
    assert {s.value for s in TERMINAL_TASK_STATES} == {
        "TASK_STATE_COMPLETED",
        "TASK_STATE_FAILED",
        "TASK_STATE_CANCELED",
        "TASK_STATE_REJECTED",
    }


@pytest.mark.req("MOD-002")
@pytest.mark.parametrize(
    "part",
    [
        {"text": "hi"},
        {"raw": "AAEC"},
        {"url": "https://x.example/a.png"},
        {"data": {"k": [1]}},
        {"data": None},
    ],
    ids=["text", "raw", "url", "data", "data-null"],
)
def test_part_with_exactly_one_content_member(part: dict[str, Any]) -> None:
    if part == {"data": None}:
        with pytest.raises(ValidationError, match="exactly one"):
            Part.model_validate(part)
        return
    parsed = Part.model_validate({**part, "mediaType": "x/y", "filename": "f"})
    assert parsed.to_json_dict() == {**part, "mediaType": "x/y", "filename": "f"}


@pytest.mark.req("MOD-002")
@pytest.mark.parametrize(
    "part",
    [
        {},
        {"metadata": {"a": 1}},
        {"text": "a", "url": "https://x"},
        {"text": "a", "data": 1},
        {"raw": "AA==", "url": "u"},
    ],
    ids=["empty", "metadata-only", "text+url", "text+data", "raw+url"],
)
def test_part_with_zero_or_two_content_members_is_rejected(part: dict[str, Any]) -> None:
    with pytest.raises(ValidationError, match="exactly one"):
        Part.model_validate(part)


@pytest.mark.req("MOD-002")
def test_a_null_member_beside_the_content_does_not_count() -> None:
    part = Part.model_validate({"text": "a", "data": None})
    assert part.to_json_dict() == {"text": "a"}


@pytest.mark.req("MOD-002")
def test_raw_bytes_are_standard_base64() -> None:
    part = Part(raw=b"\xfb\xff\x00")
    assert part.to_json_dict() == {"raw": base64.b64encode(b"\xfb\xff\x00").decode()}
    assert Part.model_validate({"raw": "+/8A"}).raw == b"\xfb\xff\x00"
    assert Part.model_validate({"raw": "-_8A"}).raw == b"\xfb\xff\x00"  # URL-safe accepted
    with pytest.raises(ValidationError, match="base64"):
        Part.model_validate({"raw": "not base64!"})


@pytest.mark.req("MOD-003")
def test_minimal_card_is_valid() -> None:
    card = AgentCard.model_validate(card_json())
    assert card.to_json_dict() == card_json()


@pytest.mark.req("MOD-003")
def test_missing_protocol_version_reads_as_1_0_and_is_written() -> None:
    data = card_json()
    del data["supportedInterfaces"][0]["protocolVersion"]
    card = AgentCard.model_validate(data)
    assert card.supported_interfaces[0].protocol_version == "1.0"
    assert card.to_json_dict()["supportedInterfaces"][0]["protocolVersion"] == "1.0"


@pytest.mark.req("MOD-003")
@pytest.mark.parametrize(
    "member",
    [
        "name",
        "description",
        "supportedInterfaces",
        "version",
        "capabilities",
        "defaultInputModes",
        "defaultOutputModes",
        "skills",
    ],
)
def test_card_requires_each_required_member(member: str) -> None:
    data = card_json()
    del data[member]
    with pytest.raises(ValidationError):
        AgentCard.model_validate(data)


@pytest.mark.req("MOD-003")
@pytest.mark.parametrize(
    ("path", "value"),
    [
        (("supportedInterfaces",), []),
        (("supportedInterfaces", 0, "url"), None),
        (("supportedInterfaces", 0, "protocolBinding"), None),
        (("skills", 0, "id"), None),
        (("skills", 0, "name"), None),
        (("skills", 0, "description"), None),
        (("skills", 0, "tags"), None),
        (("name",), ""),
    ],
)
def test_card_rejects_missing_nested_members(path: tuple[Any, ...], value: Any) -> None:
    data = card_json()
    target: Any = data
    for step in path[:-1]:
        target = target[step]
    if value is None:
        del target[path[-1]]
    else:
        target[path[-1]] = value
    with pytest.raises(ValidationError):
        AgentCard.model_validate(data)


def test_skill_and_artifact_round_trip() -> None:
    skill = AgentSkill.model_validate(
        {"id": "s", "name": "S", "description": "", "tags": [], "inputModes": ["a/b"]}
    )
    assert skill.to_json_dict()["inputModes"] == ["a/b"]
    artifact = Artifact.model_validate({"artifactId": "a", "parts": [{"data": {"x": 1}}]})
    assert artifact.to_json_dict() == {"artifactId": "a", "parts": [{"data": {"x": 1}}]}
    with pytest.raises(ValidationError):
        Artifact.model_validate({"artifactId": "a", "parts": []})


def test_problem_details_keep_extension_members() -> None:
    problem = ProblemDetails.model_validate(
        {"type": "urn:woa:problem:x", "status": 400, "errors": [1]}
    )
    assert problem.model_dump(exclude_none=True) == {
        "type": "urn:woa:problem:x",
        "status": 400,
        "errors": [1],
    }
    assert ProblemDetails().type == "about:blank"


@pytest.mark.req("MOD-004")
def test_committed_schemas_equal_the_generated_ones() -> None:
    generated = generate_schemas()
    committed = {p.name for p in (SPEC_DIR / "schemas" / "v1").glob("*.json")}
    assert committed == set(generated)
    for name, schema in generated.items():
        assert schema["$id"] == SCHEMA_BASE_URI + name.removesuffix(".json")
        jsonschema.Draft202012Validator.check_schema(schema)
        text = (SPEC_DIR / "schemas" / "v1" / name).read_text(encoding="utf-8")
        assert text == render_schema(schema), name


@pytest.mark.req("MOD-004")
def test_published_card_schema_accepts_model_output_and_rejects_bad_cards() -> None:
    schema = json.loads((SPEC_DIR / "schemas" / "v1" / "agent-card.json").read_text())
    validator = jsonschema.Draft202012Validator(schema)
    validator.validate(AgentCard.model_validate(card_json()).to_json_dict())
    bad = card_json()
    del bad["skills"]
    assert not validator.is_valid(bad)
    part_schema = json.loads((SPEC_DIR / "schemas" / "v1" / "part.json").read_text())
    part_validator = jsonschema.Draft202012Validator(part_schema)
    assert part_validator.is_valid({"text": "x"})
    assert not part_validator.is_valid({"text": "x", "url": "y"})


@pytest.mark.req("MOD-001")
def test_json_members_are_taken_as_parsed_and_checked_when_written() -> None:
    import pydantic_core

    data = {"vector": [0.5] * 384, "nested": [{"a": None}, "x", 1, True]}
    part = Part.model_validate({"data": data, "metadata": {"k": data}})
    assert part.data is data  # kept, not walked value by value and rebuilt
    assert part.to_json_dict()["data"] == data
    with pytest.raises(pydantic_core.PydanticSerializationError, match="unknown type"):
        pydantic_core.to_json(Part(data=object()))


@pytest.mark.req("MOD-001")
def test_json_bytes_are_the_wire_form() -> None:
    import json

    part = Part.model_validate({"data": {"é": [1, None]}, "mediaType": "x/y"})
    assert json.loads(part.to_json_bytes()) == part.to_json_dict()
    assert part.to_json_bytes() == b'{"data":{"\xc3\xa9":[1,null]},"mediaType":"x/y"}'
