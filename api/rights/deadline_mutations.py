"""Mutation fields for the clock of data requests: extendDataRequest (rules in
``models.rights.deadlines``)."""

from __future__ import annotations

import strawberry
from strawberry.types import Info

from api.accounts.sign_in import send_notices
from api.context import Context
from api.nodes import row_id_of
from api.payloads import payload
from api.permissions import PRIVACY_OFFICE
from api.rights.inputs import ExtendDataRequestInput
from api.rights.types import DataRequest, DataRequestError, ExtendDataRequestPayload
from models.errors import DomainError
from models.rights import deadlines
from models.rights.errors import RightsErrorCode


@strawberry.type
class DeadlineMutations:
    @strawberry.mutation(
        description="PRIVACY_OFFICER: give a request more time, once, with a reason, before "
        "its due date, by at most what the law of the account's region allows "
        "(ACCORD_DATA_REQUEST_MAX_EXTENSION_DAYS); the user is told at once, in the app and "
        "by e-mail, why and until when."
    )
    @payload(DataRequestError, roles=PRIVACY_OFFICE)
    async def extend_data_request(
        self, info: Info[Context, None], input: ExtendDataRequestInput
    ) -> ExtendDataRequestPayload:
        ctx = info.context
        request_id = row_id_of(input.id, "DataRequest")
        if request_id is None:
            raise DomainError(RightsErrorCode.NOT_FOUND, "id", "no such data request")
        officer = await ctx.require_viewer()
        request = await deadlines.extend(
            officer, request_id, input.days, input.reason, ctx.settings
        )
        await send_notices(ctx)
        return ExtendDataRequestPayload(request=DataRequest.of(request))
