"""The work owed, as the database (the ledger) states it: deletions waiting, late or
failing, campaigns not finished and how long since each last moved, notifications that
failed. Read from due dates and rows, never from Redis, so a stopped sweeper or a lost
Redis cannot hide late work."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import cast

from tortoise.expressions import RawSQL
from tortoise.functions import Count

from models import clock
from models.notifications.campaigns import Campaign, CampaignStatus
from models.notifications.inbox import Channel, DeliveryStatus, Notification
from models.rights.requests import DeletionRequest, DeletionStatus

#: A deletion not finished: waiting for its grace period, running, or failed and retrying.
OPEN_DELETIONS = (DeletionStatus.PENDING, DeletionStatus.RUNNING, DeletionStatus.FAILED)
#: A campaign still fanning out or delivering (DONE and any other end state are finished).
UNFINISHED_CAMPAIGNS = (CampaignStatus.FANNING_OUT, CampaignStatus.DELIVERING)


@dataclass(frozen=True)
class DeletionFigures:
    #: Waiting for their due date, or running (PENDING, RUNNING).
    pending: int
    #: Not finished although past their due date (PENDING, RUNNING or FAILED).
    overdue: int
    #: Whose last run failed (FAILED: retried after a backoff, ``models.retry``).
    failed: int
    #: Seconds since the due date of the longest-overdue one (0: none overdue).
    oldest_overdue_seconds: float


@dataclass(frozen=True)
class CampaignFigures:
    #: Campaigns not finished (fanning out or delivering).
    pending: int
    #: Seconds since each unfinished campaign last made progress, by campaign id.
    seconds_since_progress: dict[int, float] = field(default_factory=dict)
    #: Notifications whose delivery gave up (FAILED), by channel (every channel listed).
    failed_notifications: dict[str, int] = field(default_factory=dict)


async def deletion_figures() -> DeletionFigures:
    moment = clock.now()
    pending = await DeletionRequest.filter(
        status__in=[DeletionStatus.PENDING, DeletionStatus.RUNNING]
    ).count()
    failed = await DeletionRequest.filter(status=DeletionStatus.FAILED).count()
    late = DeletionRequest.filter(status__in=list(OPEN_DELETIONS), due_at__lte=moment)
    overdue = await late.count()
    # Tortoise types a flat values_list as tuples.
    oldest = cast(
        "list[datetime]", await late.order_by("due_at").limit(1).values_list("due_at", flat=True)
    )
    return DeletionFigures(
        pending=pending,
        overdue=overdue,
        failed=failed,
        oldest_overdue_seconds=max(0.0, (moment - oldest[0]).total_seconds()) if oldest else 0.0,
    )


async def last_progress(campaign_ids: list[int]) -> dict[int, datetime]:
    """When each campaign last moved: its newest notification row written (fan-out) or
    sent (delivery), or its creation when it has none yet.

    The one place that says it, to become the campaign's own progress time once it has one.
    """
    found: dict[int, datetime] = {}
    for campaign_id, created_at in await Campaign.filter(id__in=campaign_ids).values_list(
        "id", "created_at"
    ):
        rows = Notification.filter(campaign_id=campaign_id)
        written = await rows.order_by("-id").limit(1).values_list("created_at", flat=True)
        sent = (
            await rows.filter(sent_at__isnull=False)
            .order_by("-sent_at")
            .limit(1)
            .values_list("sent_at", flat=True)
        )
        found[campaign_id] = max([created_at, *written, *sent])
    return found


async def campaign_figures() -> CampaignFigures:
    moment = clock.now()
    unfinished = cast(
        "list[int]",
        await Campaign.filter(status__in=list(UNFINISHED_CAMPAIGNS)).values_list("id", flat=True),
    )
    progressed = await last_progress(unfinished)
    rows = (
        await Notification.filter(status=DeliveryStatus.FAILED)
        .annotate(n=Count(RawSQL("*")))  # type: ignore[arg-type]
        .group_by("channel")
        .values("channel", "n")
    )
    return CampaignFigures(
        pending=len(unfinished),
        seconds_since_progress={
            campaign_id: max(0.0, (moment - at).total_seconds())
            for campaign_id, at in sorted(progressed.items())
        },
        failed_notifications={
            **dict.fromkeys((channel.value for channel in Channel), 0),
            **{str(row["channel"]): int(row["n"]) for row in rows},
        },
    )
