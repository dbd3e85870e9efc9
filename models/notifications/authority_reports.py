"""Reporting a security incident to the supervisory authority (policy 3.3(2); GDPR Art 33:
without undue delay and within 72 hours of becoming aware of it).

Each incident's clock runs from ``detected_at`` to ``authority_report_due_at``
(ACCORD_AUTHORITY_REPORT_HOURS later) until an officer records the report
(``record_authority_report``), which stops it. It is the data requests' clock
(``models.rights.deadlines``), reused: the same urgencies and thresholds
(``urgency_within``, ``mark_clock``) and the same once-only notice to every privacy
officer, written with the conditional update that claims it (``tell_once``), so however
often (and however concurrently) the sweeper runs, the officers are told once per incident
and transition.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import structlog
from tortoise.transactions import in_transaction

from accord.settings import Settings
from models import clock
from models.accounts.account import Account
from models.errors import DomainError
from models.notifications.campaigns import TEXT_MAX, SecurityIncident
from models.notifications.errors import NotificationErrorCode
from models.notifications.inbox import NotificationKind
from models.notifications.messages import render
from models.rights import audit
from models.rights.deadlines import mark_clock, officers, tell_once, urgency_within
from models.rights.requests import Urgency
from models.text import clean_text

log = structlog.get_logger("accord.notifications")

REFERENCE_MAX = 200
NOTICE_KINDS = {
    Urgency.AT_RISK: NotificationKind.AUTHORITY_REPORT_AT_RISK,
    Urgency.OVERDUE: NotificationKind.AUTHORITY_REPORT_OVERDUE,
}


def at_risk_window(settings: Settings) -> timedelta:
    return timedelta(hours=settings.authority_report_at_risk_hours)


def urgency_of(incident: SecurityIncident, settings: Settings) -> Urgency | None:
    """Where its report stands now, from its due date (None: reported, or no clock)."""
    due = incident.authority_report_due_at
    if due is None or incident.authority_reported_at is not None:
        return None
    return urgency_within(due, clock.now(), at_risk_window(settings))


def _when(moment: datetime) -> str:
    return f"{moment:%Y-%m-%d %H:%M} UTC"


# --- the sweeper ----------------------------------------------------------------------------


async def keep_the_clock(settings: Settings) -> dict[str, int]:
    """The sweeper's step: urgencies, then the officers' notices."""
    moved = await mark_clock(
        SecurityIncident.filter(
            authority_report_due_at__isnull=False, authority_reported_at__isnull=True
        ),
        clock.now(),
        at_risk_window(settings),
        due="authority_report_due_at",
    )
    return {
        "authority_reports_at_risk": moved[Urgency.AT_RISK],
        "authority_reports_overdue": moved[Urgency.OVERDUE],
        "authority_report_notices": await _notify_officers(settings),
    }


async def _notify_officers(settings: Settings) -> int:
    owed: list[SecurityIncident] = []
    for urgency in NOTICE_KINDS:
        owed += (
            await SecurityIncident.filter(
                authority_report_due_at__isnull=False,
                authority_reported_at__isnull=True,
                urgency=urgency,
            )
            .exclude(urgency_notified=urgency)
            .order_by("authority_report_due_at", "id")
            .limit(settings.sweep_batch_size)
        )
    if not owed:
        return 0
    recipients = await officers()
    if not recipients:
        log.warning("incidents' authority reports at risk or overdue, and no officer to tell")
    told = 0
    for incident in owed:
        urgency = Urgency(incident.urgency)
        assert incident.authority_report_due_at is not None and incident.detected_at is not None
        hours_left = max(0, int((incident.authority_report_due_at - clock.now()).total_seconds()))
        hours_left //= 3600
        message = render(
            NOTICE_KINDS[urgency],
            {
                "incident_id": incident.id,
                "title": incident.title,
                "detected_at": _when(incident.detected_at),
                "due_at": _when(incident.authority_report_due_at),
                "hours_left": "less than an hour" if hours_left < 1 else f"{hours_left} hours",
            },
        )
        claim = SecurityIncident.filter(
            id=incident.id,
            authority_reported_at__isnull=True,
            urgency=urgency,
            urgency_notified=incident.urgency_notified,
        )
        if await tell_once(claim, urgency, NOTICE_KINDS[urgency], message, recipients):
            told += 1
    return told


# --- the report -----------------------------------------------------------------------------


async def record_authority_report(
    officer: Account, incident_id: int, reported_at: datetime, reference: str, summary: str
) -> SecurityIncident:
    """Record that the incident was reported to the authority, when, under which reference,
    and what was said; the clock stops. Recording the same report again changes nothing
    (and audits nothing); a different one is a CONFLICT: a report is recorded once."""
    reference = clean_text(reference, "reference", REFERENCE_MAX)
    summary = clean_text(summary, "summary", TEXT_MAX, multiline=True)
    incident = await SecurityIncident.get_or_none(id=incident_id)
    if incident is None:
        raise DomainError(NotificationErrorCode.NOT_FOUND, "incidentId", "no such incident")
    if reported_at > clock.now():
        raise DomainError(NotificationErrorCode.INVALID, "reportedAt", "is in the future")
    if incident.detected_at is not None and reported_at < incident.detected_at:
        raise DomainError(
            NotificationErrorCode.INVALID,
            "reportedAt",
            f"is before the incident was detected ({_when(incident.detected_at)})",
        )
    async with in_transaction("default"):
        moved = await SecurityIncident.filter(
            id=incident.id, authority_reported_at__isnull=True
        ).update(
            authority_reported_at=reported_at,
            authority_reference=reference,
            authority_report=summary,
        )
        if moved:
            await audit.record(
                officer,
                audit.StaffAction.REPORT_TO_AUTHORITY,
                subject_id=None,
                resource="SecurityIncident",
                resource_id=str(incident.id),
                reason=f"reported to the supervisory authority under reference {reference}",
            )
    fresh = await SecurityIncident.get(id=incident.id)
    if not moved and (
        fresh.authority_reference != reference
        or fresh.authority_report != summary
        or fresh.authority_reported_at != reported_at
    ):
        assert fresh.authority_reported_at is not None
        raise DomainError(
            NotificationErrorCode.CONFLICT,
            "incidentId",
            f"already reported on {_when(fresh.authority_reported_at)} under reference "
            f"{fresh.authority_reference}",
        )
    return fresh


# --- figures --------------------------------------------------------------------------------


async def open_figures(settings: Settings) -> dict[str, int]:
    """Incidents not yet reported to the authority and due within the at-risk window
    (``at_risk``) or past due (``overdue``): from their due dates now, not from the
    sweeper's marks, so a stopped sweeper cannot hide a late report."""
    moment = clock.now()
    running = SecurityIncident.filter(
        authority_report_due_at__isnull=False, authority_reported_at__isnull=True
    )
    return {
        "at_risk": await running.filter(
            authority_report_due_at__gt=moment,
            authority_report_due_at__lte=moment + at_risk_window(settings),
        ).count(),
        "overdue": await running.filter(authority_report_due_at__lte=moment).count(),
    }
