"""``/metrics`` for Prometheus: request latency here, job and message counts from Redis,
data requests' clock from the database.

Workers count jobs and messages in Redis (``models.queue.JobStats``), so any API process
can report the whole system's figures; the queue depth is read from arq's queue at scrape,
and the data requests open, at risk and overdue by kind from their due dates
(``models.rights.deadlines.open_figures``), so an alert on overdue requests fires even if
the sweeper has stopped.
"""

from __future__ import annotations

import hmac
import time

import structlog
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.incident_metrics import AuthorityReportGauges
from models.rights.deadlines import open_figures

log = structlog.get_logger("accord.metrics")


DATA_REQUEST_GAUGES = {
    "open": "Data requests whose clock runs (identity verified, not answered), by kind.",
    "at_risk": "Open data requests due within ACCORD_DATA_REQUEST_AT_RISK_DAYS, by kind.",
    "overdue": "Open data requests past their due date, by kind.",
}


class _Snapshot:
    """What the last scrape read from Redis, exposed to the registry as metric families."""

    def __init__(self) -> None:
        self.jobs: dict[str, int] = {}
        self.sent: dict[str, int] = {}
        self.queued = 0
        #: ``open_figures``: {"open" | "at_risk" | "overdue": {kind: count}}.
        self.data_requests: dict[str, dict[str, int]] = {}

    def collect(self):
        jobs = CounterMetricFamily(
            "accord_jobs", "Jobs by function and outcome.", labels=["function", "outcome"]
        )
        for key, value in sorted(self.jobs.items()):
            function, _, outcome = key.rpartition(":")
            jobs.add_metric([function, outcome], value)
        yield jobs
        sent = CounterMetricFamily(
            "accord_notifications_sent",
            "Notifications sent by channel and kind.",
            labels=["channel", "kind"],
        )
        for key, value in sorted(self.sent.items()):
            channel, _, kind = key.partition(":")
            sent.add_metric([channel, kind], value)
        yield sent
        yield GaugeMetricFamily("accord_queue_depth", "Jobs waiting in the queue.", self.queued)
        for name, words in DATA_REQUEST_GAUGES.items():
            gauge = GaugeMetricFamily(f"accord_data_requests_{name}", words, labels=["kind"])
            for kind, value in sorted(self.data_requests.get(name, {}).items()):
                gauge.add_metric([kind], value)
            yield gauge


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.latency = Histogram(
            "accord_request_seconds",
            "HTTP request latency.",
            ["method", "route", "status"],
            registry=self.registry,
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
        )
        self.snapshot = _Snapshot()
        self.registry.register(self.snapshot)
        self.incidents = AuthorityReportGauges()
        self.registry.register(self.incidents)

    async def endpoint(self, request: Request) -> Response:
        token = request.app.state.settings.metrics_token
        if token is not None:
            offered = request.headers.get("authorization", "").removeprefix("Bearer ").strip()
            if not hmac.compare_digest(offered.encode(), token.get_secret_value().encode()):
                return Response(status_code=401, headers={"www-authenticate": "Bearer"})
        stats = request.app.state.stats
        try:
            self.snapshot.jobs, self.snapshot.sent = await stats.counters()
            self.snapshot.queued = await stats.pool.zcard(stats.queue_name)
        except Exception as error:  # Redis down: report what this process knows
            log.warning("metrics: redis unavailable", error=repr(error))
        try:
            self.snapshot.data_requests = await open_figures(request.app.state.settings)
        except Exception as error:  # the database down: the last figures stand
            log.warning("metrics: database unavailable", error=repr(error))
        await self.incidents.refresh(request.app.state.settings)
        return Response(generate_latest(self.registry), media_type=CONTENT_TYPE_LATEST)


class RequestMetrics:
    """Times every HTTP request; the route label is the path only for known routes."""

    KNOWN = {"/graphql", "/healthz", "/readyz", "/metrics", "/.well-known/jwks.json"}

    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def record(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, record)
        finally:
            path = scope.get("path", "")
            route = (
                path
                if path in self.KNOWN
                else ("/pictures/{id}" if path.startswith("/pictures/") else "other")
            )
            self.metrics.latency.labels(scope.get("method", ""), route, str(status)).observe(
                time.perf_counter() - started
            )
