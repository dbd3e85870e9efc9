"""Mutation fields of the deletion queue: operators retry a deletion that failed, or
postpone one, within bounds and with a reason (rules in ``models.rights.deletion_queue``)."""

from __future__ import annotations

import strawberry
from strawberry.types import Info

from api.accounts.inputs import PostponeDeletionInput, RetryDeletionInput
from api.accounts.types import (
    AccountError,
    PendingDeletion,
    PostponeDeletionPayload,
    RetryDeletionPayload,
)
from api.context import Context
from api.nodes import row_id_of
from api.payloads import payload
from api.permissions import OPERATIONS
from models.accounts.errors import AccountErrorCode
from models.errors import DomainError
from models.rights import deletion_queue


def _request_id(raw: strawberry.ID) -> int:
    request_id = row_id_of(raw, "PendingDeletion")
    if request_id is None:
        raise DomainError(AccountErrorCode.NOT_FOUND, "id", "no such deletion")
    return request_id


@strawberry.type
class DeletionQueueMutations:
    @strawberry.mutation(
        description="OPERATOR, PRIVACY_OFFICER: make a deletion whose grace period is over "
        "due now (FAILED, postponed, or left by a worker that died) and queue it; "
        "`attempts` is kept. Refused while the grace period runs (IN_GRACE_PERIOD), while a "
        "worker holds it (DELETION_RUNNING), once done (ACCOUNT_DELETED) or restored "
        "(DELETION_CANCELLED). Recorded in the staff audit log."
    )
    @payload(AccountError, roles=OPERATIONS)
    async def retry_deletion(
        self, info: Info[Context, None], input: RetryDeletionInput
    ) -> RetryDeletionPayload:
        ctx = info.context
        staff = await ctx.require_viewer()
        request = await deletion_queue.retry_deletion(staff, _request_id(input.id), ctx.queue)
        return RetryDeletionPayload(deletion=PendingDeletion.of(request))

    @strawberry.mutation(
        description="OPERATOR, PRIVACY_OFFICER: move a waiting deletion's next attempt "
        "later, with a reason, at most ACCORD_DELETION_MAX_POSTPONE_DAYS after its grace "
        "period ended and never past the due date of the user's request (else INVALID on "
        "`until`). Its `dueAt` (the end of the grace period) does not move. Recorded in the "
        "staff audit log."
    )
    @payload(AccountError, roles=OPERATIONS)
    async def postpone_deletion(
        self, info: Info[Context, None], input: PostponeDeletionInput
    ) -> PostponeDeletionPayload:
        ctx = info.context
        staff = await ctx.require_viewer()
        request = await deletion_queue.postpone_deletion(
            staff, _request_id(input.id), input.until, input.reason, ctx.settings
        )
        return PostponeDeletionPayload(deletion=PendingDeletion.of(request))
