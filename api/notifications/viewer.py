"""The inbox field of ``Account``: only the account itself reads it."""

from __future__ import annotations

import strawberry
from strawberry.types import Info

from api.notifications.types import Notification
from api.pagination import Connection, connection, fetch_page
from models.notifications import campaigns
from models.notifications import inbox as notifications


@strawberry.type
class AccountNotificationFields:
    """Mixed into ``Account``; resolvers read ``self.id``."""

    @strawberry.field(description="Your in-app notifications, newest first.")
    async def notifications(
        self, info: Info, first: int = 20, after: str | None = None, unread_only: bool = False
    ) -> Connection[Notification]:
        account_id = int(self.id)  # type: ignore[attr-defined]
        viewer = await info.context.viewer()
        if viewer is None or viewer.id != account_id:
            return connection([], False, lambda row: row)
        query = notifications.Notification.filter(
            account_id=account_id, channel=notifications.Channel.IN_APP
        )
        if unread_only:
            query = query.filter(read_at__isnull=True)
        rows, more = await fetch_page(query, first, after)
        ids = {r.campaign_id for r in rows if r.campaign_id is not None}
        found = {c.id: c for c in await campaigns.Campaign.filter(id__in=list(ids))}
        return connection(rows, more, lambda r: Notification.of(r, found.get(r.campaign_id)))
