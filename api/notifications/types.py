"""GraphQL types of the notifications domain: the inbox, announcements, campaigns and
their progress, incidents, the job queue, the typed error, and the mutations' payloads."""

from __future__ import annotations

from datetime import UTC, datetime

import strawberry
from strawberry.types import Info
from tortoise.expressions import Q

from accord.settings import Settings
from api.consent.types import PolicyVersion
from api.context import Context
from api.nodes import AccordNode, global_id, row_keys
from api.payloads import error_code
from api.permissions import OPERATIONS, OWNER, PRIVACY_OFFICE
from api.rights.types import DataRequestUrgency
from models import clock
from models.errors import DomainError
from models.notifications import affected, authority_reports, campaign_actions, campaigns
from models.notifications import errors as notification_errors
from models.notifications import inbox as notifications
from models.notifications.messages import render
from models.operations.overview import QueueFacts
from models.rights import shutdowns

# ``strawberry.enum`` registers the models' enum itself; the names below are plain aliases,
# so a type checker sees the classes.
strawberry.enum(notifications.Channel, name="NotificationChannel")
strawberry.enum(notifications.NotificationKind, name="NotificationKind")
strawberry.enum(campaigns.CampaignStatus)
strawberry.enum(affected.AffectedScope, description="Whom a security incident affected.")
strawberry.enum(shutdowns.ShutdownStatus)
#: The rules' own enum, so GraphQL lists exactly the codes they raise.
strawberry.enum(notification_errors.NotificationErrorCode)
NotificationChannel = notifications.Channel
NotificationKind = notifications.NotificationKind
CampaignStatus = campaigns.CampaignStatus
AffectedScope = affected.AffectedScope
ShutdownStatus = shutdowns.ShutdownStatus
NotificationErrorCode = notification_errors.NotificationErrorCode


@strawberry.type(description="A mistake the caller can fix; switch on `code`, not `message`.")
class NotificationError:
    code: NotificationErrorCode
    field: str | None
    message: str

    @classmethod
    def of(cls, error: DomainError) -> NotificationError:
        return cls(
            code=error_code(NotificationErrorCode, error.code),
            field=error.field,
            message=error.message,
        )


@strawberry.type(description="A message in your in-app inbox.")
class Notification(AccordNode):
    kind: NotificationKind
    title: str
    body: str
    created_at: datetime
    read_at: datetime | None

    @classmethod
    def of(
        cls, row: notifications.Notification, campaign: campaigns.Campaign | None
    ) -> Notification:
        title, body = row.title, row.body
        if campaign is not None:  # campaign messages are rendered once, from the campaign
            message = render(campaign.kind, campaign.content)
            title, body = message.subject, message.body
        return cls(
            id=global_id("Notification", row.id),
            kind=row.kind,
            title=title,
            body=body,
            created_at=row.created_at,
            read_at=row.read_at,
        )

    @classmethod
    async def visible(cls, info: Info[Context, None], keys: list[str]) -> dict[str, Notification]:
        """As ``Account.notifications``: its account only, in-app messages only."""
        ids = row_keys(keys)
        viewer = await info.context.viewer()
        if viewer is None or not ids:
            return {}
        rows = await notifications.Notification.filter(
            id__in=list(ids), channel=notifications.Channel.IN_APP
        )
        mine = [r for r in rows if OWNER.allows_account(viewer, r.account_id)]
        sent = {r.campaign_id for r in mine if r.campaign_id is not None}
        found = {c.id: c for c in await campaigns.Campaign.filter(id__in=list(sent))}
        return {ids[r.id]: cls.of(r, found.get(r.campaign_id)) for r in mine}


@strawberry.type(description="A public notice; no sign-in needed.")
class Announcement(AccordNode):
    kind: NotificationKind
    title: str
    body: str
    published_at: datetime
    expires_at: datetime | None = strawberry.field(
        description="When it comes down (null: until taken down)."
    )
    policy_version_name: strawberry.Private[str | None]

    @strawberry.field(
        description="The policy version it announces (its summary, categories of change and "
        "effective date), if it announces one."
    )
    async def policy_version(self, info: Info[Context, None]) -> PolicyVersion | None:
        if self.policy_version_name is None:
            return None
        row = await info.context.consent_loaders.policy.load(self.policy_version_name)
        return PolicyVersion.of(row) if row is not None else None

    @classmethod
    def of(cls, row: campaigns.Announcement) -> Announcement:
        return cls(
            id=global_id("Announcement", row.id),
            kind=row.kind,
            title=row.title,
            body=row.body,
            published_at=row.published_at,
            expires_at=row.expires_at,
            policy_version_name=row.policy_version,
        )

    @classmethod
    async def visible(cls, info: Info[Context, None], keys: list[str]) -> dict[str, Announcement]:
        """As ``announcements``: anyone, live ones only."""
        ids = row_keys(keys)
        rows = (
            await campaigns.Announcement.filter(
                Q(expires_at__isnull=True) | Q(expires_at__gt=clock.now()), id__in=list(ids)
            )
            if ids
            else []
        )
        return {ids[r.id]: cls.of(r) for r in rows}


@strawberry.type(description="How far a campaign has got.")
class CampaignProgress(AccordNode):
    status: CampaignStatus
    total: int = strawberry.field(description="Accounts in the audience when it was created.")
    created: int = strawberry.field(description="Notification rows written (all channels).")
    delivered: int
    failed: int
    pending: int
    progress: float = strawberry.field(
        description="0 to 1: share of written rows settled (sent, failed or cancelled); 1 "
        "once DONE or CANCELLED."
    )

    @classmethod
    async def visible(
        cls, info: Info[Context, None], keys: list[str]
    ) -> dict[str, CampaignProgress]:
        """As ``campaignProgress``: operators and the privacy office (keyed by campaign)."""
        return {key: await progress_of(row) for key, row in (await _campaigns(info, keys)).items()}


async def _campaigns(info: Info[Context, None], keys: list[str]) -> dict[str, campaigns.Campaign]:
    ids = row_keys(keys)
    viewer = await info.context.viewer()
    if viewer is None or not viewer.holds_role(*OPERATIONS) or not ids:
        return {}
    return {ids[r.id]: r for r in await campaigns.Campaign.filter(id__in=list(ids))}


@strawberry.type(description="A campaign's messages on one channel, by where they stand.")
class ChannelProgress:
    channel: NotificationChannel
    total: int = strawberry.field(description="Messages written for this channel.")
    sent: int
    failed: int
    pending: int = strawberry.field(
        description="Still owed: waiting, backing off before a retry, or being sent."
    )
    cancelled: int = strawberry.field(description="Never to be sent: the campaign was cancelled.")

    @classmethod
    def of(cls, row: campaign_actions.ChannelProgress) -> ChannelProgress:
        return cls(
            channel=row.channel,
            total=row.total,
            sent=row.sent,
            failed=row.failed,
            pending=row.pending,
            cancelled=row.cancelled,
        )


@strawberry.type(description="A message given up on, and why.")
class DeliveryFailure:
    channel: NotificationChannel
    reason: str = strawberry.field(description="The channel's answer, as delivery recorded it.")
    attempts: int


@strawberry.type
class Campaign(AccordNode):
    kind: NotificationKind
    channels: list[NotificationChannel]
    created_at: datetime
    finished_at: datetime | None
    status: CampaignStatus
    total: int
    created: int
    delivered: int
    failed: int
    progress: float
    progressed_at: datetime | None = strawberry.field(
        description="When a fan-out or delivery batch last moved it on; null before the first."
    )
    cancelled_at: datetime | None
    cancel_reason: str = strawberry.field(
        description="Why an operator cancelled it (who did is in the staff audit log)."
    )
    row: strawberry.Private[campaigns.Campaign]

    @classmethod
    async def of(cls, row: campaigns.Campaign) -> Campaign:
        p = await progress_of(row)
        return cls(
            id=global_id("Campaign", row.id),
            kind=row.kind,
            channels=[notifications.Channel(c) for c in row.channels],
            created_at=row.created_at,
            finished_at=row.finished_at,
            status=row.status,
            total=row.total,
            created=p.created,
            delivered=p.delivered,
            failed=p.failed,
            progress=p.progress,
            progressed_at=row.progressed_at,
            cancelled_at=row.cancelled_at,
            cancel_reason=row.cancel_reason,
            row=row,
        )

    @strawberry.field(
        description="Per channel (each it names, and IN_APP where it stood in for one): "
        "messages written, sent, failed, still owed and cancelled."
    )
    async def channel_progress(self, info: Info[Context, None]) -> list[ChannelProgress]:
        report = await campaign_actions.campaign_progress(self.row, info.context.settings)
        return [ChannelProgress.of(c) for c in report.channels]

    @strawberry.field(
        description="Unfinished and not moved on for ACCORD_CAMPAIGN_STALL_MINUTES (other "
        "than waiting for retries): resumeCampaign queues its jobs again."
    )
    async def stalled(self, info: Info[Context, None]) -> bool:
        return await campaign_actions.is_stalled(self.row, info.context.settings)

    @strawberry.field(description="Messages given up on, newest first (at most 100), and why.")
    async def failures(self, first: int = 20) -> list[DeliveryFailure]:
        rows = await campaign_actions.campaign_failures(self.row.id, first)
        return [
            DeliveryFailure(channel=r.channel, reason=r.reason, attempts=r.attempts) for r in rows
        ]

    @classmethod
    async def visible(cls, info: Info[Context, None], keys: list[str]) -> dict[str, Campaign]:
        """As ``campaign``: operators and the privacy office."""
        return {key: await cls.of(row) for key, row in (await _campaigns(info, keys)).items()}


async def progress_of(row: campaigns.Campaign) -> CampaignProgress:
    counts = await campaigns.progress(row.id)
    settled = counts["delivered"] + counts["failed"] + counts["cancelled"]
    fraction = (
        1.0
        if row.status not in campaigns.UNFINISHED
        else (settled / counts["created"] if counts["created"] else 0.0)
    )
    return CampaignProgress(
        id=global_id("CampaignProgress", row.id),
        status=row.status,
        total=row.total,
        created=counts["created"],
        delivered=counts["delivered"],
        failed=counts["failed"],
        pending=counts["pending"],
        progress=round(fraction, 4),
    )


@strawberry.type
class SecurityIncident(AccordNode):
    title: str
    impact: str
    measures_taken: str
    advice_to_users: str
    remedies: str
    reported_at: datetime = strawberry.field(description="When it was recorded here.")
    affected: AffectedScope
    affected_provider: str | None = strawberry.field(
        description="The provider whose bound accounts it affected (BOUND_TO_PROVIDER)."
    )
    detected_at: datetime | None = strawberry.field(
        description="When it was detected; null only for incidents recorded before the "
        "authority clock existed."
    )
    authority_report_due_at: datetime | None = strawberry.field(
        description="detectedAt + ACCORD_AUTHORITY_REPORT_HOURS (GDPR Art 33: 72 hours)."
    )
    authority_reported_at: datetime | None
    authority_reference: str | None
    authority_report: str = strawberry.field(description="What was reported (recorded).")
    authority_report_urgency: DataRequestUrgency | None = strawberry.field(
        description="Where the report stands against its due date now; null once reported."
    )

    @classmethod
    def of(cls, row: campaigns.SecurityIncident, settings: Settings) -> SecurityIncident:
        return cls(
            id=global_id("SecurityIncident", row.id),
            title=row.title,
            impact=row.impact,
            measures_taken=row.measures_taken,
            advice_to_users=row.advice_to_users,
            remedies=row.remedies,
            reported_at=row.reported_at,
            affected=row.affected,
            affected_provider=row.affected_provider,
            detected_at=row.detected_at,
            authority_report_due_at=row.authority_report_due_at,
            authority_reported_at=row.authority_reported_at,
            authority_reference=row.authority_reference,
            authority_report=row.authority_report,
            authority_report_urgency=authority_reports.urgency_of(row, settings),
        )

    @classmethod
    async def visible(
        cls, info: Info[Context, None], keys: list[str]
    ) -> dict[str, SecurityIncident]:
        """As ``reportSecurityIncident``'s answer: the privacy office."""
        ids = row_keys(keys)
        viewer = await info.context.viewer()
        if viewer is None or not viewer.holds_role(*PRIVACY_OFFICE) or not ids:
            return {}
        rows = await campaigns.SecurityIncident.filter(id__in=list(ids))
        return {ids[r.id]: cls.of(r, info.context.settings) for r in rows}


@strawberry.type(description="One kind of the map of personal data a shutdown erases.")
class ShutdownKindProgress:
    kind: str
    erased: int = strawberry.field(description="Rows the shutdown has deleted.")
    remaining: int = strawberry.field(description="Rows of the kind still held now.")


@strawberry.type(description="A shutdown of part of the service and its erasure's progress.")
class ServiceShutdown(AccordNode):
    purpose_code: str = strawberry.field(description="The scope: the purpose that stops.")
    shutdown_at: datetime
    status: ShutdownStatus
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    kinds: list[ShutdownKindProgress]
    campaign_id: strawberry.Private[int | None]

    @strawberry.field(description="The notice's campaign.")
    async def campaign(self, info: Info[Context, None]) -> Campaign | None:
        row = (
            await campaigns.Campaign.get_or_none(id=self.campaign_id)
            if self.campaign_id is not None
            else None
        )
        return await Campaign.of(row) if row is not None else None

    @classmethod
    async def of(cls, row: shutdowns.ServiceShutdown) -> ServiceShutdown:
        left = await shutdowns.remaining(row)
        return cls(
            id=global_id("ServiceShutdown", row.id),
            purpose_code=row.purpose_code,
            shutdown_at=row.shutdown_at,
            status=row.status,
            created_at=row.created_at,
            started_at=row.started_at,
            finished_at=row.finished_at,
            kinds=[
                ShutdownKindProgress(kind=k, erased=row.erased.get(k, 0), remaining=left[k])
                for k in row.kinds
            ],
            campaign_id=row.campaign_id,
        )

    @classmethod
    async def visible(
        cls, info: Info[Context, None], keys: list[str]
    ) -> dict[str, ServiceShutdown]:
        """As ``serviceShutdowns``: operators and the privacy office."""
        ids = row_keys(keys)
        viewer = await info.context.viewer()
        if viewer is None or not viewer.holds_role(*OPERATIONS) or not ids:
            return {}
        rows = await shutdowns.ServiceShutdown.filter(id__in=list(ids))
        return {ids[r.id]: await cls.of(r) for r in rows}


@strawberry.type
class FunctionQueue:
    name: str
    queued: int


@strawberry.type(description="A worker's last heartbeat (every few seconds while it runs).")
class WorkerHeartbeat:
    id: str = strawberry.field(description="`hostname:pid` of the worker process.")
    last_seen_at: datetime
    running: int = strawberry.field(description="Jobs it was running at that heartbeat.")


@strawberry.type(description="The job queue as arq keeps it in Redis, and the workers.")
class QueueStatus:
    queued: int = strawberry.field(description="Jobs waiting: queued, not taken by a worker.")
    in_progress: int = strawberry.field(description="Jobs a worker is running now.")
    failed_last_hour: int
    by_function: list[FunctionQueue]
    oldest_queued_seconds: float = strawberry.field(
        description="How long the oldest job that is due has waited; 0 when none waits."
    )
    workers: list[WorkerHeartbeat] = strawberry.field(
        description="Workers whose heartbeat is recent (none: no worker is running)."
    )
    last_sweep_at: datetime | None = strawberry.field(
        description="When the sweeper last finished a run; null if Redis does not remember."
    )

    @classmethod
    def of(cls, facts: QueueFacts) -> QueueStatus:
        return cls(
            queued=facts.queued,
            in_progress=facts.in_progress,
            failed_last_hour=facts.failed_last_hour,
            by_function=[
                FunctionQueue(name=name, queued=count)
                for name, count in sorted(facts.by_function.items())
            ],
            oldest_queued_seconds=round(facts.oldest_queued_seconds, 3),
            workers=[
                WorkerHeartbeat(
                    id=beat.id,
                    last_seen_at=datetime.fromtimestamp(beat.last_seen, UTC),
                    running=beat.running,
                )
                for beat in facts.workers
            ],
            last_sweep_at=facts.last_sweep_at,
        )


# --- payloads ----------------------------------------------------------------------------


@strawberry.type
class MarkNotificationsReadPayload:
    marked: int = strawberry.field(
        default=0, description="How many were marked read now; 0 with `errors`."
    )
    errors: list[NotificationError] = strawberry.field(default_factory=list)


@strawberry.type
class ReportSecurityIncidentPayload:
    incident: SecurityIncident | None = None
    campaign: Campaign | None = None
    errors: list[NotificationError] = strawberry.field(default_factory=list)


@strawberry.type
class AnnounceServiceShutdownPayload:
    campaign: Campaign | None = None
    shutdown: ServiceShutdown | None = strawberry.field(
        default=None, description="The scheduled erasure, when a scope was given."
    )
    errors: list[NotificationError] = strawberry.field(default_factory=list)


@strawberry.type
class RecordAuthorityReportPayload:
    incident: SecurityIncident | None = None
    errors: list[NotificationError] = strawberry.field(default_factory=list)


@strawberry.type
class ResumeCampaignPayload:
    campaign: Campaign | None = None
    jobs_queued: int = strawberry.field(
        default=0,
        description="Jobs newly queued; 0 when an earlier resume already queued them.",
    )
    errors: list[NotificationError] = strawberry.field(default_factory=list)


@strawberry.type
class CancelCampaignPayload:
    campaign: Campaign | None = None
    errors: list[NotificationError] = strawberry.field(default_factory=list)
