"""``export_data``: the job that builds the archive of one ACCESS request (a data export).

It carries only the request's id; everything it does is in
``models.rights.export_jobs.run_export`` (leased, idempotent: safe to run twice or at once).
When the archive is ready the user's e-mail is queued at once rather than at the next sweep.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import structlog

from models import jobs
from models.jobs import Job
from models.rights.export_jobs import ExportOutcome, run_export

log = structlog.get_logger("accord.export")


async def export_data(ctx: dict[str, Any], request_id: int) -> ExportOutcome:
    settings = ctx["settings"]
    lease = timedelta(seconds=Job.EXPORT_DATA.timeout(settings))
    outcome = await run_export(request_id, settings, ctx["storage"], lease)
    log.info("export_data", request_id=request_id, outcome=outcome)
    if outcome == ExportOutcome.DONE:
        try:
            await jobs.deliver_account_notices(ctx["queue"])
        except Exception as error:  # the e-mail's row is the promise: the sweeper sends it
            log.warning("notice delivery not enqueued; the sweeper will", error=repr(error))
    return outcome
