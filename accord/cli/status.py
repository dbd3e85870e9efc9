"""``accord status``: the operators' overview at a glance, the figures ``/metrics`` exports
and ``queueStatus`` shows (``models.operations.overview``)."""

from __future__ import annotations

import asyncio
import time
from datetime import datetime

import typer

from accord.cli.wiring import orm, read_settings


def status() -> None:
    """Print the queue, the workers, the sweeper and the work owed (deletions, campaigns,
    failed notifications). Needs ACCORD_REDIS_URL for the queue and workers (`accord dev`
    prints its own); exits 1 when Redis or the database cannot be read."""
    from rich.console import Console

    from models.operations.overview import Overview, overview
    from models.queue import JobStats, Queue

    settings = read_settings()

    async def run() -> Overview:
        async with orm(settings):
            if not settings.redis_url:
                return await overview(None)
            try:
                queue = await Queue.connect(settings.redis_url, settings.queue_name)
            except Exception:  # unreachable: the database half still tells what it knows
                return await overview(None)
            try:
                stats = JobStats(queue.pool, settings.redis_key_prefix, settings.queue_name)
                return await overview(stats)
            finally:
                await queue.close()

    seen = asyncio.run(run())
    console = Console()
    console.print(_table(seen, redis_configured=bool(settings.redis_url)))
    if seen.queue is None or seen.backlog is None:
        raise typer.Exit(1)


def _ago(seconds: float) -> str:
    seconds = max(0, round(seconds))
    if seconds < 120:
        return f"{seconds} s"
    if seconds < 7200:
        return f"{seconds // 60} min"
    return f"{seconds // 3600} h {seconds % 3600 // 60} min"


def _when(moment: datetime | None) -> str:
    if moment is None:
        return "unknown (none since Redis started)"
    return f"{moment:%Y-%m-%d %H:%M:%S} UTC ({_ago(time.time() - moment.timestamp())} ago)"


def _table(seen, *, redis_configured: bool):
    from rich.table import Table

    table = Table(title="Accord status", show_header=True, header_style="bold")
    table.add_column("Area")
    table.add_column("Figure")
    table.add_column("Value", justify="right")
    queue = seen.queue
    if queue is None:
        why = "unreachable" if redis_configured else "not configured: set ACCORD_REDIS_URL"
        table.add_row("Queue", "Redis", f"[red]{why}[/red]")
    else:
        table.add_row("Queue", "jobs waiting", str(queue.queued))
        for name, count in sorted(queue.by_function.items()):
            table.add_row("", f"  {name}", str(count))
        table.add_row("", "jobs running", str(queue.in_progress))
        table.add_row("", "oldest waiting job", _ago(queue.oldest_queued_seconds))
        table.add_row("", "failed in the last hour", str(queue.failed_last_hour))
        table.add_row("Sweeper", "last run", _when(queue.last_sweep_at))
        alive = len(queue.workers)
        table.add_row("Workers", "alive", str(alive) if alive else "[red]0[/red]")
        for beat in queue.workers:
            table.add_row(
                "",
                f"  {beat.id}",
                f"seen {_ago(time.time() - beat.last_seen)} ago, {beat.running} running",
            )
    owed = seen.backlog
    if owed is None:
        table.add_row("Work owed", "database", "[red]unreachable[/red]")
        return table
    deletions, campaigns = owed.deletions, owed.campaigns
    table.add_row("Deletions", "pending", str(deletions.pending))
    table.add_row("", "overdue", str(deletions.overdue))
    table.add_row("", "failed (retrying)", str(deletions.failed))
    table.add_row("", "oldest overdue", _ago(deletions.oldest_overdue_seconds))
    table.add_row("Campaigns", "not finished", str(campaigns.pending))
    for campaign_id, seconds in campaigns.seconds_since_progress.items():
        table.add_row("", f"  campaign {campaign_id}", f"last progress {_ago(seconds)} ago")
    for n, (channel, count) in enumerate(sorted(campaigns.failed_notifications.items())):
        table.add_row("" if n else "Notifications", f"failed, {channel}", str(count))
    return table
