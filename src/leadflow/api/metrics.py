"""Prometheus metrics, one registry per app (so tests and workers never collide)."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable

from fastapi import FastAPI, Request, Response
from prometheus_client import CollectorRegistry, Counter, Histogram


class Metrics:
    """Request counts and latencies by route, and events received by outcome."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "leadflow_http_requests",
            "HTTP requests by route template, method and status.",
            ["route", "method", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "leadflow_http_request_seconds",
            "Time to answer, by route template.",
            ["route"],
            buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5),
            registry=self.registry,
        )
        self.events = Counter(
            "leadflow_events",
            "Tracking events by outcome: stored, duplicate or rejected.",
            ["outcome"],
            registry=self.registry,
        )


def install(app: FastAPI) -> None:
    """Count and time every request by its route template (never its raw path: no e-mails)."""
    app.state.metrics = Metrics()

    @app.middleware("http")
    async def measure(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        started = time.perf_counter()
        response = await call_next(request)
        route = request.scope.get("route")
        template = getattr(route, "path", "unmatched")
        metrics: Metrics = request.app.state.metrics
        metrics.latency.labels(template).observe(time.perf_counter() - started)
        metrics.requests.labels(template, request.method, str(response.status_code)).inc()
        return response
