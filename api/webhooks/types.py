"""GraphQL types of the consent webhooks: an endpoint, a delivery, the typed error and the
mutations' payloads. Staff only (``api.webhooks.queries``); a secret is shown once, in the
payload that made it."""

from __future__ import annotations

from datetime import datetime

import strawberry
from strawberry.types import Info

from api.context import Context
from api.nodes import AccordNode, global_id, row_keys
from api.payloads import error_code
from api.permissions import OPERATIONS
from models.errors import DomainError
from models.webhooks import endpoints, outbox
from models.webhooks import errors as webhook_errors

#: The rules' own enums, so GraphQL lists exactly what they use.
strawberry.enum(webhook_errors.WebhookErrorCode)
strawberry.enum(outbox.DeliveryState, name="WebhookDeliveryState")
WebhookErrorCode = webhook_errors.WebhookErrorCode
WebhookDeliveryState = outbox.DeliveryState


@strawberry.type(description="A mistake the caller can fix; switch on `code`, not `message`.")
class WebhookError:
    code: WebhookErrorCode
    field: str | None
    message: str

    @classmethod
    def of(cls, error: DomainError) -> WebhookError:
        return cls(
            code=error_code(WebhookErrorCode, error.code), field=error.field, message=error.message
        )


async def _staff_may_read(info: Info[Context, None]) -> bool:
    viewer = await info.context.viewer()
    return viewer is not None and viewer.holds_role(*OPERATIONS)


@strawberry.type(description="A downstream processor's endpoint for consent changes.")
class ConsentWebhook(AccordNode):
    url: str
    purposes: list[str]
    include_personal_data: bool
    enabled: bool
    last_sequence: int = strawberry.field(
        description="The sequence number of the last event promised to it."
    )
    created_at: datetime

    @classmethod
    def of(cls, row: endpoints.ConsentWebhook) -> ConsentWebhook:
        return cls(
            id=global_id("ConsentWebhook", row.id),
            url=row.url,
            purposes=list(row.purposes),
            include_personal_data=row.include_personal_data,
            enabled=row.enabled,
            last_sequence=row.last_sequence,
            created_at=row.created_at,
        )

    @classmethod
    async def visible(cls, info: Info[Context, None], keys: list[str]) -> dict[str, ConsentWebhook]:
        """As ``consentWebhooks``: operators and the privacy office (and ADMIN)."""
        ids = row_keys(keys)
        if not ids or not await _staff_may_read(info):
            return {}
        rows = await endpoints.ConsentWebhook.filter(id__in=list(ids))
        return {ids[r.id]: cls.of(r) for r in rows}


@strawberry.type(description="One consent event owed, or delivered, to one endpoint.")
class WebhookDelivery(AccordNode):
    webhook_id: strawberry.ID
    sequence: int
    message_id: str = strawberry.field(description="The `webhook-id` header it is sent with.")
    event_type: str
    purpose: str
    state: WebhookDeliveryState
    attempts: int
    last_error: str
    next_attempt_at: datetime
    created_at: datetime
    delivered_at: datetime | None

    @classmethod
    def of(cls, row: outbox.WebhookDelivery) -> WebhookDelivery:
        return cls(
            id=global_id("WebhookDelivery", row.id),
            webhook_id=global_id("ConsentWebhook", row.webhook_id),
            sequence=row.sequence,
            message_id=row.message_id,
            event_type=row.event_type,
            purpose=row.purpose_code,
            state=row.state,
            attempts=row.attempts,
            last_error=row.last_error,
            next_attempt_at=row.next_attempt_at,
            created_at=row.created_at,
            delivered_at=row.delivered_at,
        )

    @classmethod
    async def visible(
        cls, info: Info[Context, None], keys: list[str]
    ) -> dict[str, WebhookDelivery]:
        """As ``consentWebhookDeliveries``: operators and the privacy office (and ADMIN)."""
        ids = row_keys(keys)
        if not ids or not await _staff_may_read(info):
            return {}
        rows = await outbox.WebhookDelivery.filter(id__in=list(ids))
        return {ids[r.id]: cls.of(r) for r in rows}


@strawberry.type
class CreateConsentWebhookPayload:
    webhook: ConsentWebhook | None = None
    secret: str | None = strawberry.field(
        default=None,
        description="`whsec_<base64>`: verifies `webhook-signature` (Standard Webhooks). "
        "Shown only here and by `rotateConsentWebhookSecret`.",
    )
    errors: list[WebhookError] = strawberry.field(default_factory=list)


@strawberry.type
class DisableConsentWebhookPayload:
    webhook: ConsentWebhook | None = None
    errors: list[WebhookError] = strawberry.field(default_factory=list)


@strawberry.type
class EnableConsentWebhookPayload:
    webhook: ConsentWebhook | None = None
    errors: list[WebhookError] = strawberry.field(default_factory=list)


@strawberry.type
class RotateConsentWebhookSecretPayload:
    webhook: ConsentWebhook | None = None
    secret: str | None = strawberry.field(
        default=None, description="The new secret; the old one signs nothing from now on."
    )
    errors: list[WebhookError] = strawberry.field(default_factory=list)


@strawberry.type
class DeleteConsentWebhookPayload:
    deleted_id: strawberry.ID | None = None
    errors: list[WebhookError] = strawberry.field(default_factory=list)


@strawberry.type
class ReplayConsentWebhookPayload:
    webhook: ConsentWebhook | None = None
    replayed: int = strawberry.field(default=0, description="Deliveries queued again.")
    errors: list[WebhookError] = strawberry.field(default_factory=list)
