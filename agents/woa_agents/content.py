"""Client-side content: Python values to A2A parts, and an answer's parts back.

A ``str`` is a text part, a :class:`~woa_agents.File` a file part (``raw`` bytes or a
``url``, with its media type and name), a pydantic model or any other JSON value a data
part, and a :class:`~woa_protocol.models.Part` goes as it is (spec AGT-062). An answer (a
``Task`` or a ``Message``) is read back from its output parts: the typed-skill result
artifact when there is one, else every artifact in order, else the status message.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from pydantic import BaseModel

from woa_protocol.models import RESULT_ARTIFACT_ID, Message, Part, Task

from .files import File

__all__ = [
    "Content",
    "answer_parts",
    "data_of",
    "files_of",
    "jsonable",
    "natural_value",
    "part_from",
    "parts_from",
    "text_of",
]

Content = str | File | Part | BaseModel | Any
"""What can be sent: text, a file, a ready part, a model or any JSON value (data)."""


def part_from(value: Content) -> Part:
    """One part for ``value`` (text, file, data or a ready :class:`Part`)."""
    if isinstance(value, Part):
        return value
    if isinstance(value, str):
        return Part(text=value)
    if isinstance(value, File):
        return Part.model_validate(value.model_dump(exclude_none=True))
    if isinstance(value, BaseModel):
        return Part(data=value.model_dump(mode="json"))
    return Part(data=value)


def parts_from(value: Content | list[Any] | tuple[Any, ...]) -> list[Part]:
    """The parts of a message.

    A tuple gives one part per item, and so does a list of only parts and files; any other
    value (a list of JSON values too) gives one part.
    """
    if isinstance(value, tuple) or (
        isinstance(value, list) and value and all(isinstance(v, Part | File) for v in value)
    ):
        return [part_from(v) for v in value]
    return [part_from(value)]


def answer_parts(result: Task | Message) -> list[Part]:
    """The parts an answer carries as its output.

    A message's parts; a task's result artifacts (``result``, ``result-1``, ...) when
    present, else all its artifacts' parts in order, else its status message's parts.
    """
    if isinstance(result, Message):
        return list(result.parts)
    artifacts = result.artifacts or []
    chosen = [a for a in artifacts if _is_result(a.artifact_id)] or artifacts
    parts = [p for artifact in chosen for p in artifact.parts]
    if not parts and result.status.message is not None:
        parts = list(result.status.message.parts)
    return parts


def _is_result(artifact_id: str) -> bool:
    """A typed or plain skill's output artifact: ``result``, ``result-1``, ..."""
    return artifact_id == RESULT_ARTIFACT_ID or artifact_id.startswith(RESULT_ARTIFACT_ID + "-")


def _parts(source: Task | Message | Iterable[Part]) -> list[Part]:
    if isinstance(source, Task | Message):
        return answer_parts(source)
    return list(source)


def text_of(source: Task | Message | Iterable[Part]) -> str:
    """The text parts of an answer, concatenated (streamed chunks join up)."""
    return "".join(p.text for p in _parts(source) if p.text is not None)


def files_of(source: Task | Message | Iterable[Part]) -> list[File]:
    """The file parts (bytes or URL) of an answer."""
    return [
        File(
            raw=p.raw,
            url=p.url,
            media_type=p.media_type or "application/octet-stream",
            filename=p.filename,
        )
        for p in _parts(source)
        if p.raw is not None or p.url is not None
    ]


def data_of(source: Task | Message | Iterable[Part]) -> list[Any]:
    """The data parts' values of an answer."""
    return [p.data for p in _parts(source) if "data" in p.model_fields_set]


def natural_value(source: Task | Message | Iterable[Part]) -> Any:
    """An answer as one Python value: its data, else its text, else its file(s).

    One data part gives its value (several give a list); text only gives the concatenated
    ``str``; files only give a :class:`File` (several, a list); nothing gives None. A task
    with several result artifacts (``result``, ``result-1``, ...: a list result, AGT-017)
    gives the list of their values.
    """
    if isinstance(source, Task):
        results = [a for a in source.artifacts or [] if _is_result(a.artifact_id)]
        if len(results) > 1:
            return [_value_of(a.parts) for a in results]
    return _value_of(_parts(source))


def _value_of(parts: list[Part]) -> Any:
    data = data_of(parts)
    if data:
        return data[0] if len(data) == 1 else data
    files = files_of(parts)
    texts = [p.text for p in parts if p.text is not None]
    if texts and not files:
        return "".join(texts)
    if files and not texts:
        return files[0] if len(files) == 1 else files
    if not parts:
        return None
    return [p.text if p.text is not None else files_of([p])[0] for p in parts]


def jsonable(value: Any) -> Any:
    """``value`` as JSON (a :class:`File` as its JSON form), e.g. to check it against a schema."""
    if isinstance(value, File):
        return value.to_json_dict()
    if isinstance(value, list):
        return [jsonable(v) for v in value]
    return value
