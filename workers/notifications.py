"""Campaign jobs: ``fan_out`` writes one shard's notification rows, ``deliver_notifications``
sends a campaign's due messages on one channel in batches.

Both take ids only and are safe to run twice or at once (see ``models.notifications.campaigns`` and
``models.notifications.inbox``); the sweeper enqueues whatever is unfinished.
"""

from __future__ import annotations

from typing import Any

import structlog

from models.notifications.campaign_jobs import deliver_when_fanned_out
from models.notifications.campaigns import Campaign, CampaignShard, fan_out_shard
from models.notifications.delivery import deliver, deliver_notices, finish_if_done
from models.notifications.inbox import Channel

log = structlog.get_logger("accord.notifications")


async def fan_out(ctx: dict[str, Any], shard_id: int) -> int:
    settings = ctx["settings"]
    handled, in_app = await fan_out_shard(
        shard_id, settings.notification_batch_size, bool(settings.sms_gateway_url)
    )
    shard = await CampaignShard.get(id=shard_id).select_related("campaign")
    await ctx["stats"].messages_sent(Channel.IN_APP.value, shard.campaign.kind, in_app)
    await deliver_when_fanned_out(ctx["queue"], shard.campaign_id)
    log.info("fan_out", shard_id=shard_id, accounts=handled)
    return handled


async def deliver_notifications(ctx: dict[str, Any], campaign_id: int, channel: str) -> int:
    settings = ctx["settings"]
    sent = await deliver(campaign_id, Channel(channel), settings)
    campaign = await Campaign.get(id=campaign_id)
    await ctx["stats"].messages_sent(channel, campaign.kind, sent)
    await finish_if_done(campaign_id)
    log.info("deliver_notifications", campaign_id=campaign_id, channel=channel, sent=sent)
    return sent


async def deliver_account_notices(ctx: dict[str, Any]) -> int:
    """Send the e-mails and SMS that belong to no campaign (cancellation and restoration
    notices, verification codes, notices of a changed address), after recovering the ones
    a dead worker left SENDING."""
    sent = await deliver_notices(ctx["settings"])
    for channel, count in sent.items():
        await ctx["stats"].messages_sent(channel.value, "ACCOUNT_NOTICE", count)
    return sum(sent.values())
