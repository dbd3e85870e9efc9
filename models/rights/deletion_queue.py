"""The deletions operators watch: owed ones by next attempt, with their errors. One query
for ``deletionQueue`` (GraphQL) and the console's deletions page alike."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime

from tortoise.expressions import Q

from models.rights.requests import DeletionRequest, DeletionStatus

#: What is listed unless other statuses are asked for: the deletions still owed.
OWED = (DeletionStatus.PENDING, DeletionStatus.RUNNING, DeletionStatus.FAILED)


async def deletion_queue(
    statuses: Collection[DeletionStatus],
    first: int,
    after: tuple[datetime, int] | None = None,
) -> list[DeletionRequest]:
    """Soonest next attempt first (ties by id), after the position ``after`` (a row's
    ``next_attempt_at`` and id); ``first + 1`` rows so the caller knows if more exist."""
    query = DeletionRequest.filter(status__in=list(statuses))
    if after is not None:
        moment, last_id = after
        query = query.filter(
            Q(next_attempt_at__gt=moment) | Q(next_attempt_at=moment, id__gt=last_id)
        )
    return await query.order_by("next_attempt_at", "id").limit(first + 1)
