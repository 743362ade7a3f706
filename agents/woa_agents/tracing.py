"""W3C Trace Context (``traceparent``) carried across every hop.

A client call starts a trace, or continues the one the current handler runs in by sending
the handler's own span as the ``traceparent`` parent; the server runs each handler in a new
child span of the incoming one, so calls the handler makes carry the same trace id with the
handler's span as their parent. The call tree of a compound task can then be rebuilt from the
``(trace id, parent span, span)`` triples each agent records in its task metadata.
Hand-written because it is 60 lines of string handling and OpenTelemetry is a much larger
dependency than the format needs.
"""

from __future__ import annotations

import re
from contextvars import ContextVar
from typing import NamedTuple

from woa_protocol.ids import random_hex

__all__ = ["TraceContext", "current_trace", "outgoing_trace"]

_TRACEPARENT = re.compile(r"^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$")


class TraceContext(NamedTuple):
    """One span's position in a trace: trace id, span id and flags (W3C Trace Context).

    A named tuple: one is made for every call served, and a tuple builds in a fraction of a
    frozen dataclass's time.
    """

    trace_id: str
    span_id: str
    flags: str = "01"
    parent_id: str | None = None

    @classmethod
    def new(cls) -> TraceContext:
        """Start a new trace with a random root span."""
        return cls(random_hex(16), random_hex(8))

    @classmethod
    def parse(cls, header: str | None) -> TraceContext | None:
        """Parse a ``traceparent`` value; None when absent or malformed (the spec says ignore)."""
        if not header:
            return None
        match = _TRACEPARENT.match(header.strip().lower())
        if match is None:
            return None
        version, trace_id, span_id, flags = match.groups()
        if version == "ff" or trace_id == "0" * 32 or span_id == "0" * 16:
            return None
        return cls(trace_id, span_id, flags)

    def child(self) -> TraceContext:
        """Return a new span in the same trace whose parent is this span."""
        return TraceContext(self.trace_id, random_hex(8), self.flags, self.span_id)

    @property
    def traceparent(self) -> str:
        """The ``traceparent`` header value naming this span."""
        return f"00-{self.trace_id}-{self.span_id}-{self.flags}"


current_trace: ContextVar[TraceContext | None] = ContextVar("woa_current_trace", default=None)
"""The span the running code belongs to (set by the server around each skill handler)."""


def outgoing_trace(explicit: str | None = None) -> TraceContext:
    """Return the parent span an outgoing call names: ``explicit``, the current span, or new."""
    parent = TraceContext.parse(explicit) if explicit else current_trace.get()
    return parent if parent is not None else TraceContext.new()
