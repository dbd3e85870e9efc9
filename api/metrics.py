"""``/metrics`` for Prometheus: request latency here; job and message counts, job
durations, the queue and the workers' heartbeats from Redis; the work owed (data requests,
deletions, campaigns) from the database.

Workers record their facts in Redis (``models.queue.JobStats``), so any API process can
report the whole system's figures; the queue, the workers and the work owed are read at
scrape through the operators' overview (``models.operations.overview``), which
``queueStatus`` and ``accord status`` read too. The data requests open, at risk and overdue
by kind come from their due dates (``models.rights.deadlines.open_figures``), as do the
overdue deletions, so an alert on late work fires even if the sweeper has stopped. When a
store cannot be reached, its last figures stand.
"""

from __future__ import annotations

import hmac
import math
import time

import structlog
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Histogram, generate_latest
from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
)
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.incident_metrics import AuthorityReportGauges
from models.operations.overview import Backlog, QueueFacts, overview
from models.queue import DURATION_BUCKETS
from models.rights.deadlines import open_figures

log = structlog.get_logger("accord.metrics")


DATA_REQUEST_GAUGES = {
    "open": "Data requests whose clock runs (identity verified, not answered), by kind.",
    "at_risk": "Open data requests due within ACCORD_DATA_REQUEST_AT_RISK_DAYS, by kind.",
    "overdue": "Open data requests past their due date, by kind.",
}


class _Snapshot:
    """What the last scrape read from Redis and the database, exposed to the registry as
    metric families."""

    def __init__(self) -> None:
        self.jobs: dict[str, int] = {}
        self.sent: dict[str, int] = {}
        #: ``open_figures``: {"open" | "at_risk" | "overdue": {kind: count}}.
        self.data_requests: dict[str, dict[str, int]] = {}
        self.queue: QueueFacts | None = None
        self.backlog: Backlog | None = None

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
        yield from self._queue()
        for name, words in DATA_REQUEST_GAUGES.items():
            gauge = GaugeMetricFamily(f"accord_data_requests_{name}", words, labels=["kind"])
            for kind, value in sorted(self.data_requests.get(name, {}).items()):
                gauge.add_metric([kind], value)
            yield gauge
        yield from self._backlog()

    def _queue(self):
        queue = self.queue
        yield GaugeMetricFamily(
            "accord_queue_depth",
            "Jobs waiting in the queue (not taken by a worker).",
            queue.queued if queue else 0,
        )
        yield GaugeMetricFamily(
            "accord_jobs_running", "Jobs workers are running.", queue.in_progress if queue else 0
        )
        yield GaugeMetricFamily(
            "accord_queue_oldest_job_seconds",
            "How long the oldest due job has waited to be taken (0: none waits).",
            queue.oldest_queued_seconds if queue else 0,
        )
        durations = HistogramMetricFamily(
            "accord_job_duration_seconds", "How long jobs ran, by function.", labels=["function"]
        )
        for function, found in sorted((queue.durations if queue else {}).items()):
            pairs = zip(DURATION_BUCKETS, found.buckets, strict=True)
            buckets = [(_le(bound), count) for bound, count in pairs]
            durations.add_metric([function], buckets, found.total)
        yield durations
        workers = queue.workers if queue else []
        yield GaugeMetricFamily(
            "accord_workers_alive", "Workers whose heartbeat is recent.", len(workers)
        )
        seen = GaugeMetricFamily(
            "accord_worker_last_seen_timestamp_seconds",
            "Each live worker's last heartbeat (Unix time), by hostname:pid.",
            labels=["worker"],
        )
        running = GaugeMetricFamily(
            "accord_worker_jobs_running",
            "Jobs each live worker ran at its last heartbeat.",
            labels=["worker"],
        )
        for beat in workers:
            seen.add_metric([beat.id], beat.last_seen)
            running.add_metric([beat.id], beat.running)
        yield seen
        yield running
        swept = queue.last_sweep_at if queue else None
        yield GaugeMetricFamily(
            "accord_sweeper_last_run_timestamp_seconds",
            "When the sweeper last finished a run (Unix time; 0: Redis does not remember).",
            swept.timestamp() if swept else 0,
        )

    def _backlog(self):
        owed = self.backlog
        deletions = owed.deletions if owed else None
        for name, words, value in (
            ("pending", "Deletions waiting for their due date or running.", "pending"),
            ("overdue", "Deletions not finished although past their due date.", "overdue"),
            ("failed", "Deletions whose last run failed (retried after a backoff).", "failed"),
            (
                "overdue_oldest_seconds",
                "Seconds since the due date of the longest-overdue deletion (0: none).",
                "oldest_overdue_seconds",
            ),
        ):
            yield GaugeMetricFamily(
                f"accord_deletions_{name}", words, getattr(deletions, value) if deletions else 0
            )
        campaigns = owed.campaigns if owed else None
        yield GaugeMetricFamily(
            "accord_campaigns_pending",
            "Campaigns not finished (fanning out or delivering).",
            campaigns.pending if campaigns else 0,
        )
        stalled = GaugeMetricFamily(
            "accord_campaign_seconds_since_progress",
            "Seconds since each unfinished campaign last made progress.",
            labels=["campaign"],
        )
        failed = GaugeMetricFamily(
            "accord_notifications_failed",
            "Notifications whose delivery gave up, by channel.",
            labels=["channel"],
        )
        if campaigns:
            for campaign_id, seconds in campaigns.seconds_since_progress.items():
                stalled.add_metric([str(campaign_id)], seconds)
            for channel, count in sorted(campaigns.failed_notifications.items()):
                failed.add_metric([channel], count)
        yield stalled
        yield failed


def _le(bound: float) -> str:
    return "+Inf" if math.isinf(bound) else str(bound)


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
        except Exception as error:  # Redis down: report what this process knows
            log.warning("metrics: redis unavailable", error=repr(error))
        seen = await overview(stats)  # a half whose store is down is None: the last stands
        self.snapshot.queue = seen.queue or self.snapshot.queue
        self.snapshot.backlog = seen.backlog or self.snapshot.backlog
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
