"""Sending the consent webhooks' outbox (``models.webhooks.outbox``): claim, POST, mark.

``deliver_due`` runs a lane per endpoint with anything due. A lane claims a batch of due
rows, each the earliest one owed of its subject (so a batch holds at most one row per
subject, and a subject's rows go one after the other, in order), POSTs them concurrently
(``ACCORD_WEBHOOK_CONCURRENCY``) with httpx, and marks each: DELIVERED on a 2xx answer,
else RETRYING after an exponential backoff, or DEAD after ``ACCORD_WEBHOOK_MAX_ATTEMPTS``.

At least once, never lost: the claim is a conditional update (only rows not claimed, or
claimed longer ago than a job may run, become ours), and a row is marked only while the
claim is still ours. A worker that dies after sending and before marking leaves a claim
that expires, and the row is sent once more under the same ``webhook-id``.
"""

from __future__ import annotations

import asyncio
import secrets
from datetime import UTC, datetime, timedelta
from typing import cast

import httpx
from tortoise import connections
from tortoise.expressions import F, Q

from accord.settings import Settings
from accord.sqlite_backend import timestamp_text
from models import clock
from models.placeholders import placeholders
from models.webhooks import signing
from models.webhooks.endpoints import ConsentWebhook
from models.webhooks.outbox import ERROR_MAX, OWED, DeliveryState, WebhookDelivery, body

#: How much longer than its job's timeout a claim is trusted (as notification deliveries'
#: ``CLAIM_MARGIN``): an older claim belongs to a worker that died.
CLAIM_MARGIN = timedelta(seconds=5)
#: A job waits for a retry due this soon rather than leave it to the next sweep.
LINGER = timedelta(seconds=5)


def stuck_after(settings: Settings) -> timedelta:
    return timedelta(seconds=settings.job_timeout_seconds) + CLAIM_MARGIN


def backoff(settings: Settings, attempts: int) -> timedelta:
    """The wait after the ``attempts``-th failure: the first wait, doubled each time, at
    most the longest."""
    wait = settings.webhook_retry_first_seconds * 2 ** min(attempts - 1, 30)
    return timedelta(seconds=min(wait, settings.webhook_retry_longest_seconds))


def _param(moment: datetime, dialect: str) -> object:
    return timestamp_text(moment.astimezone(UTC)) if dialect == "sqlite" else moment


async def _heads(webhook_id: int, moment: datetime, stale: datetime, limit: int) -> list[int]:
    """Due rows of the endpoint that no earlier row of the same subject holds back."""
    db = connections.get("default")
    dialect = db.capabilities.dialect
    marks = placeholders(dialect, 4).split(", ")
    sql = f"""
        SELECT d.id FROM webhook_delivery d
        WHERE d.webhook_id = {marks[0]} AND d.state IN ('PENDING', 'RETRYING')
          AND d.next_attempt_at <= {marks[1]}
          AND (d.claimed_at IS NULL OR d.claimed_at < {marks[2]})
          AND NOT EXISTS (
            SELECT 1 FROM webhook_delivery e
            WHERE e.webhook_id = d.webhook_id AND e.subject_key = d.subject_key
              AND e.state IN ('PENDING', 'RETRYING', 'DEAD') AND e.sequence < d.sequence
          )
        ORDER BY d.sequence LIMIT {marks[3]}
    """  # noqa: S608 - only placeholders are interpolated
    params = [webhook_id, _param(moment, dialect), _param(stale, dialect), limit]
    _, rows = await db.execute_query(sql, params)
    return [int(row[0]) for row in rows]


async def claim(webhook_id: int, settings: Settings) -> list[WebhookDelivery]:
    """A batch of due rows, ours until marked (or until the claim goes stale)."""
    while True:
        moment = clock.now()
        stale = moment - stuck_after(settings)
        ids = await _heads(webhook_id, moment, stale, settings.webhook_batch_size)
        if not ids:
            return []
        token = secrets.token_hex(8)
        claimed = await WebhookDelivery.filter(
            Q(claimed_at__isnull=True) | Q(claimed_at__lt=stale), id__in=ids, state__in=OWED
        ).update(claimed_at=moment, claim_token=token)
        if claimed:
            return await WebhookDelivery.filter(claim_token=token).order_by("sequence")
        # Another lane took them first: look again for the rows still free.


async def _post(
    client: httpx.AsyncClient, hook: ConsentWebhook, row: WebhookDelivery
) -> str | None:
    """Send one row; None when the endpoint took it (2xx), else why not."""
    text = body(row)
    sent_at = clock.now().astimezone(UTC)
    try:
        response = await client.post(
            hook.url,
            content=text.encode(),
            headers=signing.headers(hook.secret, row.message_id, sent_at, text),
        )
    except httpx.HTTPError as error:
        return f"{type(error).__name__}: {error}"[:ERROR_MAX] or type(error).__name__
    if 200 <= response.status_code < 300:
        return None
    return f"HTTP {response.status_code}: {response.text[:200]}"[:ERROR_MAX]


async def _mark_failed(row: WebhookDelivery, error: str, settings: Settings) -> None:
    attempts = row.attempts + 1
    dead = attempts >= settings.webhook_max_attempts
    await WebhookDelivery.filter(id=row.id, claim_token=row.claim_token).update(
        state=DeliveryState.DEAD if dead else DeliveryState.RETRYING,
        attempts=attempts,
        next_attempt_at=clock.now() + (timedelta(0) if dead else backoff(settings, attempts)),
        last_error=error,
        claimed_at=None,
        claim_token=None,
    )


async def deliver_endpoint(
    webhook_id: int, settings: Settings, client: httpx.AsyncClient
) -> tuple[int, int]:
    """Everything due for one endpoint, batch after batch; returns (rows tried, rows
    delivered)."""
    hook = await ConsentWebhook.get_or_none(id=webhook_id, enabled=True)
    if hook is None:
        return 0, 0
    gate = asyncio.Semaphore(settings.webhook_concurrency)
    tried = delivered = 0

    async def attempt(row: WebhookDelivery) -> str | None:
        async with gate:
            return await _post(client, hook, row)

    while True:
        rows = await claim(webhook_id, settings)
        if not rows:
            return tried, delivered
        tried += len(rows)
        outcomes = await asyncio.gather(*(attempt(row) for row in rows))
        took = [row.id for row, error in zip(rows, outcomes, strict=True) if error is None]
        for row, error in zip(rows, outcomes, strict=True):
            if error is not None:
                await _mark_failed(row, error, settings)
        if took:
            delivered += await WebhookDelivery.filter(
                id__in=took, claim_token=rows[0].claim_token
            ).update(
                state=DeliveryState.DELIVERED,
                attempts=F("attempts") + 1,
                delivered_at=clock.now(),
                last_error="",
                claimed_at=None,
                claim_token=None,
            )


async def _due_endpoints() -> list[int]:
    found = await (
        WebhookDelivery.filter(
            state__in=OWED, next_attempt_at__lte=clock.now(), webhook__enabled=True
        )
        .distinct()
        .values_list("webhook_id", flat=True)
    )
    return sorted(cast("list[int]", found))


async def _next_retry() -> datetime | None:
    row = (
        await WebhookDelivery.filter(state=DeliveryState.RETRYING, webhook__enabled=True)
        .order_by("next_attempt_at")
        .first()
        .values("next_attempt_at")
    )
    return None if row is None else cast("datetime", row["next_attempt_at"])


async def deliver_due(settings: Settings, *, linger: timedelta = LINGER) -> int:
    """Every endpoint's due deliveries, a lane each; then, while the next retry is due
    within ``linger``, wait for it and go on. Returns how many were delivered."""
    delivered = 0
    timeout = httpx.Timeout(settings.webhook_timeout_seconds)
    limits = httpx.Limits(max_connections=None, max_keepalive_connections=None)
    async with httpx.AsyncClient(timeout=timeout, limits=limits, follow_redirects=False) as client:
        stalled = False
        while True:
            lanes = []
            async with asyncio.TaskGroup() as group:
                for hook_id in await _due_endpoints():
                    lanes.append(group.create_task(deliver_endpoint(hook_id, settings, client)))
            delivered += sum(lane.result()[1] for lane in lanes)
            if any(lane.result()[0] for lane in lanes):
                stalled = False
                continue  # more may have fallen due meanwhile (the next event of a subject)
            upcoming = await _next_retry()
            now = clock.now()
            if upcoming is None or upcoming - now > linger:
                return delivered
            if upcoming <= now:
                # Due, yet nothing could be claimed twice running: held back behind an
                # earlier row, or claimed by another worker. Leave it to them or the sweep.
                if stalled:
                    return delivered
                stalled = True
                continue
            await asyncio.sleep((upcoming - now).total_seconds())
