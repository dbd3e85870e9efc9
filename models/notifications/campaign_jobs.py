"""What a campaign needs next, turned into queued jobs (``models.jobs``).

``deliver_when_fanned_out`` is the one place that decides when delivery starts; the
fan-out job calls it when its shard is done, and the sweeper, every minute, calls it after
re-queueing the fan-out of any unfinished shard (``resume_campaigns``), so a campaign
resumes from its stored cursors after a lost Redis or a killed worker. The API queues the
fan-out right after a campaign is created (``enqueue_fan_out``).
"""

from __future__ import annotations

from datetime import timedelta
from typing import cast

from models import jobs
from models.notifications.campaigns import UNFINISHED, Campaign, CampaignShard
from models.notifications.delivery import delivery_channels, finish_if_done, recover_stuck
from models.queue import Queue


async def enqueue_fan_out(queue: Queue, campaign_id: int, resumed: str | None = None) -> int:
    """A fan-out job for each of the campaign's unfinished shards; returns how many were
    newly queued. ``resumed``: an operator's resume names the jobs' generation."""
    shards = cast(
        "list[int]",  # Tortoise types flat values_list as tuples
        await CampaignShard.filter(campaign_id=campaign_id, done=False).values_list(
            "id", flat=True
        ),
    )
    queued = 0
    for shard_id in shards:
        queued += await jobs.fan_out(queue, shard_id, resumed)
    return queued


async def enqueue_deliveries(queue: Queue, campaign_id: int, resumed: str | None = None) -> int:
    campaign = await Campaign.get(id=campaign_id)
    queued = 0
    for channel in delivery_channels(campaign):
        queued += await jobs.deliver_notifications(queue, campaign_id, str(channel), resumed)
    return queued


async def deliver_when_fanned_out(
    queue: Queue, campaign_id: int, resumed: str | None = None
) -> int:
    """Once every shard is fanned out: DONE if no message waits (``finish_if_done``), else
    a delivery job per channel. Returns the jobs newly queued (none while a shard is left)."""
    if await finish_if_done(campaign_id):
        return 0
    if await CampaignShard.filter(campaign_id=campaign_id, done=False).exists():
        return 0
    return await enqueue_deliveries(queue, campaign_id, resumed)


async def resume_campaigns(queue: Queue, stuck_after: timedelta) -> int:
    """Every unfinished campaign: recover what a dead worker left SENDING
    (``recover_stuck``), fan out what is left, deliver what is owed."""
    queued = 0
    unfinished = cast(
        "list[int]",  # Tortoise types flat values_list as tuples
        await Campaign.filter(status__in=UNFINISHED).values_list("id", flat=True),
    )
    for campaign_id in unfinished:
        campaign = await Campaign.get(id=campaign_id)
        for channel in delivery_channels(campaign):
            await recover_stuck(campaign_id, channel, stuck_after)
        queued += await enqueue_fan_out(queue, campaign_id)
        queued += await deliver_when_fanned_out(queue, campaign_id)
    return queued
