"""Parts in and out of skills: media-type matching, what an input annotation accepts."""

from __future__ import annotations

from typing import Annotated

import pytest
from pydantic import BaseModel

from woa_agents import File, MediaTypes
from woa_agents.errors import RpcError
from woa_agents.parts import input_spec, mode_accepted, output_modes, output_parts
from woa_protocol.models import Message, Part, Role


class Two(BaseModel):
    a: str
    b: str


class Docs(BaseModel):
    title: str
    cover: Annotated[File, MediaTypes("image/*")] | None = None
    pages: list[File] = []


def _message(*parts: Part) -> Message:
    return Message(message_id="m", role=Role.USER, parts=list(parts))


@pytest.mark.req("AGT-016")
def test_media_type_matching() -> None:
    assert mode_accepted("image/png", ["image/*"])
    assert mode_accepted("application/pdf", ["*/*"])
    assert mode_accepted("text/plain", ["Text/Plain; charset=utf-8"])
    assert not mode_accepted("image/png", ["image/jpeg", "text/*"])


@pytest.mark.req("AGT-015")
def test_what_an_input_accepts() -> None:
    assert input_spec("s", str).modes == ["text/plain"]
    two = input_spec("t", Two)
    assert two.text_field is None  # two required strings: a text part cannot choose
    assert two.modes == ["application/json"]
    docs = input_spec("d", Docs)
    assert docs.text_field == "title"
    assert docs.file_fields == [("cover", False), ("pages", True)]
    assert docs.modes == ["application/json", "text/plain", "image/*", "*/*"]
    assert input_spec("d", Docs, plain_text=False).text_field is None
    with pytest.raises(TypeError, match="str or a pydantic model"):
        input_spec("x", int)


@pytest.mark.req("AGT-015")
def test_files_fill_fields_in_declaration_order() -> None:
    docs = input_spec("d", Docs)
    png = Part(raw=b"1", media_type="image/png", filename="c.png")
    pdf = Part(url="https://x.example/p.pdf", media_type="application/pdf")
    payload = docs.bind(_message(Part(text="T"), png, pdf, pdf))
    assert payload["title"] == "T"
    assert payload["cover"] == {"mediaType": "image/png", "raw": "MQ==", "filename": "c.png"}
    assert [p["url"] for p in payload["pages"]] == ["https://x.example/p.pdf"] * 2
    assert Docs.model_validate(payload).cover is not None


@pytest.mark.req("AGT-016")
def test_a_part_of_another_type_is_content_type_not_supported() -> None:
    with pytest.raises(RpcError) as info:
        input_spec("t", Two).bind(_message(Part(text="x")))
    assert info.value.code == -32005
    assert info.value.metadata["acceptedModes"] == "application/json"
    with pytest.raises(RpcError, match="fewer file parts"):  # no File field to fill
        input_spec("n", Two, input_modes=["*/*"]).bind(
            _message(Part(raw=b"1", media_type="image/png"))
        )


@pytest.mark.req("AGT-017")
def test_output_parts_and_modes() -> None:
    assert output_parts("hi") == [Part(text="hi")]
    assert output_parts(File(url="u", media_type="text/csv")) == [
        Part(url="u", media_type="text/csv")
    ]
    assert output_parts(Two(a="1", b="2")) == [Part(data={"a": "1", "b": "2"})]
    assert output_modes(str) == ["text/plain"]
    assert output_modes(Two) == ["application/json"]
    assert output_modes(str | File) == ["text/plain", "*/*"]
