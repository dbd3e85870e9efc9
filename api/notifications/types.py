"""GraphQL types of the notifications domain: the inbox, announcements, campaigns and
their progress, incidents, the job queue, the typed error, and the mutations' payloads."""

from __future__ import annotations

from datetime import datetime

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
from models.notifications import affected, authority_reports, campaigns
from models.notifications import errors as notification_errors
from models.notifications import inbox as notifications
from models.notifications.messages import render
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
    progress: float = strawberry.field(description="0 to 1: share of written rows settled.")

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
        )

    @classmethod
    async def visible(cls, info: Info[Context, None], keys: list[str]) -> dict[str, Campaign]:
        """As ``campaign``: operators and the privacy office."""
        return {key: await cls.of(row) for key, row in (await _campaigns(info, keys)).items()}


async def progress_of(row: campaigns.Campaign) -> CampaignProgress:
    counts = await campaigns.progress(row.id)
    settled = counts["delivered"] + counts["failed"]
    fraction = (
        1.0
        if row.status == campaigns.CampaignStatus.DONE
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


@strawberry.type(description="The job queue as arq keeps it in Redis.")
class QueueStatus:
    queued: int
    in_progress: int
    failed_last_hour: int
    by_function: list[FunctionQueue]


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
