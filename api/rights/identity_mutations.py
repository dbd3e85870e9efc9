"""Mutation fields for a data request filed without signing in: fileDataRequest and
verifyDataRequest (rules in ``models.rights.identity``)."""

from __future__ import annotations

import strawberry
import structlog
from strawberry.types import Info

from api.accounts.sign_in import send_notices
from api.context import Context
from api.payloads import payload
from api.rights.inputs import FileDataRequestInput, VerifyDataRequestInput
from api.rights.types import (
    DataRequest,
    DataRequestError,
    FileDataRequestPayload,
    VerifyDataRequestPayload,
)
from models import jobs
from models.rights import identity
from models.rights.requests import DataRequestKind

log = structlog.get_logger("accord.rights")


@strawberry.type
class IdentityMutations:
    """For a user who cannot sign in: the identity is proven by a code sent to the address
    on file, and the answer never tells whether an account exists."""

    @strawberry.mutation(
        description="No sign-in: ask for an export (ACCESS) or the deletion of the account "
        "named (ACCOUNT_DELETION), proven by a code sent to its e-mail address or phone "
        "number on file; correcting or erasing some rows needs signing in. The answer is the same "
        "whether or not the account exists or the address is its own; only then does a code "
        "go out. Codes are limited per account name and per address (`RATE_LIMITED`)."
    )
    @payload(DataRequestError)
    async def file_data_request(
        self, info: Info[Context, None], input: FileDataRequestInput
    ) -> FileDataRequestPayload:
        ctx = info.context
        filed = await identity.file_signed_out(
            input.kind, input.account_name, input.email, input.phone, input.note, ctx.settings
        )
        await send_notices(ctx)  # whether or not a code was written: the same work
        return FileDataRequestPayload(handle=filed.handle, expires_at=filed.expires_at)

    @strawberry.mutation(
        description="No sign-in: the code sent for the request `handle` names. Right, and the "
        "request is VERIFIED and its clock starts; wrong (`INVALID_CODE`), expired "
        "(`CODE_EXPIRED`), used (`CODE_USED`) or tried too often (`TOO_MANY_ATTEMPTS`), and "
        "nothing moves."
    )
    @payload(DataRequestError)
    async def verify_data_request(
        self, info: Info[Context, None], input: VerifyDataRequestInput
    ) -> VerifyDataRequestPayload:
        ctx = info.context
        request, cancelled = await identity.verify(input.handle, input.code, ctx.settings)
        if request.kind == DataRequestKind.ACCESS:
            try:
                await jobs.export_data(ctx.queue, request.id)
            except Exception as error:  # the row is the promise: the sweeper queues it
                log.warning("export not enqueued; the sweeper will", error=repr(error))
        await send_notices(ctx)  # a cancellation's notice
        if cancelled is None:
            return VerifyDataRequestPayload(request=DataRequest.of(request))
        return VerifyDataRequestPayload(
            request=DataRequest.of(request),
            erasure_receipt_id=strawberry.ID(cancelled.receipt_id),
            erasure_receipt_secret=cancelled.receipt_secret,
        )
