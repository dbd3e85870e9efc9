"""Query, Mutation and Subscription fields of the notifications domain."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator
from datetime import datetime

import strawberry
import structlog
from graphql import GraphQLError
from strawberry.types import Info
from tortoise.expressions import Q

from api.errors import ClientError
from api.live_streams import live_stream
from api.notifications.types import (
    Announcement,
    Campaign,
    CampaignProgress,
    FunctionQueue,
    NotificationChannel,
    NotificationError,
    QueueStatus,
    SecurityIncident,
    progress_of,
)
from api.pagination import Connection, connection, fetch_page, parse_id
from api.payloads import payload
from models import clock
from models.accounts.account import Role
from models.errors import DomainError
from models.notifications import campaigns
from models.notifications import inbox as notifications
from models.notifications.campaign_jobs import enqueue_fan_out
from models.notifications.errors import NotificationErrorCode

log = structlog.get_logger("accord.notifications")
OPERATORS = (Role.OPERATOR, Role.PRIVACY_OFFICER)
INCIDENT_ROLES = (Role.PRIVACY_OFFICER,)
PROGRESS_INTERVAL = 0.5


async def _operator(info: Info) -> None:
    try:
        await info.context.require_role(*OPERATORS)
    except DomainError as error:
        raise ClientError(str(error.code), error.message) from None


@strawberry.input(description="Give `ids`, or `all: true` for the whole inbox.")
class MarkNotificationsReadInput:
    ids: list[strawberry.ID] | None = None
    all: bool = False


@strawberry.input(
    description="Name the affected accounts, or set `allAccounts`; the message carries the "
    "impact, the measures taken, advice to users and the remedies."
)
class ReportSecurityIncidentInput:
    title: str
    impact: str
    measures_taken: str
    advice_to_users: str
    remedies: str
    affected_account_ids: list[strawberry.ID] | None = None
    all_accounts: bool = False
    channels: list[NotificationChannel] = strawberry.field(
        default_factory=lambda: [NotificationChannel.IN_APP, NotificationChannel.EMAIL]
    )


@strawberry.input
class AnnounceServiceShutdownInput:
    title: str
    message: str
    shutdown_at: datetime
    channels: list[NotificationChannel] = strawberry.field(
        default_factory=lambda: [NotificationChannel.IN_APP, NotificationChannel.EMAIL]
    )


@strawberry.type
class MarkNotificationsReadPayload:
    marked: int | None = None
    errors: list[NotificationError] = strawberry.field(default_factory=list)


@strawberry.type
class ReportSecurityIncidentPayload:
    incident: SecurityIncident | None = None
    campaign: Campaign | None = None
    errors: list[NotificationError] = strawberry.field(default_factory=list)


@strawberry.type
class AnnounceServiceShutdownPayload:
    campaign: Campaign | None = None
    errors: list[NotificationError] = strawberry.field(default_factory=list)


async def _start(info: Info, campaign: campaigns.Campaign) -> None:
    """The API only enqueues; if Redis is away, the sweeper starts it within a minute."""
    try:
        await enqueue_fan_out(info.context.queue, campaign.id)
    except Exception as error:  # the campaign row is the promise; the sweeper resumes it
        log.warning(
            "campaign not enqueued; the sweeper will", campaign_id=campaign.id, error=repr(error)
        )


@strawberry.type
class NotificationQueries:
    @strawberry.field(description="Live public announcements, newest first; no sign-in.")
    async def announcements(self) -> list[Announcement]:
        rows = (
            await campaigns.Announcement.filter(
                Q(expires_at__isnull=True) | Q(expires_at__gt=clock.now())
            )
            .order_by("-id")
            .limit(50)
        )
        return [Announcement.of(r) for r in rows]

    @strawberry.field(description="OPERATOR, PRIVACY_OFFICER: one campaign and its progress.")
    async def campaign(self, info: Info, id: strawberry.ID) -> Campaign | None:
        await _operator(info)
        campaign_id = parse_id(id)
        row = await campaigns.Campaign.get_or_none(id=campaign_id) if campaign_id else None
        return await Campaign.of(row) if row else None

    @strawberry.field(description="OPERATOR, PRIVACY_OFFICER: campaigns, newest first.")
    async def campaigns(
        self, info: Info, first: int = 20, after: str | None = None
    ) -> Connection[Campaign]:
        await _operator(info)
        rows, more = await fetch_page(campaigns.Campaign.all(), first, after)
        nodes = {r.id: await Campaign.of(r) for r in rows}
        return connection(rows, more, lambda r: nodes[r.id])

    @strawberry.field(description="OPERATOR, PRIVACY_OFFICER: the job queue, read from Redis.")
    async def queue_status(self, info: Info) -> QueueStatus:
        await _operator(info)
        status = await info.context.stats.status()
        return QueueStatus(
            queued=status["queued"],
            in_progress=status["in_progress"],
            failed_last_hour=status["failed_last_hour"],
            by_function=[
                FunctionQueue(name=name, queued=count)
                for name, count in sorted(status["by_function"].items())
            ],
        )


@strawberry.type
class NotificationMutations:
    @strawberry.mutation
    @payload(NotificationError, signed_in=True)
    async def mark_notifications_read(
        self, info: Info, input: MarkNotificationsReadInput
    ) -> MarkNotificationsReadPayload:
        account = await info.context.require_viewer()
        query = notifications.Notification.filter(
            account_id=account.id, channel=notifications.Channel.IN_APP, read_at__isnull=True
        )
        if not input.all:
            if not input.ids:
                raise DomainError(NotificationErrorCode.REQUIRED, "ids", "give ids or all: true")
            ids = [i for i in map(parse_id, input.ids) if i is not None]
            query = query.filter(id__in=ids)
        marked = await query.update(read_at=clock.now())
        return MarkNotificationsReadPayload(marked=marked)

    @strawberry.mutation(
        description="PRIVACY_OFFICER: record a security incident and notify every affected "
        "user; an incident for all accounts (or more than a threshold) is also announced."
    )
    @payload(NotificationError, roles=INCIDENT_ROLES)
    async def report_security_incident(
        self, info: Info, input: ReportSecurityIncidentInput
    ) -> ReportSecurityIncidentPayload:
        if input.all_accounts == (input.affected_account_ids is not None):
            raise DomainError(
                NotificationErrorCode.REQUIRED,
                "affectedAccountIds",
                "give affectedAccountIds or allAccounts: true, not both",
            )
        account_ids = None
        if input.affected_account_ids is not None:
            # Not ASCII digits, or too large for an id column: no account has it.
            account_ids = [parse_id(i) for i in input.affected_account_ids]
            if None in account_ids:
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
    @payload(NotificationError, roles=INCIDENT_ROLES)
    async def announce_service_shutdown(
        self, info: Info, input: AnnounceServiceShutdownInput
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


@strawberry.type
class NotificationSubscriptions:
    @strawberry.subscription(
        description="OPERATOR, PRIVACY_OFFICER: a campaign's progress, pushed while it runs; "
        "the last message has status DONE."
    )
    @live_stream(roles=OPERATORS)
    async def campaign_progress(
        self, info: Info, id: strawberry.ID
    ) -> AsyncGenerator[CampaignProgress, None]:
        campaign_id = parse_id(id)
        if campaign_id is None or not await campaigns.Campaign.exists(id=campaign_id):
            raise GraphQLError("no such campaign", extensions={"code": "NOT_FOUND"})
        last = None
        while True:
            row = await campaigns.Campaign.get(id=campaign_id)
            current = await progress_of(row)
            if current != last:
                yield current
                last = current
            if row.status == campaigns.CampaignStatus.DONE:
                return
            await asyncio.sleep(PROGRESS_INTERVAL)
