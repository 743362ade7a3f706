"""Prometheus metrics of one agent (its own registry, so several agents share a process)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest

__all__ = ["AgentMetrics"]


class AgentMetrics:
    """Requests by method and outcome, and their latency."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.requests = Counter(
            "woa_agent_requests",
            "JSON-RPC requests by method and outcome (ok or the error reason).",
            ["method", "outcome"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "woa_agent_request_seconds",
            "Time to answer a JSON-RPC request (for streams: until the stream starts).",
            ["method"],
            registry=self.registry,
            buckets=(0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10),
        )
        self._children: dict[tuple[str, str], tuple[Counter, Histogram]] = {}

    def observe(self, method: str, outcome: str, seconds: float) -> None:
        """Record one request (methods and outcomes are a small fixed set of names)."""
        children = self._children.get((method, outcome))
        if children is None:
            children = self._children[method, outcome] = (
                self.requests.labels(method, outcome),
                self.latency.labels(method),
            )
        children[0].inc()
        children[1].observe(seconds)

    def render(self) -> bytes:
        """The text exposition format."""
        return generate_latest(self.registry)
