"""Mutation fields of the consent domain: decisions, policy acceptance, offline sync, and
the privacy office's policies and purposes. Thin calls into ``models``."""

from __future__ import annotations

import json
from collections.abc import Sequence

import strawberry
import structlog
from strawberry.types import Info

from api.consent.inputs import (
    AcceptPolicyInput,
    CreatePurposeInput,
    PublishPolicyInput,
    SetConsentsInput,
    SyncConsentsInput,
    UpdatePurposeInput,
    read_events,
)
from api.consent.types import (
    AcceptPolicyPayload,
    ConsentError,
    ConsentEvent,
    CreatePurposePayload,
    PolicyVersion,
    PublishPolicyPayload,
    Purpose,
    SetConsentsPayload,
    SyncConsentsPayload,
    SyncResult,
    SyncStatus,
    UpdatePurposePayload,
)
from api.context import Context
from api.payloads import error_code, payload
from api.permissions import PRIVACY_OFFICE
from models.consent import decisions, ledger, policies, purposes
from models.consent.errors import ConsentErrorCode
from models.errors import DomainError
from models.notifications.campaign_jobs import enqueue_fan_out
from models.personal import devices
from models.webhooks import outbox as webhook_outbox

log = structlog.get_logger("accord.consent")


async def _subject(
    info: Info[Context, None], device_id: str | None
) -> tuple[str, str | None, int | None]:
    """(subject, device id, account id): the signed-in account, else the named device;
    either way a named device must be one the caller may act for."""
    account = await info.context.viewer()
    if account is None and device_id is None:
        raise DomainError(
            ConsentErrorCode.NOT_AUTHENTICATED, "deviceId", "sign in or give a deviceId"
        )
    device_id = await devices.acting_device(device_id, account)
    if account is not None:
        return ledger.account_subject(account.id), device_id, account.id
    assert device_id is not None  # given, since no account is signed in
    subject = ledger.device_subject(device_id)
    await info.context.honour_privacy_signal(subject, device_id)
    return subject, device_id, None


async def announce_consents(
    ctx: Context,
    account_id: int | None,
    events: Sequence[ledger.ConsentEvent],
    device_id: str | None,
) -> None:
    """Tell the account's other live clients (consentChanged); best effort only."""
    if account_id is None or not events:
        return
    message = json.dumps({"ids": [e.id for e in events], "deviceId": device_id})
    try:
        await ctx.broadcast.publish(f"consent:{account_id}", message)
    except Exception:
        # The events are stored: a failed notice must not turn the write into an error
        # that the client would retry (and so record twice).
        log.warning("consent announcement failed", account_id=account_id, exc_info=True)


async def _deliver_webhooks(info: Info[Context, None]) -> None:
    """Queue the consent webhooks' delivery job for the changes just stored; best effort:
    the delivery rows committed with them are the promise, which the sweeper keeps."""
    try:
        await webhook_outbox.deliver_soon(info.context.queue)
    except Exception:
        log.warning("consent webhooks not enqueued; the sweeper will", exc_info=True)


def _where(info: Info[Context, None]) -> dict[str, str]:
    return {"user_agent": info.context.user_agent, "client_address": info.context.client_address}


@strawberry.type
class ConsentMutations:
    @strawberry.mutation(description="Record decisions for purposes under a policy version.")
    @payload(ConsentError)
    async def set_consents(
        self, info: Info[Context, None], input: SetConsentsInput
    ) -> SetConsentsPayload:
        subject, device_id, account_id = await _subject(info, input.device_id)
        stored = await decisions.set_consents(
            subject,
            info.context.settings,
            policy_version=input.policy_version,
            decisions=[(d.purpose, d.granted) for d in input.decisions],
            source=input.source,
            device_id=device_id,
            **_where(info),
        )
        await announce_consents(info.context, account_id, stored, device_id)
        if stored:
            await _deliver_webhooks(info)
        return SetConsentsPayload(consents=[ConsentEvent.of(e) for e in stored])

    @strawberry.mutation(description="Accept a policy version (ends requiresReconsent for it).")
    @payload(ConsentError)
    async def accept_policy(
        self, info: Info[Context, None], input: AcceptPolicyInput
    ) -> AcceptPolicyPayload:
        subject, device_id, account_id = await _subject(info, input.device_id)
        event = await decisions.accept_policy(
            subject,
            policy_version=input.policy_version,
            source=input.source,
            device_id=device_id,
            **_where(info),
        )
        await announce_consents(info.context, account_id, [event], device_id)
        return AcceptPolicyPayload()

    @strawberry.mutation(
        description="Offline batch sync: each event is judged on its own, a retried batch "
        "stores nothing twice, and the answer carries what other devices recorded since `since`."
    )
    @payload(ConsentError)
    async def sync_consents(
        self, info: Info[Context, None], input: SyncConsentsInput
    ) -> SyncConsentsPayload:
        subject, device_id, account_id = await _subject(info, input.device_id)
        assert device_id is not None  # the input requires it; _subject cleaned it
        result = await decisions.sync(
            subject,
            info.context.settings,
            device_id=device_id,
            requests=read_events(input.events),
            since=input.since,
            **_where(info),
        )
        accepted = {r.key for r in result.results if r.status == SyncStatus.ACCEPTED}
        if accepted:
            await _deliver_webhooks(info)
        if accepted and account_id is not None:
            stored = await ledger.ConsentEvent.filter(
                subject=subject, idempotency_key__in=list(accepted)
            )
            await announce_consents(info.context, account_id, stored, device_id)
        return SyncConsentsPayload(
            results=[
                SyncResult(
                    index=r.index,
                    idempotency_key=r.sent,
                    status=r.status,
                    code=error_code(ConsentErrorCode, r.code) if r.code else None,
                    batch=result,
                )
                for r in result.results
            ],
            events=[ConsentEvent.of(e) for e in result.events],
            cursor=result.cursor,
            has_more=result.has_more,
            server_time=result.server_time,
        )

    @strawberry.mutation(description="PRIVACY_OFFICER: publish a new, immutable policy version.")
    @payload(ConsentError, roles=PRIVACY_OFFICE)
    async def publish_policy(
        self, info: Info[Context, None], input: PublishPolicyInput
    ) -> PublishPolicyPayload:
        row = await policies.publish_policy(
            version=input.version,
            summary=input.summary,
            effective_at=input.effective_at,
            material=input.material,
            change_categories=list(input.change_categories),
            purpose_codes=list(input.purposes),
            text=input.text,
            url=input.url,
            text_sha256=input.text_sha256,
            published_by=await info.context.viewer(),
            shards=info.context.settings.fanout_shards,
            notice_days=info.context.settings.material_change_notice_days,
        )
        if row.campaign_id is not None:
            try:
                await enqueue_fan_out(info.context.queue, row.campaign_id)
            except Exception:
                # The campaign row is the promise; the sweeper resumes it.
                log.warning(
                    "policy fan-out not enqueued", campaign_id=row.campaign_id, exc_info=True
                )
        return PublishPolicyPayload(policy=PolicyVersion.of(row))

    @strawberry.mutation(description="PRIVACY_OFFICER: add a purpose.")
    @payload(ConsentError, roles=PRIVACY_OFFICE)
    async def create_purpose(
        self, info: Info[Context, None], input: CreatePurposeInput
    ) -> CreatePurposePayload:
        row = await purposes.create_purpose(
            code=input.code,
            title=input.title,
            description=input.description,
            required=input.required,
            legal_basis=input.legal_basis,
            category=input.category,
            gpc_opt_out=input.gpc_opt_out,
        )
        return CreatePurposePayload(purpose=Purpose.of(row))

    @strawberry.mutation(description="PRIVACY_OFFICER: reword or reclassify a purpose.")
    @payload(ConsentError, roles=PRIVACY_OFFICE)
    async def update_purpose(
        self, info: Info[Context, None], input: UpdatePurposeInput
    ) -> UpdatePurposePayload:
        given = {
            "title": input.title,
            "description": input.description,
            "legal_basis": input.legal_basis,
            "category": input.category,
            "gpc_opt_out": input.gpc_opt_out,
        }
        changes = {k: v for k, v in given.items() if v is not strawberry.UNSET and v is not None}
        row = await purposes.update_purpose(input.code, changes)
        return UpdatePurposePayload(purpose=Purpose.of(row))
