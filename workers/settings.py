"""arq worker settings: the jobs, the cron schedule, and start-up of the ORM.

``worker_settings(settings, redis_url)`` is what ``accord worker`` and ``accord dev`` run.
``workers.main.WorkerSettings`` is the same for arq's own CLI.
"""

from __future__ import annotations

import contextlib
import functools
import time
from collections.abc import Awaitable, Callable
from typing import Any

import structlog
from arq import cron, func
from arq.typing import WorkerCoroutine
from redis.exceptions import RedisError
from tortoise.context import TortoiseContext

from accord.database import ensure_data_dir, tortoise_config
from accord.settings import Settings
from models.jobs import Job
from models.keys import key_ring
from models.personal.storage import LocalStorage
from models.queue import JobStats, Queue, redis_settings
from workers.anchors import anchor_consent_ledger
from workers.deletion import delete_account
from workers.export import export_data
from workers.notifications import deliver_account_notices, deliver_notifications, fan_out
from workers.pulse import Pulse
from workers.shutdowns import erase_shutdown_scope
from workers.sweeper import sweep
from workers.webhooks import deliver_consent_webhooks

HEALTH_CHECK_INTERVAL = 30


def observed(name: Job, job: Callable[..., Awaitable[Any]]) -> WorkerCoroutine:
    """Record the job in Redis under its name (for /metrics, queueStatus and ``accord
    status``): its start and outcome, how long it took, when it last succeeded, and that it
    runs, for the worker's heartbeat."""

    @functools.wraps(job)
    async def run(ctx: dict[Any, Any], *args: Any, **kwargs: Any) -> Any:
        stats: JobStats = ctx["stats"]
        pulse: Pulse | None = ctx.get("pulse")
        with contextlib.suppress(RedisError):
            await stats.job(name, "started")
        started = time.perf_counter()
        succeeded = False
        if pulse is not None:
            pulse.running += 1
        try:
            result = await job(ctx, *args, **kwargs)
            succeeded = True
        except BaseException:
            with contextlib.suppress(RedisError):
                await stats.job(name, "failed")
            raise
        finally:
            if pulse is not None:
                pulse.running -= 1
            with contextlib.suppress(RedisError):
                await stats.finished(name, time.perf_counter() - started, succeeded)
        with contextlib.suppress(RedisError):
            await stats.job(name, "succeeded")
        return result

    return run


def jobs() -> dict[Job, Callable[..., Awaitable[Any]]]:
    """The function that runs each registered job (``models.jobs``). Read when a worker is
    built, so a test can stand in for one (``workers.settings.fan_out``)."""
    return {
        Job.SWEEP: sweep,
        Job.DELETE_ACCOUNT: delete_account,
        Job.FAN_OUT: fan_out,
        Job.DELIVER_NOTIFICATIONS: deliver_notifications,
        Job.DELIVER_ACCOUNT_NOTICES: deliver_account_notices,
        Job.EXPORT_DATA: export_data,
        Job.ANCHOR_CONSENT_LEDGER: anchor_consent_ledger,
        Job.DELIVER_CONSENT_WEBHOOKS: deliver_consent_webhooks,
        Job.ERASE_SHUTDOWN_SCOPE: erase_shutdown_scope,
    }


def functions(settings: Settings) -> list[Any]:
    """Each job with its own timeout, the same one its lease in the database lasts. arq
    keeps every worker off a crashed job for the longest timeout of any function + 10 s;
    recovery does not wait for that: once the lease has expired, the sweeper queues the
    work under a new job id (``models.queue``)."""
    return [
        func(
            observed(job, run),
            name=job.value,
            timeout=job.timeout(settings),
            keep_result=job.keep_result,
        )
        for job, run in jobs().items()
    ]


def worker_settings(settings: Settings, redis_url: str) -> dict[str, Any]:
    async def on_startup(ctx: dict[str, Any]) -> None:
        ensure_data_dir(settings)
        key_ring.install(settings)  # the keys this process's sealed fields use
        # A context of the worker's own, entered in this (the worker's main) task: jobs run
        # in tasks copied from it and inherit it, and shutdown, which runs in another task,
        # closes exactly this one. It never touches an ORM context that a host process (a
        # test, `accord dev`) already has.
        orm = TortoiseContext()
        orm.__enter__()
        await orm.init(config=tortoise_config(settings))
        ctx["tortoise"] = orm
        ctx["settings"] = settings
        ctx["queue"] = Queue(ctx["redis"], settings.queue_name, settings.job_timeout_seconds)
        ctx["storage"] = LocalStorage(settings.data_dir / "files")
        ctx["stats"] = JobStats(ctx["redis"], settings.redis_key_prefix, settings.queue_name)
        ctx["pulse"] = Pulse(ctx["stats"])
        await ctx["pulse"].start()

    async def on_shutdown(ctx: dict[str, Any]) -> None:
        if "pulse" in ctx:
            await ctx["pulse"].stop()
        await ctx["tortoise"].close_connections()

    async def on_job_start(ctx: dict[str, Any]) -> None:
        structlog.contextvars.clear_contextvars()
        structlog.contextvars.bind_contextvars(job_id=ctx.get("job_id"))

    async def after_job_end(ctx: dict[str, Any]) -> None:
        structlog.contextvars.clear_contextvars()

    return {
        "functions": functions(settings),
        "cron_jobs": [
            cron(
                observed(Job.SWEEP, sweep),
                name=f"cron:{Job.SWEEP}",
                second=set(range(0, 60, settings.sweep_interval_seconds)),
                unique=True,
                timeout=Job.SWEEP.timeout(settings),
                run_at_startup=True,
            )
        ],
        "redis_settings": redis_settings(redis_url),
        "queue_name": settings.queue_name,
        "max_jobs": settings.worker_max_jobs,
        "job_timeout": settings.job_timeout_seconds,
        "health_check_interval": HEALTH_CHECK_INTERVAL,
        "on_startup": on_startup,
        "on_shutdown": on_shutdown,
        "on_job_start": on_job_start,
        "after_job_end": after_job_end,
    }
