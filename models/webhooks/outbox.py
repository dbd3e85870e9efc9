"""The consent webhooks' outbox: one ``WebhookDelivery`` row per (endpoint, consent event).

The database is the ledger, Redis only the transport: the ledger's append writes these rows
in the same transaction as the events (``promise_deliveries``), so a stored decision is a
promise to every endpoint registered for its purpose, kept by the worker
(``models.webhooks.sending``) however often Redis or a worker is lost.

Each row carries the endpoint's next sequence number (``ConsentWebhook.last_sequence``,
advanced under the endpoint row's lock, so numbers follow commit order) and the body's
fields frozen as the event was recorded. The subject is named by a pseudonym
(``subject_key``): a keyed hash of the ledger's subject under the deployment's blind-index
key, with the endpoint's id in the purpose, so it is stable for one endpoint and two
processors cannot join their data on it. The ledger's subject itself (``account:<id>``) is
kept only for an endpoint registered with ``includePersonalData``.

States: PENDING (not tried yet), RETRYING (failed, ``next_attempt_at`` says when again),
DELIVERED (the endpoint answered 2xx), DEAD (``ACCORD_WEBHOOK_MAX_ATTEMPTS`` failures). A
claim (``claimed_at``, ``claim_token``) marks a row being sent. A row is not sent while an
earlier one of the same endpoint and subject is not DELIVERED, DEAD included: a processor
sees one subject's changes in the order they were recorded, and a DEAD one holds the rest
of its subject until staff replay it.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from datetime import datetime
from enum import StrEnum
from typing import Any, Protocol, cast

import orjson
from tortoise import fields
from tortoise.expressions import F
from tortoise.indexes import Index
from tortoise.models import Model
from tortoise.transactions import in_transaction

from models import clock, jobs
from models.accounts.account import Account
from models.errors import DomainError
from models.keys.blind_indexes import blind_index
from models.keys.sealed_fields import SealedManager
from models.queue import Queue
from models.webhooks import endpoints
from models.webhooks.endpoints import ConsentWebhook
from models.webhooks.errors import WebhookErrorCode

#: The ledger's subject length (``models.consent.ledger.SUBJECT_MAX``).
SUBJECT_MAX = 80
ERROR_MAX = 300
#: What a body's ``type`` says for each decision the ledger records.
EVENT_TYPES = {"GRANTED": "consent.granted", "WITHDRAWN": "consent.withdrawn"}


class DeliveryState(StrEnum):
    PENDING = "PENDING"
    RETRYING = "RETRYING"
    DELIVERED = "DELIVERED"
    DEAD = "DEAD"


#: Owed and not given up on: the worker sends these when due.
OWED = (DeliveryState.PENDING, DeliveryState.RETRYING)


class WebhookDelivery(Model):
    """One consent event owed (or delivered) to one endpoint."""

    id = fields.BigIntField(primary_key=True)
    webhook: fields.ForeignKeyRelation[ConsentWebhook] = fields.ForeignKeyField(
        "models.ConsentWebhook", related_name="deliveries", on_delete=fields.CASCADE
    )
    webhook_id: int  # set by the ORM
    #: The endpoint's own count: 1, 2, 3... in the order the events were recorded.
    sequence = fields.BigIntField()
    #: ``webhook-id``: the same for every attempt and replay, so a receiver can dedupe.
    message_id = fields.CharField(max_length=40, unique=True)
    #: The subject's pseudonym for this endpoint (see the module).
    subject_key = fields.CharField(max_length=32)
    #: The ledger's subject, only for an endpoint that asked for personal data.
    subject = fields.CharField(max_length=SUBJECT_MAX, null=True)
    event_type = fields.CharField(max_length=32)
    purpose_code = fields.CharField(max_length=64)
    #: The body's ``data`` without the personal fields, as JSON (``body``).
    payload = fields.TextField()
    state = fields.CharEnumField(DeliveryState, max_length=16, default=DeliveryState.PENDING)
    attempts = fields.IntField(default=0)
    next_attempt_at = fields.DatetimeField()
    last_error = fields.CharField(max_length=ERROR_MAX, default="")
    created_at = fields.DatetimeField()
    delivered_at = fields.DatetimeField(null=True)
    claimed_at = fields.DatetimeField(null=True)
    claim_token = fields.CharField(max_length=16, null=True)

    class Meta:
        table = "webhook_delivery"
        # Its endpoint's secret is sealed: a delivery read with its endpoint opens it.
        manager = SealedManager()
        unique_together = (("webhook", "sequence"),)
        indexes = (
            # The order rule: is an earlier row of this subject still owed?
            Index(fields=("webhook_id", "subject_key", "state", "sequence")),
            # What is due.
            Index(fields=("webhook_id", "state", "next_attempt_at")),
        )


class RecordedEvent(Protocol):
    """What the ledger hands over of each stored event (``models.consent.ledger``)."""

    subject: str
    seq: int
    kind: Any
    purpose_code: str | None
    policy_version: str | None
    source: Any
    client_timestamp: datetime
    server_timestamp: datetime
    idempotency_key: str


def _instant(moment: datetime) -> str:
    return moment.isoformat(timespec="microseconds").replace("+00:00", "Z")


def _subject_purpose(webhook_id: int) -> str:
    return f"consent webhook {webhook_id} subject"


async def pseudonym(webhook_id: int, subject: str) -> str:
    """The stable pseudonymous id an endpoint knows a subject by (see the module)."""
    return await blind_index(_subject_purpose(webhook_id), subject)


def _data(event: RecordedEvent, sequence: int, subject_key: str) -> dict[str, Any]:
    return {
        "sequence": sequence,
        "subjectId": f"sub_{subject_key}",
        "purpose": event.purpose_code,
        "granted": str(event.kind) == "GRANTED",
        "policyVersion": event.policy_version,
        "source": str(event.source),
        "decidedAt": _instant(event.client_timestamp),
        "recordedAt": _instant(event.server_timestamp),
        "subjectSequence": event.seq,
        # Not personal: a random key the client made for the decision.
        "eventId": event.idempotency_key,
    }


async def _take_sequences(webhook_id: int, count: int) -> int:
    """Advance the endpoint's count by ``count`` and return the first number taken. The
    update locks the endpoint row until the transaction ends (the SQLite database, there),
    so numbers follow commits and the count read back is ours."""
    await ConsentWebhook.filter(id=webhook_id).update(last_sequence=F("last_sequence") + count)
    last = await ConsentWebhook.filter(id=webhook_id).values_list("last_sequence", flat=True)
    return int(cast("list[int]", last)[0]) - count + 1


async def promise_deliveries(events: Sequence[RecordedEvent]) -> int:
    """Inside the ledger's append transaction: a delivery to each enabled endpoint for each
    stored decision about one of its purposes. Returns how many were promised."""
    decisions = [e for e in events if str(e.kind) in EVENT_TYPES and e.purpose_code]
    if not decisions:
        return 0
    hooks = (
        await ConsentWebhook.filter(enabled=True)
        .order_by("id")
        .values("id", "purposes", "include_personal_data")
    )
    moment = clock.now()
    rows: list[WebhookDelivery] = []
    for hook in hooks:
        wanted = set(hook["purposes"])
        mine = [e for e in decisions if e.purpose_code in wanted]
        if not mine:
            continue
        sequence = await _take_sequences(hook["id"], len(mine))
        keys: dict[str, str] = {}
        for event in mine:
            if event.subject not in keys:
                keys[event.subject] = await pseudonym(hook["id"], event.subject)
            key = keys[event.subject]
            rows.append(
                WebhookDelivery(
                    webhook_id=hook["id"],
                    sequence=sequence,
                    message_id=f"msg_{secrets.token_hex(16)}",
                    subject_key=key,
                    subject=event.subject if hook["include_personal_data"] else None,
                    event_type=EVENT_TYPES[str(event.kind)],
                    purpose_code=event.purpose_code,
                    payload=orjson.dumps(_data(event, sequence, key)).decode(),
                    next_attempt_at=moment,
                    created_at=moment,
                )
            )
            sequence += 1
    if rows:
        await WebhookDelivery.bulk_create(rows)
    return len(rows)


def body(delivery: WebhookDelivery) -> str:
    """The JSON a receiver gets (Standard Webhooks' ``{type, timestamp, data}``): the
    frozen fields, and the ledger's subject when the row kept it."""
    data = orjson.loads(delivery.payload)
    if delivery.subject is not None:
        data["subject"] = delivery.subject
    return orjson.dumps(
        {"type": delivery.event_type, "timestamp": data["recordedAt"], "data": data}
    ).decode()


async def subject_renamed(subject: str, renamed: str) -> None:
    """A chain moved to another name (a deleted account's pseudonym): deliveries that name
    the old one name the new one from now on."""
    await WebhookDelivery.filter(subject=subject).update(subject=renamed)


async def owed() -> bool:
    """Whether any delivery waits to be sent (for enqueuing the worker's job)."""
    return await WebhookDelivery.filter(
        state__in=OWED, next_attempt_at__lte=clock.now(), webhook__enabled=True
    ).exists()


async def deliver_soon(queue: Queue) -> bool:
    """Queue the delivery job when anything is owed; False when nothing was queued."""
    return await owed() and await jobs.deliver_consent_webhooks(queue)


async def replay(staff: Account, webhook_id: int | None, from_sequence: int) -> int:
    """Send every event of the endpoint from ``from_sequence`` on again, whatever became of
    it (delivered, dead, owed), under its own ``webhook-id``; returns how many."""
    webhook = await endpoints.find(webhook_id)
    if from_sequence < 1:
        raise DomainError(WebhookErrorCode.INVALID, "fromSequence", "sequences start at 1")
    async with in_transaction("default"):
        count = await WebhookDelivery.filter(
            webhook_id=webhook.id, sequence__gte=from_sequence
        ).update(
            state=DeliveryState.PENDING,
            attempts=0,
            next_attempt_at=clock.now(),
            last_error="",
            delivered_at=None,
            claimed_at=None,
            claim_token=None,
        )
        await endpoints.audit_replay(staff, webhook)
    return count
