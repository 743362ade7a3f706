"""The agent's metrics: counts by method and outcome, a cumulative latency histogram."""

from __future__ import annotations

from prometheus_client.parser import text_string_to_metric_families

from woa_agents.metrics import LATENCY_BUCKETS, AgentMetrics


def _samples(metrics: AgentMetrics) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(metrics.render().decode())
        for s in family.samples
    }


def test_counts_and_histogram_as_prometheus_reads_them() -> None:
    metrics = AgentMetrics()
    for seconds in (0.0004, 0.0005, 0.003, 20):
        metrics.observe("SendMessage", "ok", seconds)
    metrics.observe("SendMessage", "UNAUTHENTICATED", 0.002)
    samples = _samples(metrics)
    assert samples["woa_agent_requests_total", (("method", "SendMessage"), ("outcome", "ok"))] == 4
    key = ("method", "SendMessage"), ("outcome", "UNAUTHENTICATED")
    assert samples["woa_agent_requests_total", key] == 1

    def bucket(le: str) -> float:
        return samples["woa_agent_request_seconds_bucket", (("le", le), ("method", "SendMessage"))]

    assert bucket("0.0005") == 2  # an observation on a bound counts in that bucket
    assert bucket("0.0025") == 3
    assert bucket("0.005") == 4
    assert bucket("10.0") == 4
    assert bucket("+Inf") == 5
    assert samples["woa_agent_request_seconds_count", (("method", "SendMessage"),)] == 5
    total = samples["woa_agent_request_seconds_sum", (("method", "SendMessage"),)]
    assert abs(total - 20.0059) < 1e-9
    buckets = [k for k in samples if k[0] == "woa_agent_request_seconds_bucket"]
    assert len(buckets) == len(LATENCY_BUCKETS) + 1


def test_an_unused_agent_exposes_its_families_without_samples() -> None:
    text = AgentMetrics().render().decode()
    assert "# TYPE woa_agent_requests_total counter" in text
    assert "# TYPE woa_agent_request_seconds histogram" in text
