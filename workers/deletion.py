"""``delete_account``: the job the sweeper enqueues for each due deletion request.

It carries only the account id; everything it needs to know is in the request row, and
everything it does is in ``models.rights.deletion.run_deletion`` (idempotent, leased, resumable).
"""

from __future__ import annotations

from typing import Any

import structlog

from accord.database import scrub_freed_pages
from models.rights.deletion import DeletionOutcome, run_deletion
from workers.notifications import deliver_account_notices

log = structlog.get_logger("accord.deletion")


async def delete_account(ctx: dict[str, Any], account_id: int) -> DeletionOutcome:
    outcome = await run_deletion(account_id, ctx["settings"], ctx["storage"])
    if outcome == DeletionOutcome.DONE:
        # The erasure receipt leaves now, not at the next sweep: until it is sent its row
        # holds the old address. Queuing the notices job could be refused while one runs.
        try:
            await deliver_account_notices(ctx)
        except Exception as error:  # the row is the promise: the sweeper sends it
            log.warning("erasure receipt not sent yet; the sweeper will", error=repr(error))
    if outcome == DeletionOutcome.DONE and not await scrub_freed_pages(ctx["settings"]):
        log.warning("write-ahead log still in use after a deletion", account_id=account_id)
    log.info("delete_account", account_id=account_id, outcome=outcome)
    return outcome
