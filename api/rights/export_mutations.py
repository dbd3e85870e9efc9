"""Mutation fields of the rights domain: exporting your data (GDPR Art 15 and 20)."""

from __future__ import annotations

import strawberry
import structlog
from strawberry.types import Info

from api.context import Context
from api.payloads import payload
from api.rights.inputs import ExportMyDataInput
from api.rights.types import DataRequest, DataRequestError, ExportMyDataPayload
from models import jobs
from models.rights import exports

log = structlog.get_logger("accord.export")


@strawberry.type
class ExportMutations:
    @strawberry.mutation(
        description="Export everything Accord holds about you as one ZIP archive (JSON files "
        "with a README, your pictures, your consent history with signed receipts). Files an "
        "ACCESS request that a worker answers: when the archive is ready the request is "
        "COMPLETED and a link is sent in-app and by e-mail; it works once, for "
        "ACCORD_EXPORT_LINK_TTL (7 days). REQUEST_IN_PROGRESS while an export is being made."
    )
    @payload(DataRequestError, signed_in=True)
    async def export_my_data(
        self, info: Info[Context, None], input: ExportMyDataInput
    ) -> ExportMyDataPayload:
        ctx = info.context
        session = await ctx.reauthenticate(
            password=input.password, provider=input.provider, id_token=input.id_token
        )
        request = await exports.request_export(session.account, ctx.settings)
        try:
            await jobs.export_data(ctx.queue, request.id)
        except Exception as error:  # the row is the promise: the sweeper queues it
            log.warning("export not enqueued; the sweeper will", error=repr(error))
        return ExportMyDataPayload(request=DataRequest.of(request))
