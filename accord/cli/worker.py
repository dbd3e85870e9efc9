"""``accord worker``: an arq worker running the jobs and the periodic sweeper."""

from __future__ import annotations

import asyncio
from typing import Annotated

import typer
from arq.worker import Worker
from redis.exceptions import RedisError

from accord.cli.wiring import check_master_key, read_settings


def worker(
    check: Annotated[bool, typer.Option(help="Exit 0 if a worker is alive, 1 if not.")] = False,
) -> None:
    """Run an arq worker: the jobs and the periodic sweeper."""
    from arq.worker import async_check_health, create_worker

    from workers.settings import worker_settings

    settings = read_settings()
    if not settings.redis_url:
        typer.echo(
            "invalid setting ACCORD_REDIS_URL / REDIS_URL: a worker needs the "
            "API's Redis (accord dev prints the URL of its embedded one)",
            err=True,
        )
        raise typer.Exit(2)
    kwargs = worker_settings(settings, settings.redis_url)
    if not check:
        check_master_key(settings)
    if check:
        try:
            code = asyncio.run(
                async_check_health(kwargs["redis_settings"], None, kwargs["queue_name"])
            )
        except (RedisError, OSError) as error:  # no Redis, so no worker to report
            typer.echo(f"worker check: Redis unreachable ({error})", err=True)
            raise typer.Exit(1) from None
        raise typer.Exit(code)
    run_until_stopped(create_worker(kwargs))


def run_until_stopped(worker: Worker) -> None:
    """Run the worker until a signal stops it, then make sure its shutdown hook ran.

    arq 0.28 cancels the running jobs on SIGTERM (they are queued again) and then waits for
    them; a job cancelled while it was finishing makes that wait raise ``CancelledError``
    before ``on_shutdown``, and the database connections left open (aiosqlite's threads)
    then kept the process alive forever. Closing them again after a clean stop is harmless.
    """
    try:
        worker.run()
    except asyncio.CancelledError:
        pass  # a job cancelled by the stop: arq has queued it again
    finally:
        if worker.on_shutdown is not None:
            worker.loop.run_until_complete(worker.on_shutdown(worker.ctx))
