"""``accord deletions``: account deletions by hand, for when the sweeper is not enough: the
queue as operators see it, a deletion retried or postponed (as a named staff member, in the
staff audit log: ``models.rights.deletion_queue``), a sweep run by hand."""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from accord.cli.wiring import job_queue, orm, read_settings, refused

deletions_cli = typer.Typer(help="Account deletions.", no_args_is_help=True)

#: ``--staff``: who acts; the command checks the role and the audit log names them.
STAFF_HELP = "Your staff account's name (OPERATOR, PRIVACY_OFFICER or ADMIN)."


@deletions_cli.command("list")
def deletions_list(
    status: Annotated[
        list[str] | None,
        typer.Option(
            help="PENDING, RUNNING, FAILED, DONE or CANCELLED (repeat for more); "
            "default: those still owed (PENDING, RUNNING, FAILED)."
        ),
    ] = None,
    limit: Annotated[int, typer.Option(help="Rows shown at most.")] = 100,
) -> None:
    """The deletion queue, soonest next attempt first: no personal data, only ids, dates,
    attempts and the last error."""
    from models.rights.deletion_queue import OWED, deletion_queue
    from models.rights.requests import DeletionStatus

    try:
        statuses = [DeletionStatus(s.upper()) for s in status] if status else list(OWED)
    except ValueError as error:
        raise typer.BadParameter(str(error), param_hint="--status") from None
    settings = read_settings()

    async def run() -> Table:
        async with orm(settings):
            rows = (await deletion_queue(statuses, limit))[:limit]
        table = Table("id", "account", "status", "due", "next attempt", "attempts", "last error")
        for row in rows:
            table.add_row(
                str(row.id),
                str(row.account_id),
                str(row.status),
                _when(row.due_at),
                _when(row.next_attempt_at),
                str(row.attempts),
                row.last_error,
            )
        return table

    Console().print(asyncio.run(run()))


def _when(moment: datetime) -> str:
    return f"{moment:%Y-%m-%d %H:%M}"


@deletions_cli.command("retry")
def deletions_retry(
    request_id: Annotated[int, typer.Argument(metavar="ID", help="The deletion's id (list).")],
    staff: Annotated[str, typer.Option(help=STAFF_HELP)],
) -> None:
    """Make a deletion whose grace period is over due now (FAILED, postponed, or left by a
    worker that died) and queue it; without REDIS_URL the next sweep queues it."""
    from models.accounts.staff import OPERATIONS, staff_member
    from models.errors import DomainError
    from models.rights.deletion_queue import retry_deletion

    settings = read_settings()

    async def run() -> str:
        async with orm(settings), job_queue(settings) as queue:
            member = await staff_member(staff, *OPERATIONS)
            request = await retry_deletion(member, request_id, queue)
        queued = "queued" if queue is not None else "due now; the next sweep queues it"
        return f"Deletion {request.id} (account {request.account_id}) is {queued}."

    try:
        typer.echo(asyncio.run(run()))
    except DomainError as error:
        raise refused(error) from None


@deletions_cli.command("postpone")
def deletions_postpone(
    request_id: Annotated[int, typer.Argument(metavar="ID", help="The deletion's id (list).")],
    until: Annotated[
        datetime, typer.Option(help="Its next attempt, in UTC unless a zone is given.")
    ],
    reason: Annotated[str, typer.Option(help="Why: kept in the staff audit log.")],
    staff: Annotated[str, typer.Option(help=STAFF_HELP)],
) -> None:
    """Move a waiting deletion's next attempt later, within ACCORD_DELETION_MAX_POSTPONE_DAYS
    after its grace period and before the user's request is due."""
    from models.accounts.staff import OPERATIONS, staff_member
    from models.errors import DomainError
    from models.rights.deletion_queue import postpone_deletion

    settings = read_settings()

    async def run() -> str:
        async with orm(settings):
            member = await staff_member(staff, *OPERATIONS)
            request = await postpone_deletion(member, request_id, until, reason, settings)
        return f"Deletion {request.id} waits until {_when(request.next_attempt_at)} UTC."

    try:
        typer.echo(asyncio.run(run()))
    except DomainError as error:
        raise refused(error) from None


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
