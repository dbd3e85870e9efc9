"""Mutations of the rights domain: correction and erasure on request, and the privacy
office's decisions on them."""

from __future__ import annotations

import strawberry
from strawberry.types import Info

from api.context import Context
from api.nodes import decode, key_of, row_id_of
from api.payloads import payload
from api.permissions import PRIVACY_OFFICE
from api.rights.inputs import DecideDataRequestInput, RequestCorrectionInput, RequestErasureInput
from api.rights.types import (
    DataRequest,
    DataRequestError,
    DecideDataRequestPayload,
    RequestCorrectionPayload,
    RequestErasurePayload,
)
from models.errors import DomainError
from models.rights import corrections, decisions, erasures
from models.rights.errors import RightsErrorCode


def erasure_selection(
    kind: str | None, row_ids: list[strawberry.ID] | None
) -> dict[str, list[str] | None]:
    """Each kind a request names, with the row keys named (None: every row): the ids are the
    objects' global ids (their type names the kind) or, with ``kind``, plain row ids."""
    if row_ids is None:
        return {kind: None} if kind else {}
    selection: dict[str, list[str]] = {}
    for position, raw in enumerate(row_ids):
        if kind:
            key = key_of(raw, kind)
            named = kind
        else:
            decoded = decode(raw)
            if decoded is None:
                raise DomainError(
                    RightsErrorCode.REQUIRED, "kind", "name the kind the row ids belong to"
                )
            named, key = decoded
        if key is None:
            raise DomainError(
                RightsErrorCode.NOT_FOUND, f"rowIds.{position}", f"no such {kind} of yours"
            )
        selection.setdefault(named, []).append(key)
    return dict(selection)


@strawberry.type
class RightsMutations:
    @strawberry.mutation(
        description="Ask staff to correct what you cannot change yourself (a support message, "
        "a feedback's text): filed VERIFIED with its due date; follow it in "
        "viewer.dataRequests. Needs a recent sign-in, or password / provider + idToken."
    )
    @payload(DataRequestError, signed_in=True)
    async def request_correction(
        self, info: Info[Context, None], input: RequestCorrectionInput
    ) -> RequestCorrectionPayload:
        ctx = info.context
        session = await ctx.reauthenticate(
            password=input.password, provider=input.provider, id_token=input.id_token
        )
        # What is asked first, then which row (a global id names its kind's type).
        entry = corrections.kind_of(input.kind)
        corrections.correctable(entry, input.field)
        row = None
        if input.row_id is not None:
            row = key_of(input.row_id, entry.kind)
            if row is None:
                raise DomainError(RightsErrorCode.NOT_FOUND, "rowId", "no such row of yours")
        request = await corrections.request_correction(
            session.account,
            ctx.settings,
            kind=input.kind,
            field=input.field,
            row_key=row,
            requested_value=input.requested_value,
            note=input.note,
        )
        return RequestCorrectionPayload(request=DataRequest.of(request))

    @strawberry.mutation(
        description="Ask staff to erase some of your data, short of cancelling the account "
        "(a kind, or some rows): filed VERIFIED with its due date. Needs a recent sign-in, or "
        "password / provider + idToken."
    )
    @payload(DataRequestError, signed_in=True)
    async def request_erasure(
        self, info: Info[Context, None], input: RequestErasureInput
    ) -> RequestErasurePayload:
        ctx = info.context
        session = await ctx.reauthenticate(
            password=input.password, provider=input.provider, id_token=input.id_token
        )
        request = await erasures.request_erasure(
            session.account,
            ctx.settings,
            selection=erasure_selection(input.kind, input.row_ids),
            note=input.note,
        )
        return RequestErasurePayload(request=DataRequest.of(request))

    @strawberry.mutation(
        description="PRIVACY_OFFICER: fulfil (correct the row, erase the rows) or reject, "
        "with a reason the user is shown, a correction or erasure request; written to the "
        "staff audit log. Needs a recent sign-in (stepUp)."
    )
    @payload(DataRequestError, roles=PRIVACY_OFFICE)
    async def decide_data_request(
        self, info: Info[Context, None], input: DecideDataRequestInput
    ) -> DecideDataRequestPayload:
        ctx = info.context
        session = await ctx.reauthenticate()
        request = await decisions.decide(
            session.account,
            row_id_of(input.id, "DataRequest"),
            input.decision,
            input.reason,
            ctx.settings,
            ctx.storage,
        )
        return DecideDataRequestPayload(request=DataRequest.of(request))
