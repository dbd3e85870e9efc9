"""Query fields of the notifications domain: public announcements, the operators' view of
campaigns, shutdowns and the job queue, the privacy office's incidents; and the inbox field
of ``Account``, which only the account itself reads."""

from __future__ import annotations

import strawberry
from strawberry.types import Info
from tortoise.expressions import Q

from api.context import Context
from api.nodes import row_id_of
from api.notifications.types import (
    Announcement,
    Campaign,
    Notification,
    QueueStatus,
    SecurityIncident,
    ServiceShutdown,
)
from api.pagination import Connection, connection, empty, fetch_page
from api.permissions import OPERATIONS, OWNER, PRIVACY_OFFICE, staff_only, visible_to
from models import clock
from models.notifications import campaigns
from models.notifications import inbox as notifications
from models.operations.overview import queue_facts
from models.rights import shutdowns


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
    @staff_only(*OPERATIONS)
    async def campaign(self, info: Info[Context, None], id: strawberry.ID) -> Campaign | None:
        campaign_id = row_id_of(id, "Campaign")
        row = await campaigns.Campaign.get_or_none(id=campaign_id) if campaign_id else None
        return await Campaign.of(row) if row else None

    @strawberry.field(description="OPERATOR, PRIVACY_OFFICER: campaigns, newest first.")
    @staff_only(*OPERATIONS)
    async def campaigns(
        self, info: Info[Context, None], first: int = 20, after: str | None = None
    ) -> Connection[Campaign]:
        rows, more = await fetch_page(campaigns.Campaign.all(), first, after)
        nodes = {r.id: await Campaign.of(r) for r in rows}
        return connection(rows, more, lambda r: nodes[r.id])

    @strawberry.field(
        description="PRIVACY_OFFICER: security incidents, newest first, with the clock of "
        "their report to the supervisory authority."
    )
    @staff_only(*PRIVACY_OFFICE)
    async def security_incidents(
        self, info: Info[Context, None], first: int = 20, after: str | None = None
    ) -> Connection[SecurityIncident]:
        rows, more = await fetch_page(campaigns.SecurityIncident.all(), first, after)
        settings = info.context.settings
        return connection(rows, more, lambda r: SecurityIncident.of(r, settings))

    @strawberry.field(
        description="OPERATOR, PRIVACY_OFFICER: service shutdowns, newest first, with the "
        "rows each has erased and the rows still held, by kind of personal data."
    )
    @staff_only(*OPERATIONS)
    async def service_shutdowns(self, info: Info[Context, None]) -> list[ServiceShutdown]:
        rows = await shutdowns.ServiceShutdown.all().order_by("-id").limit(50)
        return [await ServiceShutdown.of(r) for r in rows]

    @strawberry.field(description="OPERATOR, PRIVACY_OFFICER: the job queue, read from Redis.")
    @staff_only(*OPERATIONS)
    async def queue_status(self, info: Info[Context, None]) -> QueueStatus:
        return QueueStatus.of(await queue_facts(info.context.stats))


@strawberry.type
class AccountNotificationFields:
    """Mixed into ``Account``; resolvers read ``self.pk`` (the row id)."""

    @strawberry.field(description="Your in-app notifications, newest first.")
    @visible_to(OWNER, otherwise=empty)
    async def notifications(
        self,
        info: Info[Context, None],
        first: int = 20,
        after: str | None = None,
        unread_only: bool = False,
    ) -> Connection[Notification]:
        account_id = self.pk  # type: ignore[attr-defined]
        query = notifications.Notification.filter(
            account_id=account_id, channel=notifications.Channel.IN_APP
        )
        if unread_only:
            query = query.filter(read_at__isnull=True)
        rows, more = await fetch_page(query, first, after)
        ids = {r.campaign_id for r in rows if r.campaign_id is not None}
        found = {c.id: c for c in await campaigns.Campaign.filter(id__in=list(ids))}
        return connection(rows, more, lambda r: Notification.of(r, found.get(r.campaign_id)))
