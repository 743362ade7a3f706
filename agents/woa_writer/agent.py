"""The writer agent: a small language model's skills on the Web of Agents.

Written only with the SDK's public API. Skills:

- ``generate`` streams a reply to a prompt (text chunks of the result artifact, then the
  whole reply as data);
- ``summarize`` answers a summary of at most ``max_words`` words;
- ``extract`` answers the JSON value a text holds, decoded under the JSON Schema the caller
  sends (a llama.cpp grammar, or the server's ``response_format``) and validated by it.

Input is bounded (``MAX_TEXT_CHARS`` per text, a schema of at most ``MAX_SCHEMA_BYTES``);
bad input is refused with JSON-RPC ``-32602`` before the model runs.
"""

from __future__ import annotations

import importlib.util
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field, field_validator

from woa_agents import Agent, Partial, Rejected
from woa_protocol import SigningKey
from woa_samples import MissingExtraError, Sample
from woa_samples.inputs import InputPolicy

from .backends import (
    ContextOverflowError,
    SchemaNotSupportedError,
    WriterSettings,
    backend_from_settings,
)
from .model import Writer, check_json_schema
from .weights import QWEN25_CODER_15B

__all__ = [
    "MAX_SCHEMA_BYTES",
    "MAX_TEXT_CHARS",
    "ExtractIn",
    "ExtractOut",
    "GenerateIn",
    "GenerateOut",
    "SummarizeIn",
    "SummarizeOut",
    "build",
    "build_agent",
    "build_writer",
]

MAX_TEXT_CHARS = 16_000
"""The longest text (prompt, text to summarize or extract from) a call may carry."""
MAX_SCHEMA_BYTES = 16_384
"""The largest JSON Schema ``extract`` accepts (its JSON text, in bytes)."""

LATENCY_MS = {"generate": 3000.0, "summarize": 4000.0, "extract": 2500.0}
"""Median latency per skill measured on the project's 2-core machine (card hints)."""


class GenerateIn(BaseModel):
    """A prompt to answer."""

    prompt: str = Field(min_length=1, max_length=MAX_TEXT_CHARS)
    system: str | None = Field(default=None, max_length=4000, description="system prompt")
    max_tokens: int = Field(default=256, ge=1, le=1024)
    temperature: float = Field(default=0.2, ge=0.0, le=2.0)


class GenerateOut(BaseModel):
    """The reply, whole."""

    text: str
    model: str


class SummarizeIn(BaseModel):
    """A text to summarize."""

    text: str = Field(min_length=1, max_length=MAX_TEXT_CHARS)
    max_words: int = Field(default=60, ge=5, le=400)


class SummarizeOut(BaseModel):
    """The summary and its length in words."""

    summary: str
    words: int
    model: str


class ExtractIn(BaseModel):
    """A text and the JSON Schema of the value to extract from it."""

    text: str = Field(min_length=1, max_length=MAX_TEXT_CHARS)
    # dict[str, Any], not JsonValue: the SDK's card cleaning drops JsonValue's empty $defs
    # entry and leaves a dangling $ref
    json_schema: dict[str, Any] = Field(
        description="a Draft 2020-12 JSON Schema the answer must validate against"
    )
    instructions: str | None = Field(default=None, max_length=2000)

    @field_validator("json_schema")
    @classmethod
    def _valid_schema(cls, value: dict[str, Any]) -> dict[str, Any]:
        size = len(json.dumps(value, ensure_ascii=False).encode("utf-8"))
        if size > MAX_SCHEMA_BYTES:
            raise ValueError(f"the schema is {size} bytes; the limit is {MAX_SCHEMA_BYTES}")
        check_json_schema(value)
        return value


class ExtractOut(BaseModel):
    """The extracted value (valid against the request's schema)."""

    data: Any
    model: str


def build_writer(settings: WriterSettings | None = None) -> Writer:
    """A :class:`Writer` on the backend the settings (default: the environment) choose.

    Raises ``MissingExtraError`` (naming the ``writer`` extra) when the llama-cpp backend is
    chosen and llama-cpp-python or the weight packages are not installed.
    """
    settings = settings or WriterSettings()
    if settings.backend == "llama-cpp":
        if importlib.util.find_spec("llama_cpp") is None:
            raise MissingExtraError("writer", "llama_cpp (llama-cpp-python)")
        if settings.model_path is None:
            QWEN25_CODER_15B.chunk_paths()
    return Writer(backend_from_settings(settings))


def build(
    *,
    key: SigningKey | str | Path | None = None,
    registry_url: str | None = None,
    policy: InputPolicy | None = None,
    writer: Writer | None = None,
    **options: Any,
) -> Sample:
    """The writer as a sample agent (``woa agents run writer``); options go to the Agent.

    ``policy`` (the sample agents' file-input policy) is accepted for the catalog's common
    interface and unused: the writer takes text, and keeps the SDK's 1 MiB body limit.
    """
    del policy
    model = writer or build_writer()
    agent = build_agent(model, key=key, registry_url=registry_url, **options)
    return Sample(agent, workers=[model])


def build_agent(
    writer: Writer | None = None,
    *,
    key: SigningKey | str | Path | None = None,
    registry_url: str | None = None,
    **agent_options: Any,
) -> Agent:
    """The writer agent over ``writer`` (default: :func:`build_writer` from the environment)."""
    model = writer or build_writer()
    agent = Agent(
        "writer",
        f"Writes, summarizes and extracts JSON with a small language model ({model.model_name}).",
        key=key,
        registry_url=registry_url,
        **agent_options,
    )
    text_in = ["text", "data"]

    @agent.skill(
        family="slm",
        tags=["text-generation", "chat", "streaming"],
        latency_ms=LATENCY_MS["generate"],
        cost_per_call=0.0,
        input_modalities=text_in,
        output_modalities=["text"],
        examples=[GenerateIn(prompt="Write a haiku about signed messages.")],
    )
    async def generate(request: GenerateIn) -> AsyncIterator[Partial | GenerateOut]:
        """Answer a prompt, streaming the text as it is written."""
        pieces: list[str] = []
        try:
            async for piece in model.generate(
                request.prompt,
                system=request.system,
                max_tokens=request.max_tokens,
                temperature=request.temperature,
            ):
                pieces.append(piece)
                yield Partial(piece)  # a text chunk of the result artifact
        except ContextOverflowError as exc:
            raise Rejected(str(exc)) from exc
        yield GenerateOut(text="".join(pieces), model=model.model_name)

    @agent.skill(
        family="slm",
        tags=["summarization"],
        idempotent=True,
        latency_ms=LATENCY_MS["summarize"],
        cost_per_call=0.0,
        input_modalities=text_in,
        output_modalities=["text"],
    )
    async def summarize(request: SummarizeIn) -> SummarizeOut:
        """Summarize a text in at most max_words words."""
        try:
            summary = await model.summarize(request.text, max_words=request.max_words)
        except ContextOverflowError as exc:
            raise Rejected(str(exc)) from exc
        return SummarizeOut(summary=summary, words=len(summary.split()), model=model.model_name)

    @agent.skill(
        family="slm",
        tags=["extraction", "json", "structured-output"],
        idempotent=True,
        latency_ms=LATENCY_MS["extract"],
        cost_per_call=0.0,
        input_modalities=text_in,
    )
    async def extract(request: ExtractIn) -> ExtractOut:
        """Extract the JSON value a text holds, constrained by the given JSON Schema."""
        schema: dict[str, Any] = dict(request.json_schema)
        try:
            model.check_schema(schema)
            data = await model.extract(request.text, schema, instructions=request.instructions)
        except (SchemaNotSupportedError, ContextOverflowError) as exc:
            raise Rejected(str(exc)) from exc
        return ExtractOut(data=data, model=model.model_name)

    return agent
