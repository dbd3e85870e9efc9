"""Subscription fields of the consent domain: live streams (``api.live_streams``)."""

from __future__ import annotations

import json
from collections.abc import AsyncGenerator

import strawberry
from strawberry.types import Info

from api.consent.types import ConsentEvent
from api.context import Context
from api.live_streams import live_stream
from models.consent import ledger


@strawberry.type
class ConsentSubscriptions:
    @strawberry.subscription(
        description="Consent events your other devices record, as they are recorded. Sign in "
        "with `authorization: Bearer <token>` in the connection_init payload."
    )
    @live_stream()
    async def consent_changed(
        self, info: Info[Context, None], device_id: str | None = None
    ) -> AsyncGenerator[ConsentEvent, None]:
        account = await info.context.require_viewer()
        async for message in info.context.broadcast.listen(f"consent:{account.id}"):
            notice = json.loads(message)
            if device_id is not None and notice.get("deviceId") == device_id:
                continue
            for row in await ledger.ConsentEvent.filter(id__in=notice["ids"]).order_by("id"):
                yield ConsentEvent.of(row)
