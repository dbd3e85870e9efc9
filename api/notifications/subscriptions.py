"""Subscription fields of the notifications domain: live streams (``api.live_streams``)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator

import strawberry
from graphql import GraphQLError
from strawberry.types import Info

from api.context import Context
from api.live_streams import live_stream
from api.nodes import row_id_of
from api.notifications.types import CampaignProgress, progress_of
from api.permissions import OPERATIONS
from models.notifications import campaigns

PROGRESS_INTERVAL = 0.5


@strawberry.type
class NotificationSubscriptions:
    @strawberry.subscription(
        description="OPERATOR, PRIVACY_OFFICER: a campaign's progress, pushed while it runs; "
        "the last message has status DONE (or CANCELLED)."
    )
    @live_stream(roles=OPERATIONS)
    async def campaign_progress(
        self, info: Info[Context, None], id: strawberry.ID
    ) -> AsyncGenerator[CampaignProgress, None]:
        campaign_id = row_id_of(id, "Campaign")
        if campaign_id is None or not await campaigns.Campaign.exists(id=campaign_id):
            raise GraphQLError("no such campaign", extensions={"code": "NOT_FOUND"})
        last = None
        while True:
            row = await campaigns.Campaign.get(id=campaign_id)
            current = await progress_of(row)
            if current != last:
                yield current
                last = current
            if row.status not in campaigns.UNFINISHED:  # DONE or CANCELLED
                return
            await asyncio.sleep(PROGRESS_INTERVAL)
