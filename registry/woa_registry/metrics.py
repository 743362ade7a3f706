"""Prometheus metrics of one registry app (its own collector registry, so apps don't clash)."""

from __future__ import annotations

import time

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from starlette.types import ASGIApp, Message, Receive, Scope, Send

__all__ = ["MetricsMiddleware", "RegistryMetrics"]


class RegistryMetrics:
    """Request counts and latency by route and status, the agents gauge, the events counter."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.requests = Counter(
            "woa_registry_requests",
            "HTTP requests handled, by route template, method and status.",
            ["route", "method", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "woa_registry_request_seconds",
            "Time to answer an HTTP request, by route template and method.",
            ["route", "method"],
            registry=self.registry,
        )
        self.agents = Gauge(
            "woa_registry_agents", "Registered agents (at the last scrape).", registry=self.registry
        )
        self.events = Counter(
            "woa_registry_events",
            "Change events this replica committed, by kind.",
            ["kind"],
            registry=self.registry,
        )
        self.feed_clients = Gauge(
            "woa_registry_feed_clients", "Open change-feed WebSockets.", registry=self.registry
        )

    def render(self) -> bytes:
        """Return the text exposition format."""
        return generate_latest(self.registry)


class MetricsMiddleware:
    """ASGI middleware recording every HTTP request under its route template."""

    def __init__(self, app: ASGIApp, *, metrics: RegistryMetrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Time the request and count it by route, method and final status."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        status = 500
        started = time.perf_counter()

        async def recording_send(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, recording_send)
        finally:
            route = scope.get("route")
            template = getattr(route, "path", None) or "<unmatched>"
            method = scope.get("method", "GET")
            self.metrics.requests.labels(template, method, str(status)).inc()
            self.metrics.latency.labels(template, method).observe(time.perf_counter() - started)
