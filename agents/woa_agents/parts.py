"""A2A parts in and out of skills (spec AGT-011, AGT-015..AGT-018).

In: :func:`input_spec` reads what a skill's input annotation accepts (a ``str`` takes text;
a pydantic model takes a data part, a text part for its single required ``str`` field and
file parts for its ``File`` fields) and :meth:`InputSpec.bind` turns a message's parts
into the JSON payload the input schema checks, or raises A2A's
``ContentTypeNotSupportedError`` (-32005) naming the accepted modes.

Out: :func:`output_parts` turns what a handler returns (a model or other JSON value, a
``str``, a ``File``) into artifact parts; :func:`output_modes` says which media types that
gives, for the card.
"""

from __future__ import annotations

import base64
import types
import typing
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel

from woa_protocol.models import Message, Part

from .errors import JsonRpcCode, RpcError
from .files import File, MediaTypes

__all__ = [
    "ANY_MODE",
    "JSON_MODE",
    "TEXT_MODE",
    "InputSpec",
    "input_spec",
    "mode_accepted",
    "output_modes",
    "output_parts",
    "part_mode",
]

TEXT_MODE = "text/plain"
JSON_MODE = "application/json"
ANY_MODE = "*/*"
_OCTETS = "application/octet-stream"


def _invalid_parts(message: str) -> RpcError:
    return RpcError(
        JsonRpcCode.INVALID_PARAMS,
        message,
        reason="INVALID_PARTS",
        violations=[{"field": "$.message.parts", "description": message}],
    )


def part_mode(part: Part) -> str:
    """The media type a part carries: text/plain, application/json, or the file's type."""
    given = part.model_fields_set
    if "text" in given and part.text is not None:
        return TEXT_MODE
    if "data" in given and "raw" not in given and "url" not in given:
        return JSON_MODE
    return (part.media_type or _OCTETS).split(";")[0].strip().lower()


def mode_accepted(mode: str, accepted: Sequence[str]) -> bool:
    """True when ``mode`` matches one of ``accepted`` (``type/*`` and ``*/*`` match a family)."""
    kind = mode.split("/")[0]
    for entry in accepted:
        entry = entry.split(";")[0].strip().lower()
        if entry in (mode, ANY_MODE) or (entry.endswith("/*") and entry[:-2] == kind):
            return True
    return False


def _is_file(hint: Any) -> bool:
    return isinstance(hint, type) and issubclass(hint, File)


def _file_kind(hint: Any) -> tuple[str, list[str]] | None:
    """How a field takes files, or None for a field that is no file.

    ``("one", types)`` for File (or File | None), ``("many", types)`` for list[File];
    ``types`` are the media types a :class:`MediaTypes` annotation declares.
    """
    if _is_file(hint):
        return "one", []
    origin = typing.get_origin(hint)
    args = [a for a in typing.get_args(hint) if a is not type(None)]
    if origin is typing.Annotated:
        inner = _file_kind(args[0])
        declared = [t for m in hint.__metadata__ if isinstance(m, MediaTypes) for t in m.types]
        return None if inner is None else (inner[0], declared or inner[1])
    if origin in (list, Sequence) and len(args) == 1:
        inner = _file_kind(args[0])
        return None if inner is None else ("many", inner[1])
    if origin in (typing.Union, types.UnionType) and len(args) == 1:
        return _file_kind(args[0])
    return None


def _dedupe(modes: list[str]) -> list[str]:
    return list(dict.fromkeys(modes))


@dataclass(frozen=True)
class InputSpec:
    """What one skill's input takes, and how parts fill it."""

    skill_id: str
    text: bool
    """A ``str`` input (a text skill)."""
    modes: list[str]
    text_field: str | None = None
    file_fields: list[tuple[str, bool]] = field(default_factory=list)
    """(field name, takes several) for each ``File`` field, in declaration order."""

    def bind(self, message: Message) -> Any:
        """The JSON payload the message's parts give, to be checked against the input schema."""
        texts: list[str] = []
        data: list[Any] = []
        files: list[Part] = []
        for part in message.parts:
            mode = part_mode(part)
            if mode == JSON_MODE and self.text and isinstance(part.data, str):
                texts.append(part.data)  # the typed profile: a data part holding the string
                continue
            if not mode_accepted(mode, self.modes) or (mode == TEXT_MODE and not self._takes_text):
                raise RpcError(
                    JsonRpcCode.CONTENT_TYPE_NOT_SUPPORTED,
                    f"skill {self.skill_id!r} does not take {mode} parts; "
                    f"it accepts {', '.join(self.modes)}",
                    metadata={"mediaType": mode, "acceptedModes": ",".join(self.modes)},
                )
            if mode == TEXT_MODE:
                texts.append(part.text or "")
            elif mode == JSON_MODE:
                data.append(part.data)
            else:
                files.append(part)
        if self.text:
            if not texts:
                raise _invalid_parts(f"skill {self.skill_id!r} takes text")
            return "\n".join(texts)
        if len(data) > 1:
            raise _invalid_parts("a message carries at most one data part")
        if data and not texts and not files:
            return data[0]  # the typed call: the data part is the whole input
        payload: dict[str, Any] = {}
        if data:
            if not isinstance(data[0], dict):
                raise _invalid_parts("a data part sent with other parts must be an object")
            payload.update(data[0])
        if texts:
            assert self.text_field is not None
            if self.text_field in payload:
                raise _invalid_parts(f"both the data part and a text part give {self.text_field!r}")
            payload[self.text_field] = "\n".join(texts)
        for name, many in self.file_fields:
            if not files:
                break
            if name in payload:
                continue
            if many:
                payload[name] = [_file_json(p) for p in files]
                files = []
            else:
                payload[name] = _file_json(files.pop(0))
        if files:
            raise _invalid_parts(f"skill {self.skill_id!r} takes fewer file parts")
        return payload

    @property
    def _takes_text(self) -> bool:
        return self.text or self.text_field is not None


def _file_json(part: Part) -> dict[str, Any]:
    out: dict[str, Any] = {"mediaType": part.media_type or _OCTETS}
    if part.raw is not None:
        out["raw"] = base64.b64encode(part.raw).decode("ascii")
    else:
        out["url"] = part.url
    if part.filename:
        out["filename"] = part.filename
    return out


def input_spec(
    skill_id: str,
    annotation: Any,
    *,
    plain_text: bool = True,
    input_modes: Sequence[str] | None = None,
) -> InputSpec:
    """Read what a skill's input annotation (``str`` or a pydantic model) accepts."""
    if annotation is str:
        modes = list(input_modes) if input_modes else [TEXT_MODE]
        return InputSpec(skill_id, text=True, modes=modes)
    if not (isinstance(annotation, type) and issubclass(annotation, BaseModel)):
        raise TypeError(f"skill {skill_id!r}: the input is a str or a pydantic model")
    required_str = [
        name
        for name, info in annotation.model_fields.items()
        if info.is_required() and info.annotation is str
    ]
    text_field = required_str[0] if plain_text and len(required_str) == 1 else None
    file_fields: list[tuple[str, bool]] = []
    file_modes: list[str] = []
    for name, info in annotation.model_fields.items():
        found = _file_kind(info.annotation)
        if found is None:
            continue
        kind, declared = found
        declared = declared or [
            t for m in info.metadata if isinstance(m, MediaTypes) for t in m.types
        ]
        file_fields.append((name, kind == "many"))
        file_modes.extend(declared or [ANY_MODE])
    if input_modes:
        modes = list(input_modes)
    else:
        modes = _dedupe([JSON_MODE, *([TEXT_MODE] if text_field else []), *file_modes])
    if text_field is not None and not mode_accepted(TEXT_MODE, modes):
        text_field = None
    return InputSpec(
        skill_id, text=False, modes=modes, text_field=text_field, file_fields=file_fields
    )


def output_parts(value: Any) -> list[Part]:
    """The artifact parts for one returned value: text, a file, or data."""
    if isinstance(value, str):
        return [Part(text=value)]
    if isinstance(value, File):
        if value.raw is not None:
            return [Part(raw=value.raw, media_type=value.media_type, filename=value.filename)]
        return [Part(url=value.url, media_type=value.media_type, filename=value.filename)]
    if isinstance(value, BaseModel):
        return [Part(data=value.model_dump(mode="json"))]
    return [Part(data=value)]


def output_modes(annotation: Any) -> list[str]:
    """Media types a return annotation gives: text/plain, application/json, files (any)."""
    if annotation is str:
        return [TEXT_MODE]
    if _is_file(annotation):
        return [ANY_MODE]
    if isinstance(annotation, type) and issubclass(annotation, Message):
        return [TEXT_MODE]
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [JSON_MODE]
    args = typing.get_args(annotation)
    if args:
        return _dedupe([m for arg in args if arg is not type(None) for m in output_modes(arg)])
    return [JSON_MODE]
