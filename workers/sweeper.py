"""The sweeper: the periodic job that turns rows that are due into work.

The database holds every promise; the sweeper reads what is due and acts on it (or enqueues
a job whose id is derived from the row), so a lost Redis delays work by one sweep and a
killed worker by its job's timeout plus one sweep, never loses it (``models.queue`` says
why a dead job's id does not hold it up longer). arq's ``unique`` cron can still fire on
several workers at once (arq #196); every step here is harmless when run twice.
"""

from __future__ import annotations

from functools import partial
from typing import Any

import structlog

from models import jobs
from models.accounts.minors import come_of_age
from models.consent import anchors
from models.notifications.authority_reports import keep_the_clock as keep_the_authority_clock
from models.notifications.campaign_jobs import resume_campaigns
from models.notifications.delivery import recover_stuck, stuck_after
from models.notifications.inbox import NOTICE_CHANNELS, notices_owed
from models.personal.retention import clean_up
from models.rights import export_jobs, exports
from models.rights.deadlines import keep_the_clock
from models.rights.deletion import enqueue_due
from models.rights.export_files import ExportFiles
from models.rights.shutdowns import due_shutdowns
from models.webhooks import outbox as webhook_outbox

log = structlog.get_logger("accord.sweeper")


async def sweep(ctx: dict[str, Any]) -> dict[str, int]:
    settings, queue = ctx["settings"], ctx["queue"]
    removed = await clean_up(settings)
    if any(removed.values()):
        log.info("retention clean-up", **removed)
    deletions = await enqueue_due(partial(jobs.delete_account, queue), settings.sweep_batch_size)
    if deletions:
        log.info("deletions enqueued", count=deletions)
    exports_queued = await export_jobs.enqueue_due(
        partial(jobs.export_data, queue), settings.sweep_batch_size
    )
    exports_removed = await exports.purge_finished(
        ExportFiles.of(settings), settings.sweep_batch_size
    )
    campaign_jobs = await resume_campaigns(queue, stuck_after(settings))
    for channel in NOTICE_CHANNELS:
        await recover_stuck(None, channel, stuck_after(settings))
    if await notices_owed():
        await jobs.deliver_account_notices(queue)
    anchor_queued = await anchors.due(settings) and await jobs.anchor_consent_ledger(
        queue, int(anchors.current_period(settings).timestamp())
    )
    webhooks_owed = await webhook_outbox.owed()
    if webhooks_owed:
        await jobs.deliver_consent_webhooks(queue)
    clock_kept = await keep_the_clock(settings)
    if any(clock_kept.values()):
        log.info("data requests' clock", **clock_kept)
    came_of_age = await come_of_age(settings, settings.sweep_batch_size)
    if came_of_age:
        log.info("minors came of age", count=came_of_age)
    authority_clock = await keep_the_authority_clock(settings)
    if any(authority_clock.values()):
        log.info("incidents' authority clock", **authority_clock)
    shutdowns = 0
    for shutdown_id in await due_shutdowns(settings.sweep_batch_size):
        shutdowns += await jobs.erase_shutdown_scope(queue, shutdown_id)
    return {
        **removed,
        "deletions_enqueued": deletions,
        "exports_enqueued": exports_queued,
        "exports_removed": exports_removed,
        "campaign_jobs_enqueued": campaign_jobs,
        "anchor_enqueued": int(anchor_queued),
        "consent_webhooks_owed": int(webhooks_owed),
        **clock_kept,
        "minors_came_of_age": came_of_age,
        **authority_clock,
        "shutdown_erasures_enqueued": shutdowns,
    }
