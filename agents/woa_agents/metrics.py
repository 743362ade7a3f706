"""Prometheus metrics of one agent (its own registry, so several agents share a process).

Counting is done here in plain dicts and read by a custom collector when ``/metrics`` is
scraped: prometheus_client's ``Counter`` and ``Histogram`` take a lock and walk their
buckets in Python on every call, which was ~2 % of a signed call's time. The event loop
is the only writer, so no lock is needed; the exposition is prometheus_client's own.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Iterator

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, HistogramMetricFamily, Metric
from prometheus_client.registry import Collector

__all__ = ["LATENCY_BUCKETS", "AgentMetrics"]

LATENCY_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10)
"""Upper bounds (seconds) of the latency histogram's buckets; ``+Inf`` follows."""
_LE = (*(repr(float(bound)) for bound in LATENCY_BUCKETS), "+Inf")  # as prometheus_client writes


class _Latency:
    __slots__ = ("buckets", "total")

    def __init__(self) -> None:
        self.buckets = [0] * (len(LATENCY_BUCKETS) + 1)  # the last one is +Inf
        self.total = 0.0


class AgentMetrics(Collector):
    """Requests by method and outcome, and their latency."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self._requests: dict[tuple[str, str], int] = {}
        self._latency: dict[str, _Latency] = {}
        self.registry.register(self)

    def observe(self, method: str, outcome: str, seconds: float) -> None:
        """Record one request (methods and outcomes are a small fixed set of names)."""
        key = (method, outcome)
        self._requests[key] = self._requests.get(key, 0) + 1
        latency = self._latency.get(method)
        if latency is None:
            latency = self._latency[method] = _Latency()
        latency.buckets[bisect_left(LATENCY_BUCKETS, seconds)] += 1
        latency.total += seconds

    def collect(self) -> Iterator[Metric]:
        """The two metric families, as the registry asks for them at a scrape."""
        requests = CounterMetricFamily(
            "woa_agent_requests",
            "JSON-RPC requests by method and outcome (ok or the error reason).",
            labels=["method", "outcome"],
        )
        for (method, outcome), count in sorted(self._requests.items()):
            requests.add_metric([method, outcome], count)
        yield requests
        latency = HistogramMetricFamily(
            "woa_agent_request_seconds",
            "Time to answer a JSON-RPC request (for streams: until the stream starts).",
            labels=["method"],
        )
        for method, seen in sorted(self._latency.items()):
            cumulative, buckets = 0, []
            for le, count in zip(_LE, seen.buckets, strict=True):
                cumulative += count
                buckets.append((le, cumulative))
            latency.add_metric([method], buckets, seen.total)
        yield latency

    def render(self) -> bytes:
        """The text exposition format."""
        return generate_latest(self.registry)
