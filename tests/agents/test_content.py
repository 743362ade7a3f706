"""Message content both ways: values to parts, and an answer's parts back to values."""

from __future__ import annotations

import pytest
from pydantic import BaseModel

from woa_agents import File, answer_parts, data_of, files_of, natural_value, text_of
from woa_agents.content import part_from, parts_from
from woa_protocol.models import (
    Artifact,
    Message,
    Part,
    Role,
    Task,
    TaskState,
    TaskStatus,
)


class Point(BaseModel):
    x: int


@pytest.mark.req("AGT-062")
def test_values_become_the_matching_part() -> None:
    assert part_from("hi").to_json_dict() == {"text": "hi"}
    assert part_from({"a": 1}).to_json_dict() == {"data": {"a": 1}}
    assert part_from(Point(x=1)).to_json_dict() == {"data": {"x": 1}}
    assert part_from(["a", "b"]).to_json_dict() == {"data": ["a", "b"]}
    png = File(raw=b"\x89P", media_type="image/png", filename="a.png")
    assert part_from(png).to_json_dict() == {
        "raw": "iVA=",
        "mediaType": "image/png",
        "filename": "a.png",
    }
    link = File(url="https://example.org/a.pdf", media_type="application/pdf")
    assert part_from(link).to_json_dict() == {
        "url": "https://example.org/a.pdf",
        "mediaType": "application/pdf",
    }
    ready = Part(text="as is")
    assert part_from(ready) is ready


def test_several_parts_from_a_tuple_or_a_list_of_files() -> None:
    png = File(raw=b"x", media_type="image/png")
    assert [p.text for p in parts_from(("a", png))] == ["a", None]
    assert len(parts_from([png, png])) == 2
    assert len(parts_from(["a", "b"])) == 1  # a JSON list is one data part


def _task(*artifacts: Artifact, note: str | None = None) -> Task:
    message = None
    if note is not None:
        message = Message(message_id="m", role=Role.AGENT, parts=[Part(text=note)])
    return Task(
        id="t",
        context_id="c",
        status=TaskStatus(state=TaskState.COMPLETED, message=message),
        artifacts=list(artifacts) or None,
    )


def test_output_prefers_the_result_artifact_then_all_then_the_status_message() -> None:
    note = Artifact(artifact_id="note", parts=[Part(text="n")])
    result = Artifact(artifact_id="result", parts=[Part(data={"v": 1})])
    assert answer_parts(_task(note, result)) == result.parts
    assert [p.text for p in answer_parts(_task(note, note))] == ["n", "n"]
    assert text_of(_task(note="asked")) == "asked"
    assert answer_parts(_task()) == []


def test_natural_value_of_an_answer() -> None:
    chunks = Artifact(artifact_id="a", parts=[Part(text="hel"), Part(text="lo")])
    assert natural_value(_task(chunks)) == "hello"
    data = Artifact(artifact_id="a", parts=[Part(data={"x": 1}), Part(text="ignored")])
    assert natural_value(_task(data)) == {"x": 1}
    assert data_of(_task(data)) == [{"x": 1}]
    two = Artifact(artifact_id="a", parts=[Part(data=1), Part(data=[2])])
    assert natural_value(_task(two)) == [1, [2]]
    file = Artifact(
        artifact_id="a", parts=[Part(raw=b"\x00", media_type="image/png", filename="f.png")]
    )
    [got] = files_of(_task(file))
    assert got == File(raw=b"\x00", media_type="image/png", filename="f.png")
    assert natural_value(_task(file)) == got
    mixed = Artifact(artifact_id="a", parts=[Part(text="see"), *file.parts])
    assert natural_value(_task(mixed)) == ["see", got]
    reply = Message(message_id="m", role=Role.AGENT, parts=[Part(text="hi")])
    assert natural_value(reply) == "hi"
    assert natural_value(_task()) is None
