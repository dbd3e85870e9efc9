"""A campaign's progress per channel (in-app, e-mail, SMS), for the staff console's bars:
the counts ``campaigns.progress`` makes, split by the channel each message goes out on."""

from __future__ import annotations

from tortoise.expressions import RawSQL
from tortoise.functions import Count

from models.notifications.inbox import DeliveryStatus, Notification


async def progress_by_channel(campaign_id: int) -> dict[str, dict[str, int]]:
    """Per channel: messages written (``created``), sent (``delivered``), ``failed`` and
    still ``pending``; one grouped count."""
    rows = (
        await Notification.filter(campaign_id=campaign_id)
        .annotate(n=Count(RawSQL("*")))  # type: ignore[arg-type]  # Count takes any term
        .group_by("channel", "status")
        .values("channel", "status", "n")
    )
    channels: dict[str, dict[str, int]] = {}
    for row in rows:
        counts = channels.setdefault(
            str(row["channel"]), {"created": 0, "delivered": 0, "failed": 0, "pending": 0}
        )
        n, status = int(row["n"]), str(row["status"])
        counts["created"] += n
        if status == DeliveryStatus.SENT.value:
            counts["delivered"] += n
        elif status == DeliveryStatus.FAILED.value:
            counts["failed"] += n
        else:
            counts["pending"] += n
    return dict(sorted(channels.items()))
