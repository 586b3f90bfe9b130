"""``GET /api/v1/status`` (the system state as JSON) and ``GET /metrics`` (Prometheus text).

Both are public and read the same cached :func:`podatelna.status.system_state`, so a monitoring
system polling them costs one round of backend probes per cache interval. ``/api/v1/status``
answers 200 while the system is in operation or limited and 503 when it is out of operation, so
a plain HTTP check alarms on the right thing; the body says which backend is down and why.

``/metrics`` exposes the level, each check's up/latency, the queue depth per stage, the
submissions per state, and the HTTP requests of this process: being served (a gauge), and
served (a counter and a latency histogram per method, route template and status, counted by
:class:`RequestMetrics`). Each API gets a
registry of its own (no process-global registry), so several apps in one process do not clash.
:func:`install_status` wires all of it into a FastAPI app.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from fastapi import APIRouter, FastAPI
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.exposition import generate_latest
from prometheus_client.registry import Collector
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from podatelna.status import LEVELS, SystemState, system_state

if TYPE_CHECKING:
    from podatelna.app import App

PREFIX = "podatelna"


class StateCollector(Collector):
    """Gauges computed at scrape time from the (cached) system state."""

    def __init__(self, app: App) -> None:
        self.app = app

    def collect(self) -> Iterable[Any]:
        return state_metrics(system_state(self.app))

    def describe(self) -> Iterable[Any]:
        # without this the registry would call collect() when the collector is registered,
        # probing every backend while the API is being built (before the migrations ran)
        return []


def state_metrics(state: SystemState) -> list[GaugeMetricFamily]:
    level = GaugeMetricFamily(
        f"{PREFIX}_system_level",
        "1 for the level the system is at (in_operation, limited, out_of_operation), else 0",
        labels=["level"],
    )
    for lv in LEVELS:
        level.add_metric([lv], 1.0 if state.level == lv else 0.0)
    up = GaugeMetricFamily(
        f"{PREFIX}_check_up", "1 when the backend answered its live check", labels=["check"]
    )
    latency = GaugeMetricFamily(
        f"{PREFIX}_check_latency_seconds", "how long the live check took", labels=["check"]
    )
    for c in state.checks:
        up.add_metric([c.name], 1.0 if c.ok else 0.0)
        latency.add_metric([c.name], c.latency_ms / 1000)
    queues = GaugeMetricFamily(
        f"{PREFIX}_queue_depth",
        "messages waiting per pipeline stage (source label: broker or outbox)",
        labels=["stage", "source"],
    )
    for stage, depth in state.load.queues.items():
        queues.add_metric([stage, state.load.queues_source], float(depth))
    out = [level, up, latency, queues]
    if state.load.counted:
        by_state = GaugeMetricFamily(
            f"{PREFIX}_submissions", "submissions per pipeline state", labels=["state"]
        )
        for st, n in sorted(state.load.by_state.items()):
            by_state.add_metric([st], float(n))
        out.append(by_state)
        for name, value, text in (
            ("in_progress", state.load.in_progress, "submissions in a non-final state"),
            ("awaiting_timestamp", state.load.awaiting_timestamp, "waiting for a timestamp"),
            ("awaiting_receipt", state.load.awaiting_receipt, "registered, receipt not issued"),
        ):
            out.append(GaugeMetricFamily(f"{PREFIX}_submissions_{name}", text, value=value))
    return out


class HttpMetrics:
    """The HTTP request counter and latency histogram, in ``registry``."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.requests = Counter(
            f"{PREFIX}_http_requests",
            "HTTP requests served",
            ["method", "route", "status"],
            registry=registry,
        )
        self.duration = Histogram(
            f"{PREFIX}_http_request_duration_seconds",
            "time to the end of the response",
            ["method", "route"],
            registry=registry,
        )
        self.in_progress = Gauge(
            f"{PREFIX}_http_requests_in_progress", "HTTP requests being served", registry=registry
        )


class RequestMetrics:
    """ASGI middleware: counts HTTP requests and their duration by method, route template and
    status (the template, ``/api/v1/filings/{reference}``, not the path: bounded label values)."""

    def __init__(self, app: ASGIApp, *, metrics: HttpMetrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        status = 500

        async def send_wrapper(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        self.metrics.in_progress.inc()
        try:
            await self.app(scope, receive, send_wrapper)
        finally:
            self.metrics.in_progress.dec()
            route = scope.get("route")
            template = getattr(route, "path", None) or "<unmatched>"
            method = scope.get("method", "")
            self.metrics.requests.labels(method, template, str(status)).inc()
            self.metrics.duration.labels(method, template).observe(time.perf_counter() - start)


def status_router(app: App, registry: CollectorRegistry | None = None) -> APIRouter:
    """The two endpoints; ``registry`` is what ``/metrics`` exposes (one is made if absent,
    holding the state gauges only)."""
    if registry is None:
        registry = CollectorRegistry(auto_describe=True)
        registry.register(StateCollector(app))
    router = APIRouter(tags=["status"])

    @router.get("/api/v1/status")
    def status() -> JSONResponse:
        """The system state: level, live checks, load. 503 when out of operation."""
        state = system_state(app)
        code = 503 if state.level == "out_of_operation" else 200
        return JSONResponse(
            state.to_json(), status_code=code, headers={"Cache-Control": "no-store"}
        )

    @router.get("/metrics", include_in_schema=False)
    def metrics() -> Response:
        return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)

    return router


def install_status(api: FastAPI, app: App) -> None:
    """Add the status and metrics endpoints and the request-metrics middleware to ``api``."""
    registry = CollectorRegistry(auto_describe=True)
    registry.register(StateCollector(app))
    api.add_middleware(RequestMetrics, metrics=HttpMetrics(registry))
    api.include_router(status_router(app, registry))
