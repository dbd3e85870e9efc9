"""Mutation fields for operators steering a campaign: resume one that stalled, cancel one
that must not go on (rules in ``models.notifications.campaign_actions``)."""

from __future__ import annotations

import strawberry
from strawberry.types import Info

from api.context import Context
from api.nodes import row_id_of
from api.notifications.inputs import CancelCampaignInput, ResumeCampaignInput
from api.notifications.types import (
    Campaign,
    CancelCampaignPayload,
    NotificationError,
    ResumeCampaignPayload,
)
from api.payloads import payload
from api.permissions import OPERATIONS
from models.errors import DomainError
from models.notifications import campaign_actions
from models.notifications.errors import NotificationErrorCode


def _campaign_id(raw: strawberry.ID) -> int:
    campaign_id = row_id_of(raw, "Campaign")
    if campaign_id is None:
        raise DomainError(NotificationErrorCode.NOT_FOUND, "id", "no such campaign")
    return campaign_id


@strawberry.type
class CampaignMutations:
    @strawberry.mutation(
        description="OPERATOR, PRIVACY_OFFICER: queue a stalled campaign's fan-out and "
        "delivery jobs again, under fresh job ids; calling it again before anything moved "
        "queues nothing more. Refused when it is not stalled (NOT_STALLED), DONE "
        "(CAMPAIGN_FINISHED) or CANCELLED (CAMPAIGN_CANCELLED). Recorded in the staff audit "
        "log."
    )
    @payload(NotificationError, roles=OPERATIONS)
    async def resume_campaign(
        self, info: Info[Context, None], input: ResumeCampaignInput
    ) -> ResumeCampaignPayload:
        ctx = info.context
        staff = await ctx.require_viewer()
        row, queued = await campaign_actions.resume_campaign(
            staff, _campaign_id(input.id), ctx.queue, ctx.settings
        )
        return ResumeCampaignPayload(campaign=await Campaign.of(row), jobs_queued=queued)

    @strawberry.mutation(
        description="OPERATOR, PRIVACY_OFFICER: stop a campaign for good, with a reason: no "
        "message not yet sent goes out (they become CANCELLED; a batch being sent right "
        "now still goes), and in-app notices already written stay. Cancelling it again "
        "changes nothing; a DONE campaign is refused (CAMPAIGN_FINISHED). Recorded in the "
        "staff audit log."
    )
    @payload(NotificationError, roles=OPERATIONS)
    async def cancel_campaign(
        self, info: Info[Context, None], input: CancelCampaignInput
    ) -> CancelCampaignPayload:
        staff = await info.context.require_viewer()
        row = await campaign_actions.cancel_campaign(staff, _campaign_id(input.id), input.reason)
        return CancelCampaignPayload(campaign=await Campaign.of(row))
