"""Mutation fields of the notifications domain: the inbox, and the privacy office's
incidents (and their reports to the authority) and shutdowns. The API only writes the
campaign and enqueues its fan-out."""

from __future__ import annotations

import strawberry
import structlog
from strawberry.types import Info

from api.context import Context
from api.nodes import row_id_of
from api.notifications.inputs import (
    AnnounceServiceShutdownInput,
    MarkNotificationsReadInput,
    RecordAuthorityReportInput,
    ReportSecurityIncidentInput,
)
from api.notifications.types import (
    AnnounceServiceShutdownPayload,
    Campaign,
    MarkNotificationsReadPayload,
    NotificationError,
    RecordAuthorityReportPayload,
    ReportSecurityIncidentPayload,
    SecurityIncident,
    ServiceShutdown,
)
from api.payloads import payload
from api.permissions import PRIVACY_OFFICE
from models import clock
from models.errors import DomainError
from models.notifications import authority_reports, campaigns
from models.notifications import inbox as notifications
from models.notifications.affected import Affected
from models.notifications.campaign_jobs import enqueue_fan_out
from models.notifications.errors import NotificationErrorCode
from models.rights import shutdowns

log = structlog.get_logger("accord.notifications")


async def _start(info: Info[Context, None], campaign: campaigns.Campaign) -> None:
    """The API only enqueues; if Redis is away, the sweeper starts it within a minute."""
    try:
        await enqueue_fan_out(info.context.queue, campaign.id)
    except Exception as error:  # the campaign row is the promise; the sweeper resumes it
        log.warning(
            "campaign not enqueued; the sweeper will", campaign_id=campaign.id, error=repr(error)
        )


@strawberry.type
class NotificationMutations:
    @strawberry.mutation
    @payload(NotificationError, signed_in=True)
    async def mark_notifications_read(
        self, info: Info[Context, None], input: MarkNotificationsReadInput
    ) -> MarkNotificationsReadPayload:
        account = await info.context.require_viewer()
        query = notifications.Notification.filter(
            account_id=account.id, channel=notifications.Channel.IN_APP, read_at__isnull=True
        )
        if not input.all:
            if not input.ids:
                raise DomainError(NotificationErrorCode.REQUIRED, "ids", "give ids or all: true")
            ids = [
                i for i in (row_id_of(raw, "Notification") for raw in input.ids) if i is not None
            ]
            query = query.filter(id__in=ids)
        marked = await query.update(read_at=clock.now())
        return MarkNotificationsReadPayload(marked=marked)

    @strawberry.mutation(
        description="PRIVACY_OFFICER: record a security incident and notify the affected "
        "users only; an incident for all accounts (or more than a threshold) is also "
        "announced. Its report to the supervisory authority is due ACCORD_AUTHORITY_REPORT_"
        "HOURS after `detectedAt` (recordAuthorityReport)."
    )
    @payload(NotificationError, roles=PRIVACY_OFFICE)
    async def report_security_incident(
        self, info: Info[Context, None], input: ReportSecurityIncidentInput
    ) -> ReportSecurityIncidentPayload:
        settings = info.context.settings
        incident, campaign = await campaigns.report_security_incident(
            title=input.title,
            impact=input.impact,
            measures_taken=input.measures_taken,
            advice_to_users=input.advice_to_users,
            remedies=input.remedies,
            affected=_affected(input),
            detected_at=input.detected_at,
            channels=list(input.channels),
            settings=settings,
        )
        await _start(info, campaign)
        return ReportSecurityIncidentPayload(
            incident=SecurityIncident.of(incident, settings), campaign=await Campaign.of(campaign)
        )

    @strawberry.mutation(
        description="PRIVACY_OFFICER: record the incident's report to the supervisory "
        "authority (GDPR Art 33); its clock stops. The same report again changes nothing; "
        "another is CONFLICT. Audited."
    )
    @payload(NotificationError, roles=PRIVACY_OFFICE)
    async def record_authority_report(
        self, info: Info[Context, None], input: RecordAuthorityReportInput
    ) -> RecordAuthorityReportPayload:
        incident_id = row_id_of(input.incident_id, "SecurityIncident")
        if incident_id is None:
            raise DomainError(NotificationErrorCode.NOT_FOUND, "incidentId", "no such incident")
        incident = await authority_reports.record_authority_report(
            await info.context.require_viewer(),
            incident_id,
            input.reported_at,
            input.reference,
            input.summary,
        )
        return RecordAuthorityReportPayload(
            incident=SecurityIncident.of(incident, info.context.settings)
        )

    @strawberry.mutation(
        description="PRIVACY_OFFICER: tell everyone the service (or, with `scope`, the part "
        "of it that a purpose names) will stop, and where to export their data; with "
        "`scope`, what was held for it alone is deleted on `shutdownAt`."
    )
    @payload(NotificationError, roles=PRIVACY_OFFICE)
    async def announce_service_shutdown(
        self, info: Info[Context, None], input: AnnounceServiceShutdownInput
    ) -> AnnounceServiceShutdownPayload:
        shards = info.context.settings.fanout_shards
        if input.scope is None:
            campaign = await campaigns.announce_service_shutdown(
                title=input.title,
                message=input.message,
                shutdown_at=input.shutdown_at,
                channels=list(input.channels),
                shards=shards,
            )
            await _start(info, campaign)
            return AnnounceServiceShutdownPayload(campaign=await Campaign.of(campaign))
        shutdown, campaign = await shutdowns.schedule_shutdown(
            title=input.title,
            message=input.message,
            shutdown_at=input.shutdown_at,
            purpose_code=input.scope.purpose_code,
            channels=list(input.channels),
            shards=shards,
        )
        await _start(info, campaign)
        return AnnounceServiceShutdownPayload(
            campaign=await Campaign.of(campaign), shutdown=await ServiceShutdown.of(shutdown)
        )


def _affected(input: ReportSecurityIncidentInput) -> Affected:
    """The one scope given: ``affected``, or the older ``affectedAccountIds`` /
    ``allAccounts`` (whose refusals still name ``affectedAccountIds``)."""
    scope = input.affected
    field = "affected" if scope is not None else "affectedAccountIds"
    given = [scope is not None, input.affected_account_ids is not None, input.all_accounts]
    if sum(given) != 1:
        raise DomainError(
            NotificationErrorCode.REQUIRED,
            field,
            "name whom it affected once: affected (all, accountIds or boundToProvider)",
        )
    if input.all_accounts or (scope is not None and scope.all):
        return Affected.everyone()
    raw_ids = input.affected_account_ids if scope is None else scope.account_ids
    if raw_ids is not None and raw_ids is not strawberry.UNSET:
        # Not ASCII digits, or too large for an id column: no account has it.
        parsed = [row_id_of(i, "Account") for i in raw_ids]
        ids = [i for i in parsed if i is not None]
        if len(ids) < len(parsed):
            raise DomainError(NotificationErrorCode.NOT_FOUND, field, "unknown accounts")
        return Affected.accounts(ids, field)
    if scope is not None and scope.bound_to_provider:
        return Affected.bound_to(scope.bound_to_provider)
    raise DomainError(NotificationErrorCode.REQUIRED, field, "name whom it affected")
