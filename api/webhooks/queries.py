"""Query fields of the consent webhooks: the endpoints, and their deliveries by state with
attempts and last error (the dead letters among them), for the staff who watch them."""

from __future__ import annotations

import strawberry
from strawberry.types import Info

from api.context import Context
from api.nodes import row_id_of
from api.pagination import Connection, connection, empty, fetch_page
from api.permissions import OPERATIONS, staff_only
from api.webhooks.types import ConsentWebhook, WebhookDelivery, WebhookDeliveryState
from models.webhooks import endpoints, outbox


@strawberry.type
class WebhookQueries:
    @strawberry.field(description="ADMIN, OPERATOR, PRIVACY_OFFICER: the consent webhooks.")
    @staff_only(*OPERATIONS)
    async def consent_webhooks(self, info: Info[Context, None]) -> list[ConsentWebhook]:
        return [ConsentWebhook.of(row) for row in await endpoints.listed()]

    @strawberry.field(
        description="ADMIN, OPERATOR, PRIVACY_OFFICER: a consent webhook's deliveries, "
        "newest first, optionally in one state (DEAD: the dead letters)."
    )
    @staff_only(*OPERATIONS)
    async def consent_webhook_deliveries(
        self,
        info: Info[Context, None],
        webhook_id: strawberry.ID,
        state: WebhookDeliveryState | None = None,
        first: int = 20,
        after: str | None = None,
    ) -> Connection[WebhookDelivery]:
        row_id = row_id_of(webhook_id, "ConsentWebhook")
        if row_id is None:
            return empty()
        query = outbox.WebhookDelivery.filter(webhook_id=row_id)
        if state is not None:
            query = query.filter(state=state)
        rows, more = await fetch_page(query, first, after)
        return connection(rows, more, WebhookDelivery.of)
