"""The writer model: generate, summarize and extract over a :class:`~.backends.Backend`.

Pure model code (no agent SDK): prompts, a thread bridge that streams the backend's pieces
into the event loop and stops the backend when the consuming task is cancelled, summary
trimming, and schema checks around constrained extraction.
"""

from __future__ import annotations

import asyncio
import json
import re
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import jsonschema
from jsonschema.exceptions import SchemaError

from .backends import Backend, BackendError, ChatMessage

__all__ = [
    "ExtractionError",
    "StreamStats",
    "Writer",
    "check_json_schema",
    "trim_to_words",
]

_SUMMARY_SYSTEM = (
    "You summarize text. Reply with the summary only: plain sentences, no preamble, "
    "no bullet points, at most {max_words} words. Keep the names, numbers and key terms."
)
_EXTRACT_SYSTEM = (
    "You extract structured data from text and reply with one JSON value that matches "
    "this JSON Schema:\n{schema}\n"
    "Copy names and amounts exactly as the text gives them. Write dates as YYYY-MM-DD. "
    "An amount paid is the final total, taxes and tips included."
)


class ExtractionError(BackendError):
    """The model's answer is not JSON valid against the requested schema."""


def check_json_schema(schema: dict[str, Any]) -> None:
    """Raise ``ValueError`` unless ``schema`` is a valid Draft 2020-12 JSON Schema."""
    try:
        jsonschema.Draft202012Validator.check_schema(schema)
    except SchemaError as exc:
        where = "/".join(str(p) for p in exc.path) or "(root)"
        raise ValueError(f"not a valid JSON Schema at {where}: {exc.message}") from exc


def trim_to_words(text: str, max_words: int) -> str:
    """``text`` cut to at most ``max_words`` words, at a sentence end when one is close."""
    words = text.split()
    if len(words) <= max_words:
        return " ".join(words)
    cut = " ".join(words[:max_words])
    end = max(cut.rfind(". "), cut.rfind("! "), cut.rfind("? "))
    if cut.endswith((".", "!", "?")):
        return cut
    if end >= len(cut) // 2:
        return cut[: end + 1]
    return cut.rstrip(",;:") + "…"


@dataclass
class StreamStats:
    """What the last completion did: pieces produced, whether it was stopped early, how long."""

    pieces: int = 0
    stopped: bool = False
    finished: bool = False
    seconds: float = 0.0
    """Time the backend spent on it, in its worker thread (model time, for benchmarks)."""


class Writer:
    """Text generation, summaries and schema-constrained extraction with one backend.

    The backend runs in this writer's own worker threads (one for llama.cpp, whose model is
    not shared between threads), so the event loop keeps serving while a model works.
    """

    def __init__(self, backend: Backend) -> None:
        self.backend = backend
        self._executor = ThreadPoolExecutor(
            max_workers=backend.max_workers, thread_name_prefix="woa-writer"
        )
        self.last = StreamStats()
        """Statistics of the most recently started completion."""

    @property
    def model_name(self) -> str:
        """The backend's model."""
        return self.backend.model_name

    async def load(self) -> None:
        """Load the model now, in a worker thread (otherwise the first call loads it)."""
        await asyncio.get_running_loop().run_in_executor(self._executor, self.backend.load)

    async def warm(self) -> None:
        """Load the model now (the sample agents' worker interface; same as :meth:`load`)."""
        await self.load()

    async def idle(self) -> None:
        """Wait until the completions started so far have stopped."""
        await asyncio.get_running_loop().run_in_executor(self._executor, lambda: None)

    def close(self) -> None:
        """Stop the worker threads and release the backend."""
        self._executor.shutdown(wait=True, cancel_futures=True)
        self.backend.close()

    # -- the thread bridge ---------------------------------------------------------------

    async def stream(
        self,
        messages: Sequence[ChatMessage],
        *,
        max_tokens: int,
        temperature: float = 0.0,
        json_schema: dict[str, Any] | None = None,
    ) -> AsyncIterator[str]:
        """Stream a completion's pieces; cancelling the consumer stops the model."""
        loop = asyncio.get_running_loop()
        queue: asyncio.Queue[tuple[str, Any]] = asyncio.Queue()
        stop = threading.Event()
        stats = self.last = StreamStats()

        def post(kind: str, value: Any) -> None:
            try:
                loop.call_soon_threadsafe(queue.put_nowait, (kind, value))
            except RuntimeError:  # the loop is gone: nobody listens any more
                stop.set()

        def work() -> None:
            if stop.is_set():  # cancelled while queued behind another completion
                stats.stopped = True
                return
            started = time.perf_counter()
            outcome: tuple[str, Any] = ("done", None)
            try:
                pieces: Iterator[str] = self.backend.stream(
                    messages,
                    max_tokens=max_tokens,
                    temperature=temperature,
                    json_schema=json_schema,
                    stop=stop,
                )
                for piece in pieces:
                    stats.pieces += 1
                    post("piece", piece)
                    if stop.is_set():
                        break
            except BaseException as exc:  # handed to the consumer, raised there
                outcome = ("error", exc)
            stats.seconds = time.perf_counter() - started
            stats.stopped = stop.is_set()
            stats.finished = True
            post(*outcome)

        loop.run_in_executor(self._executor, work)
        try:
            while True:
                kind, value = await queue.get()
                if kind == "piece":
                    yield value
                elif kind == "error":
                    raise value
                else:
                    return
        finally:
            stop.set()

    async def _text(self, messages: Sequence[ChatMessage], **kw: Any) -> str:
        return "".join([piece async for piece in self.stream(messages, **kw)])

    # -- skills --------------------------------------------------------------------------

    def generate(
        self,
        prompt: str,
        *,
        system: str | None = None,
        max_tokens: int = 256,
        temperature: float = 0.2,
    ) -> AsyncIterator[str]:
        """Stream a reply to ``prompt`` (with an optional system prompt)."""
        messages: list[ChatMessage] = []
        if system:
            messages.append({"role": "system", "content": system})
        messages.append({"role": "user", "content": prompt})
        return self.stream(messages, max_tokens=max_tokens, temperature=temperature)

    async def summarize(self, text: str, *, max_words: int = 60) -> str:
        """A summary of ``text`` in at most ``max_words`` words."""
        messages: list[ChatMessage] = [
            {"role": "system", "content": _SUMMARY_SYSTEM.format(max_words=max_words)},
            {"role": "user", "content": f"Summarize this text:\n\n{text}"},
        ]
        raw = await self._text(messages, max_tokens=2 * max_words + 32, temperature=0.0)
        raw = re.sub(r"^\s*(summary|here is[^:]*)\s*:\s*", "", raw, flags=re.IGNORECASE)
        return trim_to_words(raw.strip(), max_words)

    def check_schema(self, json_schema: dict[str, Any]) -> None:
        """Raise ``ValueError`` unless the schema is valid and the backend can decode to it."""
        check_json_schema(json_schema)
        self.backend.check_schema(json_schema)

    async def extract(
        self,
        text: str,
        json_schema: dict[str, Any],
        *,
        instructions: str | None = None,
        max_tokens: int = 512,
        on_piece: Callable[[str], None] | None = None,
    ) -> Any:
        """The JSON value ``text`` holds, decoded under ``json_schema`` and validated by it."""
        shown = {k: v for k, v in json_schema.items() if k not in ("$schema", "$id")}
        system = _EXTRACT_SYSTEM.format(schema=json.dumps(shown, ensure_ascii=False))
        if instructions:
            system += "\n" + instructions
        messages: list[ChatMessage] = [
            {"role": "system", "content": system},
            {"role": "user", "content": text},
        ]
        pieces: list[str] = []
        async for piece in self.stream(
            messages, max_tokens=max_tokens, temperature=0.0, json_schema=json_schema
        ):
            pieces.append(piece)
            if on_piece is not None:
                on_piece(piece)
        raw = "".join(pieces)
        try:
            value = json.loads(raw)
        except json.JSONDecodeError as exc:
            raise ExtractionError(f"the model's answer is not JSON ({exc}): {raw[:200]!r}") from exc
        validator = jsonschema.Draft202012Validator(
            json_schema, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER
        )
        errors = sorted(validator.iter_errors(value), key=lambda e: list(e.path))
        if errors:
            first = errors[0]
            where = "/".join(str(p) for p in first.path) or "(root)"
            raise ExtractionError(
                f"the model's answer fails the schema at {where}: {first.message}"
            )
        return value
