"""What a skill handler sees besides its input: the caller, the task, the trace, cancellation."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from woa_protocol.models import Message

from .tracing import TraceContext

__all__ = [
    "InputRequired",
    "Partial",
    "Progress",
    "Rejected",
    "SkillContext",
]


@dataclass(frozen=True)
class Progress:
    """Yielded by a streaming handler: a progress note (a ``working`` status update)."""

    text: str


@dataclass(frozen=True)
class Partial:
    """Yielded by a streaming handler: a piece of the result (an appended artifact chunk).

    ``data`` is text (``str``), a :class:`~woa_agents.files.File`, or a JSON value or
    pydantic model (a data part). When the handler ends without a result, the chunks are
    the result: adjacent text chunks joined (spec AGT-017).
    """

    data: Any


class InputRequired(Exception):  # noqa: N818 - a signal, named for the A2A state it causes
    """Raised by a handler to pause the task until the caller sends more input."""

    def __init__(self, question: str) -> None:
        super().__init__(question)
        self.question = question


class Rejected(Exception):  # noqa: N818 - a signal, named for the A2A state it causes
    """Raised by a handler to refuse the task (state ``rejected``)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass
class SkillContext:
    """Per-call facts for a handler; ``caller_did`` is the verified signer (None: unsigned)."""

    skill_id: str
    task_id: str
    context_id: str
    caller_did: str | None
    trace: TraceContext
    history: list[Message] = field(default_factory=list)
    _emit: Callable[[Progress | Partial], Awaitable[None]] | None = field(default=None, repr=False)

    async def progress(self, text: str) -> None:
        """Publish a progress note to subscribers (a ``working`` status update)."""
        if self._emit is not None:
            await self._emit(Progress(text))

    async def partial(self, data: Any) -> None:
        """Publish part of the result to subscribers (an appended artifact chunk)."""
        if self._emit is not None:
            await self._emit(Partial(data))
