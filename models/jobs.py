"""Every job Accord queues, named once: its name, its timeout, its id, how it is queued.

``api``, ``models`` and the ``accord`` command queue work through the functions here and
never name a job by a string of their own; ``workers.settings`` gives each ``Job`` its
function, and ``tests/test_jobs.py`` fails if a job has no function or a function no job.
So ``api`` still never imports ``workers``.

A job's id is derived from the row it works on, so queueing the same promise twice is
harmless, and it also names a generation (why: ``models.queue``): a deletion's names its
attempt (how many runs have taken the request's lease); the others name the lease period
they were queued in, a period as long as the job timeout. Each id starts with the queue
name: arq keeps job keys per Redis server, not per queue, and two deployments sharing a
server (each with its own database, hence the same row ids) must not take each other's ids,
which would silently drop one's jobs.
"""

from __future__ import annotations

import time
from enum import StrEnum

from accord.settings import Settings
from models.queue import Queue


class Job(StrEnum):
    """Each job, by the name its worker function is registered under."""

    #: The periodic sweep (a cron job; see ``workers.sweeper``).
    SWEEP = "sweep"
    #: Delete everything personal of one account whose grace period is over.
    DELETE_ACCOUNT = "delete_account"
    #: Write the notification rows of one campaign shard.
    FAN_OUT = "fan_out"
    #: Send a campaign's due messages on one channel.
    DELIVER_NOTIFICATIONS = "deliver_notifications"
    #: Send the e-mails to one user that belong to no campaign (cancellation, restoration).
    DELIVER_ACCOUNT_NOTICES = "deliver_account_notices"
    #: Build the archive answering one ACCESS request (a data export).
    EXPORT_DATA = "export_data"
    #: Make the current period's consent anchor (``models.consent.anchors``).
    ANCHOR_CONSENT_LEDGER = "anchor_consent_ledger"
    #: Send the consent webhooks' due deliveries, every endpoint's (``models.webhooks``).
    DELIVER_CONSENT_WEBHOOKS = "deliver_consent_webhooks"
    #: Delete what one service shutdown's scope held, from its cursor (``models.rights.shutdowns``).
    ERASE_SHUTDOWN_SCOPE = "erase_shutdown_scope"

    def timeout(self, settings: Settings) -> int:
        """Seconds a run may take; a lease in the database lasts as long (see the settings)."""
        if self == Job.SWEEP:
            return 60
        if self == Job.DELETE_ACCOUNT:
            return settings.deletion_job_timeout_seconds
        return settings.job_timeout_seconds

    @property
    def keep_result(self) -> int | None:
        """0 for the jobs queued under ids derived from rows: the sweeper must be able to
        queue the same id again at once after a failure (a kept result would block that id
        for an hour). The sweep keeps arq's default."""
        return None if self == Job.SWEEP else 0


#: The word naming each queued job in its id (unchanged since ids were introduced, so jobs
#: queued by an older release are still recognised as the same).
_ID_WORDS = {
    Job.DELETE_ACCOUNT: "delete-account",
    Job.FAN_OUT: "fan-out",
    Job.DELIVER_NOTIFICATIONS: "deliver",
    Job.DELIVER_ACCOUNT_NOTICES: "notices",
    Job.EXPORT_DATA: "export",
    Job.ANCHOR_CONSENT_LEDGER: "anchor",
    Job.DELIVER_CONSENT_WEBHOOKS: "webhooks",
    Job.ERASE_SHUTDOWN_SCOPE: "shutdown",
}


def job_id(queue: Queue, job: Job, *row: int | str, attempt: int | str | None = None) -> str:
    """``<queue>:<word>:<row...>:<generation>``, the generation being ``attempt`` when
    given (a deletion's attempt, an operator's resume of a stalled campaign), else the
    current lease period (``Queue.lease_seconds`` long)."""
    generation = attempt if attempt is not None else int(time.time() // queue.lease_seconds)
    return ":".join([queue.queue_name, _ID_WORDS[job], *map(str, row), str(generation)])


async def _enqueue(
    queue: Queue, job: Job, *args: int | str, attempt: int | str | None = None
) -> bool:
    """Queue ``job(*args)`` under its id; False when that id is already queued or kept."""
    return await queue.enqueue(job.value, *args, job_id=job_id(queue, job, *args, attempt=attempt))


async def delete_account(queue: Queue, account_id: int, attempt: int) -> bool:
    """The deletion of one account, for its request's ``attempt`` (``DeletionRequest.attempts``)."""
    return await _enqueue(queue, Job.DELETE_ACCOUNT, account_id, attempt=attempt)


async def fan_out(queue: Queue, shard_id: int, resumed: str | None = None) -> bool:
    """``resumed``: the generation an operator's resume names (``models.notifications.
    campaign_actions.resume_campaign``), instead of the lease period's."""
    return await _enqueue(queue, Job.FAN_OUT, shard_id, attempt=resumed)


async def deliver_notifications(
    queue: Queue, campaign_id: int, channel: str, resumed: str | None = None
) -> bool:
    return await _enqueue(
        queue, Job.DELIVER_NOTIFICATIONS, campaign_id, str(channel), attempt=resumed
    )


async def deliver_account_notices(queue: Queue) -> bool:
    return await _enqueue(queue, Job.DELIVER_ACCOUNT_NOTICES)


async def export_data(queue: Queue, request_id: int) -> bool:
    """The archive of one ACCESS request (``models.rights.export_jobs``)."""
    return await _enqueue(queue, Job.EXPORT_DATA, request_id)


async def anchor_consent_ledger(queue: Queue, period_start: int) -> bool:
    """The consent anchor of the period starting at ``period_start`` (Unix seconds)."""
    return await _enqueue(queue, Job.ANCHOR_CONSENT_LEDGER, period_start)


async def deliver_consent_webhooks(queue: Queue) -> bool:
    """The consent webhooks' due deliveries (``models.webhooks.sending``)."""
    return await _enqueue(queue, Job.DELIVER_CONSENT_WEBHOOKS)


async def erase_shutdown_scope(queue: Queue, shutdown_id: int) -> bool:
    """The erasure of one due service shutdown (``models.rights.shutdowns``)."""
    return await _enqueue(queue, Job.ERASE_SHUTDOWN_SCOPE, shutdown_id)
