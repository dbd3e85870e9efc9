"""Turning unfinished campaigns into queued jobs, with ids derived from the rows.

Used by the API right after a campaign is created, by a finished fan-out, and by the
sweeper every minute, so a campaign resumes from its stored cursors after a lost Redis or
a killed worker.
"""

from __future__ import annotations

from datetime import timedelta
from typing import cast

from models.notifications.campaigns import Campaign, CampaignShard, CampaignStatus
from models.notifications.delivery import delivery_channels, finish_if_done, recover_stuck
from models.queue import Queue


# arq keeps job keys per Redis server, not per queue: the queue name in the id keeps two
# deployments sharing a server (each with its own queue and database, hence the same row
# ids) from taking each other's ids, which would silently drop one's jobs. The lease period
# in the id keeps a worker that died from holding up the work (``models.queue``).
def fan_out_job_id(queue: Queue, shard_id: int) -> str:
    return queue.job_id("fan-out", shard_id)


def delivery_job_id(queue: Queue, campaign_id: int, channel: str) -> str:
    return queue.job_id("deliver", campaign_id, channel)


def notices_job_id(queue: Queue) -> str:
    return queue.job_id("notices")


async def enqueue_notices(queue: Queue) -> bool:
    """The job that sends the notices to one user (cancellation, restoration...)."""
    return await queue.enqueue("deliver_account_notices", job_id=notices_job_id(queue))


async def enqueue_fan_out(queue: Queue, campaign_id: int) -> int:
    shards = cast(
        "list[int]",  # Tortoise types flat values_list as tuples
        await CampaignShard.filter(campaign_id=campaign_id, done=False).values_list(
            "id", flat=True
        ),
    )
    queued = 0
    for shard_id in shards:
        queued += await queue.enqueue("fan_out", shard_id, job_id=fan_out_job_id(queue, shard_id))
    return queued


async def enqueue_deliveries(queue: Queue, campaign_id: int) -> int:
    campaign = await Campaign.get(id=campaign_id)
    queued = 0
    for channel in delivery_channels(campaign):
        queued += await queue.enqueue(
            "deliver_notifications",
            campaign_id,
            str(channel),
            job_id=delivery_job_id(queue, campaign_id, str(channel)),
        )
    return queued


async def resume_campaigns(queue: Queue, stuck_after: timedelta) -> int:
    """Every unfinished campaign: fan out what is left, recover what a dead worker left
    SENDING (``recover_stuck``), deliver what is owed."""
    queued = 0
    unfinished = cast(
        "list[int]",  # Tortoise types flat values_list as tuples
        await Campaign.filter(status__not=CampaignStatus.DONE).values_list("id", flat=True),
    )
    for campaign_id in unfinished:
        campaign = await Campaign.get(id=campaign_id)
        for channel in delivery_channels(campaign):
            await recover_stuck(campaign_id, channel, stuck_after)
        if await finish_if_done(campaign_id):
            continue
        if await CampaignShard.filter(campaign_id=campaign_id, done=False).exists():
            queued += await enqueue_fan_out(queue, campaign_id)
        else:
            queued += await enqueue_deliveries(queue, campaign_id)
    return queued
