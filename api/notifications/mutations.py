"""Mutation fields of the notifications domain: the inbox, and the privacy office's
incidents and shutdown notices. The API only writes the campaign and enqueues its fan-out."""

from __future__ import annotations

import strawberry
import structlog
from strawberry.types import Info

from api.context import Context
from api.nodes import row_id_of
from api.notifications.inputs import (
    AnnounceServiceShutdownInput,
    MarkNotificationsReadInput,
    ReportSecurityIncidentInput,
)
from api.notifications.types import (
    AnnounceServiceShutdownPayload,
    Campaign,
    MarkNotificationsReadPayload,
    NotificationError,
    ReportSecurityIncidentPayload,
    SecurityIncident,
)
from api.payloads import payload
from api.permissions import PRIVACY_OFFICE
from models import clock
from models.errors import DomainError
from models.notifications import campaigns
from models.notifications import inbox as notifications
from models.notifications.campaign_jobs import enqueue_fan_out
from models.notifications.errors import NotificationErrorCode

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
        description="PRIVACY_OFFICER: record a security incident and notify every affected "
        "user; an incident for all accounts (or more than a threshold) is also announced."
    )
    @payload(NotificationError, roles=PRIVACY_OFFICE)
    async def report_security_incident(
        self, info: Info[Context, None], input: ReportSecurityIncidentInput
    ) -> ReportSecurityIncidentPayload:
        if input.all_accounts == (input.affected_account_ids is not None):
            raise DomainError(
                NotificationErrorCode.REQUIRED,
                "affectedAccountIds",
                "give affectedAccountIds or allAccounts: true, not both",
            )
        account_ids: list[int] | None = None
        if input.affected_account_ids is not None:
            # Not ASCII digits, or too large for an id column: no account has it.
            parsed = [row_id_of(i, "Account") for i in input.affected_account_ids]
            account_ids = [i for i in parsed if i is not None]
            if len(account_ids) < len(parsed):
                raise DomainError(
                    NotificationErrorCode.NOT_FOUND, "affectedAccountIds", "unknown accounts"
                )
        settings = info.context.settings
        incident, campaign = await campaigns.report_security_incident(
            title=input.title,
            impact=input.impact,
            measures_taken=input.measures_taken,
            advice_to_users=input.advice_to_users,
            remedies=input.remedies,
            account_ids=account_ids,
            channels=list(input.channels),
            shards=settings.fanout_shards,
            announcement_threshold=settings.announcement_threshold,
        )
        await _start(info, campaign)
        return ReportSecurityIncidentPayload(
            incident=SecurityIncident.of(incident), campaign=await Campaign.of(campaign)
        )

    @strawberry.mutation(description="PRIVACY_OFFICER: tell everyone the service will stop.")
    @payload(NotificationError, roles=PRIVACY_OFFICE)
    async def announce_service_shutdown(
        self, info: Info[Context, None], input: AnnounceServiceShutdownInput
    ) -> AnnounceServiceShutdownPayload:
        campaign = await campaigns.announce_service_shutdown(
            title=input.title,
            message=input.message,
            shutdown_at=input.shutdown_at,
            channels=list(input.channels),
            shards=info.context.settings.fanout_shards,
        )
        await _start(info, campaign)
        return AnnounceServiceShutdownPayload(campaign=await Campaign.of(campaign))
