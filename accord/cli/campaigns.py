"""``accord campaigns``: notification campaigns as operators see them, and what they may do
with one: resume it when it stalled, cancel it (as a named staff member, in the staff audit
log: ``models.notifications.campaign_actions``)."""

from __future__ import annotations

import asyncio
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from accord.cli.wiring import job_queue, orm, read_settings, refused

campaigns_cli = typer.Typer(help="Notification campaigns.", no_args_is_help=True)

STAFF_HELP = "Your staff account's name (OPERATOR, PRIVACY_OFFICER or ADMIN)."


@campaigns_cli.command("list")
def campaigns_list(
    limit: Annotated[int, typer.Option(help="Campaigns shown at most, newest first.")] = 20,
) -> None:
    """Campaigns, newest first: kind, status, and per channel the messages sent, failed,
    still owed and cancelled of those written; whether it is stalled."""
    from models.notifications.campaign_actions import campaign_progress
    from models.notifications.campaigns import Campaign

    settings = read_settings()

    async def run() -> Table:
        table = Table("id", "kind", "status", "created", "progress by channel", "stalled")
        async with orm(settings):
            for campaign in await Campaign.all().order_by("-id").limit(limit):
                report = await campaign_progress(campaign, settings)
                channels = "\n".join(
                    f"{c.channel}: {c.sent}/{c.total} sent, {c.failed} failed, "
                    f"{c.pending} pending, {c.cancelled} cancelled"
                    for c in report.channels
                )
                table.add_row(
                    str(campaign.id),
                    str(campaign.kind),
                    str(campaign.status),
                    f"{campaign.created_at:%Y-%m-%d %H:%M}",
                    channels,
                    "yes" if report.stalled else "no",
                )
        return table

    Console().print(asyncio.run(run()))


@campaigns_cli.command("resume")
def campaigns_resume(
    campaign_id: Annotated[int, typer.Argument(metavar="ID", help="The campaign's id (list).")],
    staff: Annotated[str, typer.Option(help=STAFF_HELP)],
) -> None:
    """Queue a stalled campaign's fan-out and delivery jobs again, under fresh job ids
    (needs REDIS_URL: the workers' queue)."""
    from models.accounts.staff import OPERATIONS, staff_member
    from models.errors import DomainError
    from models.notifications.campaign_actions import resume_campaign

    settings = read_settings()
    if not settings.redis_url:
        raise typer.BadParameter("set REDIS_URL to reach the workers' queue")

    async def run() -> str:
        async with orm(settings), job_queue(settings) as queue:
            assert queue is not None  # REDIS_URL is set
            member = await staff_member(staff, *OPERATIONS)
            campaign, queued = await resume_campaign(member, campaign_id, queue, settings)
        return f"Campaign {campaign.id} ({campaign.status}): {queued} job(s) queued."

    try:
        typer.echo(asyncio.run(run()))
    except DomainError as error:
        raise refused(error) from None


@campaigns_cli.command("cancel")
def campaigns_cancel(
    campaign_id: Annotated[int, typer.Argument(metavar="ID", help="The campaign's id (list).")],
    reason: Annotated[str, typer.Option(help="Why it must stop: kept with the campaign.")],
    staff: Annotated[str, typer.Option(help=STAFF_HELP)],
) -> None:
    """Stop a campaign for good: no message not yet sent goes out; in-app notices already
    written stay."""
    from models.accounts.staff import OPERATIONS, staff_member
    from models.errors import DomainError
    from models.notifications.campaign_actions import cancel_campaign

    settings = read_settings()

    async def run() -> str:
        async with orm(settings):
            member = await staff_member(staff, *OPERATIONS)
            campaign = await cancel_campaign(member, campaign_id, reason)
        return f"Campaign {campaign.id} is {campaign.status}."

    try:
        typer.echo(asyncio.run(run()))
    except DomainError as error:
        raise refused(error) from None
