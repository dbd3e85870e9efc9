"""The one overview an operator reads: the job queue and the workers (from Redis, the
transport) and the work owed (from the database, the ledger).

``queueStatus`` shows its queue half, ``/metrics`` exports all of it as gauges and ``accord
status`` prints it, so the three never disagree. Either half is None when its store cannot
be reached: the other half still tells what it knows.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

import structlog

from models.jobs import Job
from models.operations.backlog import (
    CampaignFigures,
    DeletionFigures,
    campaign_figures,
    deletion_figures,
)
from models.queue import Durations, JobStats, WorkerBeat

log = structlog.get_logger("accord.operations")


@dataclass(frozen=True)
class QueueFacts:
    #: Jobs queued and not taken by a worker yet (deferred ones included).
    queued: int
    #: Jobs a worker runs now.
    in_progress: int
    failed_last_hour: int
    #: Waiting jobs by function (of the first thousand).
    by_function: dict[str, int]
    #: How long the oldest job that is due has waited, in seconds (0: none waits).
    oldest_queued_seconds: float
    #: The workers whose heartbeat is recent, by id.
    workers: list[WorkerBeat]
    #: When the sweeper last finished a run, if Redis remembers.
    last_sweep_at: datetime | None
    #: Job durations by function, for the histogram.
    durations: dict[str, Durations] = field(default_factory=dict)


@dataclass(frozen=True)
class Backlog:
    deletions: DeletionFigures
    campaigns: CampaignFigures


@dataclass(frozen=True)
class Overview:
    queue: QueueFacts | None
    backlog: Backlog | None


async def queue_facts(stats: JobStats) -> QueueFacts:
    """The queue and the workers as Redis has them; raises when Redis cannot be reached."""
    status = await stats.status()
    swept = await stats.last_success(Job.SWEEP)  # the sweeper's last run
    return QueueFacts(
        queued=status["queued"],
        in_progress=status["in_progress"],
        failed_last_hour=status["failed_last_hour"],
        by_function=status["by_function"],
        oldest_queued_seconds=status["oldest_waiting_seconds"],
        workers=await stats.workers(),
        last_sweep_at=datetime.fromtimestamp(swept, UTC) if swept is not None else None,
        durations=await stats.duration_histograms(),
    )


async def backlog() -> Backlog:
    """The work owed, from the database; raises when the database cannot be reached."""
    return Backlog(deletions=await deletion_figures(), campaigns=await campaign_figures())


async def overview(stats: JobStats | None) -> Overview:
    """Both halves; one whose store is unreachable (or Redis, when ``stats`` is None: not
    known) is None, and logged."""
    queue: QueueFacts | None = None
    owed: Backlog | None = None
    try:
        queue = await queue_facts(stats) if stats is not None else None
    except Exception as error:
        log.warning("overview: redis unavailable", error=repr(error))
    try:
        owed = await backlog()
    except Exception as error:
        log.warning("overview: database unavailable", error=repr(error))
    return Overview(queue=queue, backlog=owed)
