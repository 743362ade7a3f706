from __future__ import annotations

import pytest

from woa_agents.tracing import TraceContext, current_trace, outgoing_trace


def test_parse_and_format_round_trip() -> None:
    header = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
    ctx = TraceContext.parse(header)
    assert ctx is not None
    assert ctx.traceparent == header


@pytest.mark.parametrize(
    "header",
    [
        None,
        "",
        "garbage",
        "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
        "00-00000000000000000000000000000000-00f067aa0ba902b7-01",
        "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",
    ],
)
def test_invalid_headers_are_ignored(header: str | None) -> None:
    assert TraceContext.parse(header) is None


@pytest.mark.req("AGT-050")
def test_outgoing_trace_continues_the_current_span() -> None:
    fresh, other = outgoing_trace(), outgoing_trace()
    assert fresh.trace_id != other.trace_id
    handler_span = TraceContext.new().child()
    token = current_trace.set(handler_span)
    try:
        assert outgoing_trace() == handler_span  # the callee's parent is the handler's span
    finally:
        current_trace.reset(token)
    explicit = outgoing_trace(handler_span.traceparent)
    assert (explicit.trace_id, explicit.span_id) == (handler_span.trace_id, handler_span.span_id)
    child = explicit.child()
    assert child.parent_id == explicit.span_id
    assert child.trace_id == explicit.trace_id
