"""Prometheus metrics, one registry per app (so tests and workers never collide)."""

from __future__ import annotations

import time

from fastapi import FastAPI
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from starlette.types import ASGIApp, Message, Receive, Scope, Send


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
        self.worker_lag = Gauge(
            "leadflow_worker_lag_seconds",
            "How long the oldest undelivered alert (alert) and the oldest unswept SLA deadline "
            "(sla) have waited, read when scraped.",
            ["queue"],
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
    app.add_middleware(MeasureRequests, metrics=app.state.metrics)


class MeasureRequests:
    """Plain ASGI middleware: a `BaseHTTPMiddleware` would cost a task and a stream per request."""

    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500  # what the client gets if the app fails before answering

        async def remember_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, remember_status)
        finally:
            template = getattr(scope.get("route"), "path", "unmatched")
            self.metrics.latency.labels(template).observe(time.perf_counter() - started)
            self.metrics.requests.labels(template, scope["method"], str(status)).inc()
