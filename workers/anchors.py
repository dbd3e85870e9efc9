"""``anchor_consent_ledger``: the job that makes the current period's consent anchor.

The sweeper queues it once a period has none (``models.consent.anchors.due``). Safe to run
twice or on two workers at once: the anchor's period is unique, so one run makes it and the
other finds it made (``make_anchor`` returns None).
"""

from __future__ import annotations

from typing import Any

import structlog

from models.consent.anchors import make_anchor

log = structlog.get_logger("accord.anchors")


async def anchor_consent_ledger(ctx: dict[str, Any], period_start: int) -> int | None:
    """``period_start`` names the period the job was queued for (its id); the anchor made is
    the current period's, which is that one unless the job ran late."""
    anchor = await make_anchor(ctx["settings"])
    if anchor is None:
        log.info("consent anchor already made", period_start=period_start)
        return None
    log.info("consent anchor made", period=anchor.period, tree_size=anchor.tree_size, id=anchor.id)
    return anchor.id
