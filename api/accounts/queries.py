"""Query fields of the accounts domain: the signed-in account, and the operators' view of
pending deletions."""

from __future__ import annotations

import strawberry
from strawberry.types import Info
from tortoise.expressions import Q

from api.accounts.types import Account, DeletionStatus, PendingDeletion
from api.context import Context
from api.pagination import Connection, Edge, clamp, decode_position, encode_position, page
from api.permissions import OPERATIONS, staff_only
from models.rights import deletion_queue, requests

#: What ``deletionQueue`` lists unless asked for other statuses: the deletions still owed.
OWED = deletion_queue.OWED
QUEUE_CURSOR = "deletion"


@strawberry.type
class AccountQueries:
    @strawberry.field(description="The signed-in account, or null.")
    async def viewer(self, info: Info[Context, None]) -> Account | None:
        account = await info.context.viewer()
        return Account.of(account) if account else None

    @strawberry.field(
        description="OPERATOR, PRIVACY_OFFICER: deletions, soonest next attempt first; by "
        "default those still owed (PENDING, RUNNING, FAILED, with their errors), or those "
        "in `status`. No personal data."
    )
    @staff_only(*OPERATIONS)
    async def deletion_queue(
        self,
        info: Info[Context, None],
        first: int = 100,
        after: str | None = None,
        status: list[DeletionStatus] | None = None,
    ) -> Connection[PendingDeletion]:
        first = clamp(first)
        wanted = OWED if status is None else status
        query = requests.DeletionRequest.filter(status__in=list(wanted))
        position = decode_position(QUEUE_CURSOR, after)
        if position is not None:
            moment, last_id = position
            query = query.filter(
                Q(next_attempt_at__gt=moment) | Q(next_attempt_at=moment, id__gt=last_id)
            )
        rows = await query.order_by("next_attempt_at", "id").limit(first + 1)
        edges = [
            Edge(
                cursor=encode_position(QUEUE_CURSOR, r.next_attempt_at, r.id),
                node=PendingDeletion.of(r),
            )
            for r in rows[:first]
        ]
        return page(edges, len(rows) > first)
