"""``deliver_consent_webhooks``: the job that sends the consent webhooks' outbox.

It carries nothing: the rows say what is owed, and everything it does is in
``models.webhooks.sending`` (claims with conditional updates: safe to run twice or at once).
The API queues it after a consent change that promised deliveries; the sweeper whenever
one is due (a retry, or a change whose job was lost with Redis).
"""

from __future__ import annotations

from typing import Any

import structlog

from models.webhooks.sending import deliver_due

log = structlog.get_logger("accord.webhooks")


async def deliver_consent_webhooks(ctx: dict[str, Any]) -> int:
    delivered = await deliver_due(ctx["settings"])
    log.info("deliver_consent_webhooks", delivered=delivered)
    return delivered
