"""``/metrics`` gauges of security incidents whose report to the supervisory authority is
at risk or overdue (``models.notifications.authority_reports.open_figures``), read from
their due dates at each scrape, so an alert fires even if the sweeper has stopped. A
collector of its own, registered beside the others by ``api.metrics.Metrics``.
"""

from __future__ import annotations

from collections.abc import Iterator

import structlog
from prometheus_client.core import GaugeMetricFamily

from accord.settings import Settings
from models.notifications.authority_reports import open_figures

log = structlog.get_logger("accord.metrics")

AUTHORITY_REPORT_GAUGES = {
    "at_risk": "Security incidents not yet reported to the supervisory authority and due "
    "within ACCORD_AUTHORITY_REPORT_AT_RISK_HOURS.",
    "overdue": "Security incidents not reported to the supervisory authority past their "
    "due date (ACCORD_AUTHORITY_REPORT_HOURS after detection).",
}


class AuthorityReportGauges:
    def __init__(self) -> None:
        #: ``open_figures``: {"at_risk" | "overdue": count}.
        self.figures: dict[str, int] = {}

    async def refresh(self, settings: Settings) -> None:
        try:
            self.figures = await open_figures(settings)
        except Exception as error:  # the database down: the last figures stand
            log.warning("metrics: database unavailable", error=repr(error))

    def collect(self) -> Iterator[GaugeMetricFamily]:
        for name, words in AUTHORITY_REPORT_GAUGES.items():
            yield GaugeMetricFamily(
                f"accord_incident_reports_{name}", words, self.figures.get(name, 0)
            )
