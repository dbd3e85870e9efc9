"""arq worker settings: the jobs, the cron schedule, and start-up of the ORM.

``worker_settings(settings, redis_url)`` is what ``accord worker`` and ``accord dev`` run.
``workers.main.WorkerSettings`` is the same for arq's own CLI.
"""

from __future__ import annotations

from typing import Any

import structlog
from arq import cron, func
from tortoise.context import TortoiseContext

from accord.database import ensure_data_dir, tortoise_config
from accord.settings import Settings
from models.queue import Queue, redis_settings
from models.storage import LocalStorage
from workers.deletion import delete_account
from workers.sweeper import sweep

HEALTH_CHECK_INTERVAL = 30


def functions(settings: Settings) -> list[Any]:
    return [
        func(sweep, name="sweep", timeout=60),
        # No kept result: the sweeper must be able to enqueue the same id again at once
        # after a failure (a kept result would block that id for an hour).
        func(
            delete_account,
            name="delete_account",
            timeout=settings.deletion_job_timeout_seconds,
            keep_result=0,
        ),
    ]


def worker_settings(settings: Settings, redis_url: str) -> dict[str, Any]:
    async def on_startup(ctx: dict[str, Any]) -> None:
        ensure_data_dir(settings)
        # A context of the worker's own, entered in this (the worker's main) task: jobs run
        # in tasks copied from it and inherit it, and shutdown, which runs in another task,
        # closes exactly this one. It never touches an ORM context that a host process (a
        # test, `accord dev`) already has.
        orm = TortoiseContext()
        orm.__enter__()
        await orm.init(config=tortoise_config(settings))
        ctx["tortoise"] = orm
        ctx["settings"] = settings
        ctx["queue"] = Queue(ctx["redis"], settings.queue_name)
        ctx["storage"] = LocalStorage(settings.data_dir / "files")

    async def on_shutdown(ctx: dict[str, Any]) -> None:
        await ctx["tortoise"].close_connections()

    async def on_job_start(ctx: dict[str, Any]) -> None:
        structlog.contextvars.clear_contextvars()
        structlog.contextvars.bind_contextvars(job_id=ctx.get("job_id"))

    async def after_job_end(ctx: dict[str, Any]) -> None:
        structlog.contextvars.clear_contextvars()

    return {
        "functions": functions(settings),
        "cron_jobs": [
            cron(sweep, name="cron:sweep", second=0, unique=True, timeout=60, run_at_startup=True)
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

