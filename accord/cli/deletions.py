"""``accord deletions``: account deletions by hand, for when the sweeper is not enough."""

from __future__ import annotations

import asyncio
from typing import Annotated

import typer

from accord.cli.wiring import orm, read_settings

deletions_cli = typer.Typer(help="Account deletions.", no_args_is_help=True)


@deletions_cli.command("run-due")
def deletions_run_due(
    inline: Annotated[
        bool, typer.Option(help="Delete here and now instead of enqueuing for the workers.")
    ] = False,
) -> None:
    """Run a deletion sweep by hand: enqueue every due deletion (what the sweeper does each
    minute), or with --inline carry them out in this process."""
    from functools import partial

    from models import jobs
    from models.personal.storage import LocalStorage
    from models.queue import Queue
    from models.rights import deletion

    settings = read_settings()

    async def run() -> str:
        async with orm(settings):
            if inline:
                storage = LocalStorage(settings.data_dir / "files")
                outcomes: list[deletion.DeletionOutcome] = []

                async def delete_now(account_id: int, attempt: int) -> bool:
                    outcomes.append(await deletion.run_deletion(account_id, settings, storage))
                    return True

                await deletion.enqueue_due(delete_now, settings.sweep_batch_size)
                done = outcomes.count(deletion.DeletionOutcome.DONE)
                return f"Deleted {done} account(s); outcomes: {[str(o) for o in outcomes]}"
            if not settings.redis_url:
                raise typer.BadParameter("set REDIS_URL to reach the workers, or use --inline")
            queue = await Queue.connect(
                settings.redis_url, settings.queue_name, settings.job_timeout_seconds
            )
            try:
                count = await deletion.enqueue_due(
                    partial(jobs.delete_account, queue), settings.sweep_batch_size
                )
            finally:
                await queue.close()
            return f"Enqueued {count} deletion(s)."

    typer.echo(asyncio.run(run()))
