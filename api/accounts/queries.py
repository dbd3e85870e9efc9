"""Query fields of the accounts domain: the signed-in account, and the operators' view of
pending deletions."""

from __future__ import annotations

import strawberry
from strawberry.types import Info

from api.accounts.types import Account, PendingDeletion
from api.context import Context
from api.permissions import OPERATIONS, staff_only
from models.rights import deletion


@strawberry.type
class AccountQueries:
    @strawberry.field(description="The signed-in account, or null.")
    async def viewer(self, info: Info[Context, None]) -> Account | None:
        account = await info.context.viewer()
        return Account.of(account) if account else None

    @strawberry.field(
        description="OPERATOR, PRIVACY_OFFICER: cancellations waiting for their date, running "
        "and failed deletions (with their errors), soonest first. No personal data."
    )
    @staff_only(*OPERATIONS)
    async def deletion_queue(
        self, info: Info[Context, None], first: int = 100
    ) -> list[PendingDeletion]:
        rows = (
            await deletion.DeletionRequest.filter(
                status__in=[
                    deletion.DeletionStatus.PENDING,
                    deletion.DeletionStatus.RUNNING,
                    deletion.DeletionStatus.FAILED,
                ]
            )
            .order_by("next_attempt_at", "id")
            .limit(max(1, min(first, 500)))
        )
        return [
            PendingDeletion(
                account_id=strawberry.ID(str(r.account_id)),
                status=r.status,
                requested_at=r.requested_at,
                due_at=r.due_at,
                next_attempt_at=r.next_attempt_at,
                attempts=r.attempts,
                step=r.step,
                last_error=r.last_error,
            )
            for r in rows
        ]
