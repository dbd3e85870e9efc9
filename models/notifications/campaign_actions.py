"""What operators do with a campaign: see how far it has got on each channel and why
messages failed, resume one that stalled, cancel one that must not go on.

**Stalled**: unfinished, and nothing moved it (``Campaign.progressed_at``, written once per
fan-out or delivery batch; its creation before the first) for
``ACCORD_CAMPAIGN_STALL_MINUTES``, unless all it waits for is messages backing off before
their next try. The sweeper re-queues unfinished campaigns every minute, so a stall means
the sweeper is not running or its jobs keep dying.

**Resuming** queues the campaign's jobs again as the sweeper would, after recovering the
messages a dead worker left SENDING, but under job ids that name the stall (the time of
its last progress) instead of the lease period: an id arq still holds for a dead job
cannot hold the resume up (``models.queue``), and resuming twice before anything moved
queues nothing more. A worker still on the campaign does no harm: fan-out and delivery are
safe to run at once.

**Cancelling** stops it for good, in one transaction: its shards are marked done first (a
fan-out batch in flight finishes first; a later one finds its shard done and rolls back),
then the campaign, then every message still PENDING becomes CANCELLED, so the delivery
claim, which takes PENDING rows only, finds nothing more. A batch already claimed
(SENDING) still goes out: at most one batch per delivery lane. In-app notices already
written stay in the inboxes: they were delivered when written, like an e-mail already
sent, and a message vanishing from an inbox would tell its reader nothing; if what it said
was wrong, the correction is a new campaign.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from tortoise.expressions import Q, RawSQL
from tortoise.functions import Count
from tortoise.transactions import in_transaction

from accord.settings import Settings
from models import clock
from models.accounts.account import Account
from models.accounts.staff import OPERATIONS, require_role
from models.errors import DomainError
from models.notifications.campaign_jobs import deliver_when_fanned_out, enqueue_fan_out
from models.notifications.campaigns import (
    UNFINISHED,
    Campaign,
    CampaignShard,
    CampaignStatus,
)
from models.notifications.delivery import delivery_channels, recover_stuck, stuck_after
from models.notifications.errors import NotificationErrorCode
from models.notifications.inbox import Channel, DeliveryStatus, Notification
from models.queue import TRANSPORT_ERRORS, Queue
from models.rights import audit
from models.text import clean_text

__all__ = [
    "CampaignProgress",
    "ChannelProgress",
    "DeliveryFailure",
    "campaign_failures",
    "campaign_progress",
    "cancel_campaign",
    "is_stalled",
    "resume_campaign",
]

#: What ``resume_campaign`` writes in the staff audit log (it takes no reason of its own).
RESUME_REASON = "resumed a stalled campaign"


@dataclass(frozen=True)
class ChannelProgress:
    """A campaign's messages on one channel, by where they stand."""

    channel: Channel
    #: Messages written for this channel.
    total: int
    sent: int
    failed: int
    #: Still owed: waiting, backing off before a retry, or being sent.
    pending: int
    #: Never to be sent: the campaign was cancelled first.
    cancelled: int


@dataclass(frozen=True)
class CampaignProgress:
    channels: list[ChannelProgress]
    stalled: bool
    #: The last fan-out or delivery batch; None before the first.
    progressed_at: datetime | None


@dataclass(frozen=True)
class DeliveryFailure:
    """A message given up on, and why (the channel's answer, as delivery recorded it)."""

    notification_id: int
    channel: Channel
    reason: str
    attempts: int


def stall_after(settings: Settings) -> timedelta:
    return timedelta(minutes=settings.campaign_stall_minutes)


def _last_moved(campaign: Campaign) -> datetime:
    return campaign.progressed_at or campaign.created_at


async def is_stalled(campaign: Campaign, settings: Settings) -> bool:
    """Unfinished, not moved for ``ACCORD_CAMPAIGN_STALL_MINUTES``, and not merely waiting
    for retries that are not due yet (see the module)."""
    moment = clock.now()
    if campaign.status not in UNFINISHED or _last_moved(campaign) > moment - stall_after(settings):
        return False
    if await CampaignShard.filter(campaign_id=campaign.id, done=False).exists():
        return True
    rows = Notification.filter(campaign_id=campaign.id)
    if await rows.filter(status=DeliveryStatus.SENDING).exists():
        return True
    due = Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=moment)
    if await rows.filter(due, status=DeliveryStatus.PENDING).exists():
        return True
    # Only retries backing off: waiting, not stalled. Nothing owed at all: the campaign
    # should have been marked DONE, which a resume does.
    return not await rows.filter(status=DeliveryStatus.PENDING).exists()


async def campaign_progress(campaign: Campaign, settings: Settings) -> CampaignProgress:
    """Per channel (each the campaign names, and IN_APP where it stood in for one):
    messages written, sent, failed, still owed and cancelled, by one grouped count; and
    whether it is stalled."""
    rows = (
        await Notification.filter(campaign_id=campaign.id)
        .annotate(n=Count(RawSQL("*")))  # type: ignore[arg-type]  # Count takes any term
        .group_by("channel", "status")
        .values("channel", "status", "n")
    )
    counts: dict[str, dict[str, int]] = {str(c): {} for c in campaign.channels}
    for row in rows:
        counts.setdefault(str(row["channel"]), {})[str(row["status"])] = int(row["n"])
    channels = []
    for name in sorted(counts):
        by_status = counts[name]
        channels.append(
            ChannelProgress(
                channel=Channel(name),
                total=sum(by_status.values()),
                sent=by_status.get(DeliveryStatus.SENT, 0),
                failed=by_status.get(DeliveryStatus.FAILED, 0),
                pending=by_status.get(DeliveryStatus.PENDING, 0)
                + by_status.get(DeliveryStatus.SENDING, 0),
                cancelled=by_status.get(DeliveryStatus.CANCELLED, 0),
            )
        )
    return CampaignProgress(
        channels=channels,
        stalled=await is_stalled(campaign, settings),
        progressed_at=campaign.progressed_at,
    )


async def campaign_failures(campaign_id: int, first: int = 20) -> list[DeliveryFailure]:
    """The campaign's messages given up on, newest first, with their reasons."""
    rows = (
        await Notification.filter(campaign_id=campaign_id, status=DeliveryStatus.FAILED)
        .order_by("-id")
        .limit(max(0, min(first, 100)))
        .values_list("id", "channel", "last_error", "attempts")
    )
    return [
        DeliveryFailure(
            notification_id=row_id, channel=Channel(channel), reason=reason, attempts=attempts
        )
        for row_id, channel, reason, attempts in rows
    ]


async def _campaign(campaign_id: int) -> Campaign:
    campaign = await Campaign.get_or_none(id=campaign_id)
    if campaign is None:
        raise DomainError(NotificationErrorCode.NOT_FOUND, "id", "no such campaign")
    return campaign


def _finished(campaign: Campaign) -> DomainError:
    if campaign.status == CampaignStatus.CANCELLED:
        return DomainError(
            NotificationErrorCode.CAMPAIGN_CANCELLED, "id", "this campaign was cancelled"
        )
    return DomainError(
        NotificationErrorCode.CAMPAIGN_FINISHED, "id", "this campaign is done: every message is out"
    )


async def resume_campaign(
    staff: Account, campaign_id: int, queue: Queue, settings: Settings
) -> tuple[Campaign, int]:
    """Queue a stalled campaign's jobs again (see the module); returns the campaign and how
    many jobs were newly queued (0 when a resume already queued them). Refused for a
    campaign that is DONE, CANCELLED, or not stalled."""
    require_role(staff, *OPERATIONS)
    campaign = await _campaign(campaign_id)
    if campaign.status not in UNFINISHED:
        raise _finished(campaign)
    if not await is_stalled(campaign, settings):
        raise DomainError(
            NotificationErrorCode.NOT_STALLED,
            "id",
            f"this campaign moved on at {_last_moved(campaign):%Y-%m-%d %H:%M:%S} UTC, within "
            f"{settings.campaign_stall_minutes} minutes: the workers are on it",
        )
    await audit.record(
        staff,
        audit.StaffAction.RESUME_CAMPAIGN,
        subject_id=None,
        resource="Campaign",
        resource_id=str(campaign.id),
        reason=RESUME_REASON,
    )
    generation = f"resumed-{int(_last_moved(campaign).timestamp())}"
    for channel in delivery_channels(campaign):
        await recover_stuck(campaign.id, channel, stuck_after(settings))
    try:
        queued = await enqueue_fan_out(queue, campaign.id, generation)
        queued += await deliver_when_fanned_out(queue, campaign.id, generation)
    except TRANSPORT_ERRORS as error:
        raise DomainError(
            NotificationErrorCode.QUEUE_UNAVAILABLE,
            None,
            f"the job queue did not answer ({type(error).__name__}); try again",
        ) from error
    return await Campaign.get(id=campaign.id), queued


async def cancel_campaign(staff: Account, campaign_id: int, reason: str) -> Campaign:
    """Stop a campaign for good, for ``reason`` (see the module): no message not yet sent
    goes out. Cancelling a cancelled campaign changes nothing; a DONE one is refused."""
    require_role(staff, *OPERATIONS)
    if not (reason or "").strip():
        raise DomainError(NotificationErrorCode.REQUIRED, "reason", "say why it is cancelled")
    why = clean_text(reason, "reason", audit.REASON_MAX, multiline=True)
    campaign = await _campaign(campaign_id)
    if campaign.status == CampaignStatus.CANCELLED:
        return campaign
    if campaign.status not in UNFINISHED:
        raise _finished(campaign)
    async with in_transaction("default"):
        # Shards first: this waits for a fan-out batch in flight, and any later batch finds
        # its shard done and rolls back (``fan_out_shard``).
        await CampaignShard.filter(campaign_id=campaign.id, done=False).update(done=True)
        cancelled = await Campaign.filter(id=campaign.id, status__in=UNFINISHED).update(
            status=CampaignStatus.CANCELLED, cancelled_at=clock.now(), cancel_reason=why
        )
        if not cancelled:  # finished or cancelled meanwhile
            fresh = await Campaign.get(id=campaign.id)
            if fresh.status == CampaignStatus.CANCELLED:
                return fresh
            raise _finished(fresh)
        await Notification.filter(campaign_id=campaign.id, status=DeliveryStatus.PENDING).update(
            status=DeliveryStatus.CANCELLED, next_attempt_at=None
        )
        await audit.record(
            staff,
            audit.StaffAction.CANCEL_CAMPAIGN,
            subject_id=None,
            resource="Campaign",
            resource_id=str(campaign.id),
            reason=why,
        )
    return await Campaign.get(id=campaign.id)
