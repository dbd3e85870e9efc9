"""Mutation fields of the consent webhooks: ADMIN or PRIVACY_OFFICER register, disable,
enable and delete endpoints, rotate a secret and replay deliveries; each is a staff audit
entry (``models.webhooks.endpoints``). The API only writes rows and enqueues the job."""

from __future__ import annotations

import strawberry
import structlog
from strawberry.types import Info

from api.context import Context
from api.nodes import row_id_of
from api.payloads import payload
from api.permissions import PRIVACY_OFFICE
from api.webhooks.inputs import (
    CreateConsentWebhookInput,
    DeleteConsentWebhookInput,
    DisableConsentWebhookInput,
    EnableConsentWebhookInput,
    ReplayConsentWebhookInput,
    RotateConsentWebhookSecretInput,
)
from api.webhooks.types import (
    ConsentWebhook,
    CreateConsentWebhookPayload,
    DeleteConsentWebhookPayload,
    DisableConsentWebhookPayload,
    EnableConsentWebhookPayload,
    ReplayConsentWebhookPayload,
    RotateConsentWebhookSecretPayload,
    WebhookError,
)
from models.webhooks import endpoints, outbox

log = structlog.get_logger("accord.webhooks")


async def deliver_soon(info: Info[Context, None]) -> None:
    """Queue the delivery job; if Redis is away, the sweeper does within a sweep."""
    try:
        await outbox.deliver_soon(info.context.queue)
    except Exception as error:  # the delivery rows are the promise
        log.warning("consent webhooks not enqueued; the sweeper will", error=repr(error))


def _id(raw: strawberry.ID) -> int | None:
    return row_id_of(raw, "ConsentWebhook")


@strawberry.type
class WebhookMutations:
    @strawberry.mutation(
        description="ADMIN, PRIVACY_OFFICER: register a processor's https endpoint; every "
        "consent change for its purposes is POSTed to it, signed (Standard Webhooks)."
    )
    @payload(WebhookError, roles=PRIVACY_OFFICE)
    async def create_consent_webhook(
        self, info: Info[Context, None], input: CreateConsentWebhookInput
    ) -> CreateConsentWebhookPayload:
        webhook, secret = await endpoints.register(
            await info.context.require_viewer(),
            info.context.settings,
            url=input.url,
            purposes=input.purposes,
            include_personal_data=input.include_personal_data,
        )
        return CreateConsentWebhookPayload(webhook=ConsentWebhook.of(webhook), secret=secret)

    @strawberry.mutation(
        description="ADMIN, PRIVACY_OFFICER: stop a consent webhook: no new event is "
        "promised to it and nothing is sent until it is enabled again."
    )
    @payload(WebhookError, roles=PRIVACY_OFFICE)
    async def disable_consent_webhook(
        self, info: Info[Context, None], input: DisableConsentWebhookInput
    ) -> DisableConsentWebhookPayload:
        staff = await info.context.require_viewer()
        webhook = await endpoints.set_enabled(staff, _id(input.id), enabled=False)
        return DisableConsentWebhookPayload(webhook=ConsentWebhook.of(webhook))

    @strawberry.mutation(
        description="ADMIN, PRIVACY_OFFICER: start a disabled consent webhook again; what "
        "it was owed before it was disabled is sent."
    )
    @payload(WebhookError, roles=PRIVACY_OFFICE)
    async def enable_consent_webhook(
        self, info: Info[Context, None], input: EnableConsentWebhookInput
    ) -> EnableConsentWebhookPayload:
        staff = await info.context.require_viewer()
        webhook = await endpoints.set_enabled(staff, _id(input.id), enabled=True)
        await deliver_soon(info)
        return EnableConsentWebhookPayload(webhook=ConsentWebhook.of(webhook))

    @strawberry.mutation(
        description="ADMIN, PRIVACY_OFFICER: delete a consent webhook and its deliveries."
    )
    @payload(WebhookError, roles=PRIVACY_OFFICE)
    async def delete_consent_webhook(
        self, info: Info[Context, None], input: DeleteConsentWebhookInput
    ) -> DeleteConsentWebhookPayload:
        staff = await info.context.require_viewer()
        await endpoints.delete(staff, _id(input.id))
        return DeleteConsentWebhookPayload(deleted_id=input.id)

    @strawberry.mutation(
        description="ADMIN, PRIVACY_OFFICER: a new secret for a consent webhook, shown once."
    )
    @payload(WebhookError, roles=PRIVACY_OFFICE)
    async def rotate_consent_webhook_secret(
        self, info: Info[Context, None], input: RotateConsentWebhookSecretInput
    ) -> RotateConsentWebhookSecretPayload:
        staff = await info.context.require_viewer()
        webhook, secret = await endpoints.rotate_secret(staff, _id(input.id))
        return RotateConsentWebhookSecretPayload(webhook=ConsentWebhook.of(webhook), secret=secret)

    @strawberry.mutation(
        description="ADMIN, PRIVACY_OFFICER: send a consent webhook's events again from a "
        "sequence number on (dead ones included), each under its own `webhook-id`."
    )
    @payload(WebhookError, roles=PRIVACY_OFFICE)
    async def replay_consent_webhook(
        self, info: Info[Context, None], input: ReplayConsentWebhookInput
    ) -> ReplayConsentWebhookPayload:
        staff = await info.context.require_viewer()
        replayed = await outbox.replay(staff, _id(input.id), input.from_sequence)
        await deliver_soon(info)
        webhook = await endpoints.find(_id(input.id))
        return ReplayConsentWebhookPayload(webhook=ConsentWebhook.of(webhook), replayed=replayed)
