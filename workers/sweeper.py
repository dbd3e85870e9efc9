"""The sweeper: the periodic job that turns rows that are due into work.

The database holds every promise; the sweeper reads what is due and acts on it (or enqueues
a job whose id is derived from the row), so a lost Redis or a killed worker delays work by
one sweep, never loses it. arq's ``unique`` cron can still fire on several workers at once
(arq #196); every step here is harmless when run twice.
"""

from __future__ import annotations

from typing import Any

import structlog

from models.retention import clean_up

log = structlog.get_logger("accord.sweeper")


async def sweep(ctx: dict[str, Any]) -> dict[str, int]:
    removed = await clean_up(ctx["settings"])
    if any(removed.values()):
        log.info("retention clean-up", **removed)
    return removed
