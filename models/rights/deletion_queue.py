"""What operators do with the deletion queue: list it, retry a deletion that failed, and
postpone one, within bounds, with a reason. Every change is in the staff audit log, its
subject the account being deleted.

The row is the promise (``models.rights.deletion``): retrying makes the request due now and
queues its job at once, and if the queue is away the sweeper queues it at its next run.

**Retry** is for a deletion whose grace period is over and that is not running: FAILED, or
PENDING with its next attempt later than now (a postponement), or RUNNING under a lease
that expired (its worker died). It becomes PENDING and due now. ``attempts`` is kept, not
reset: it counts the runs for operators, and it names the deletion's job (``models.jobs``),
so the retry's job gets a new id that no dead job can hold. ``last_error`` is kept until the
next run ends. A deletion still in its grace period is refused: until then the user may
restore the account, and no operator may delete it early.

**Postpone** moves the next attempt of a deletion that is waiting (PENDING or FAILED) later,
never past ``ACCORD_DELETION_MAX_POSTPONE_DAYS`` after its grace period ended nor past the
due date of the user's deletion request: the policy promises the deletion, so a delay has a
bound and a reason. The due date itself (``due_at``, the end of the grace period the user
was told) does not move, so the account cannot be restored for longer than it was promised,
and a deletion that has started (FAILED after some steps) never looks restorable.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import UTC, datetime, timedelta
from typing import cast

import structlog
from tortoise.expressions import Q
from tortoise.transactions import in_transaction

from accord.settings import Settings
from models import clock, jobs
from models.accounts.account import Account
from models.accounts.errors import AccountErrorCode
from models.accounts.staff import OPERATIONS, require_role
from models.errors import DomainError
from models.queue import TRANSPORT_ERRORS, Queue
from models.rights import audit
from models.rights.requests import (
    OPEN_STATUSES,
    DataRequest,
    DataRequestKind,
    DeletionRequest,
    DeletionStatus,
)
from models.text import clean_text

log = structlog.get_logger("accord.deletion")

#: What ``deletionQueue`` and ``accord deletions list`` show unless asked: those still owed.
OWED = (DeletionStatus.PENDING, DeletionStatus.RUNNING, DeletionStatus.FAILED)

#: What ``retry_deletion`` writes in the staff audit log when given no reason.
RETRY_REASON = "retried a deletion that failed or was waiting"

RESOURCE = "DeletionRequest"


async def deletion_queue(
    statuses: Collection[DeletionStatus] = OWED,
    first: int = 100,
    after: tuple[datetime, int] | None = None,
) -> list[DeletionRequest]:
    """Deletions in ``statuses``, soonest next attempt first (ties by id), after the
    position ``after`` (a row's ``next_attempt_at`` and id); ``first + 1`` rows, so the
    caller knows if more exist. No personal data: ids, dates, counts, the last error. One
    query for ``deletionQueue``, the console and ``accord deletions list`` alike."""
    query = DeletionRequest.filter(status__in=list(statuses))
    if after is not None:
        moment, last_id = after
        query = query.filter(
            Q(next_attempt_at__gt=moment) | Q(next_attempt_at=moment, id__gt=last_id)
        )
    return await query.order_by("next_attempt_at", "id").limit(first + 1)


async def _request(request_id: int) -> DeletionRequest:
    request = await DeletionRequest.get_or_none(id=request_id)
    if request is None:
        raise DomainError(AccountErrorCode.NOT_FOUND, "id", "no such deletion")
    return request


def _not_waiting(request: DeletionRequest, moment: datetime) -> DomainError | None:
    """Why ``request`` cannot be retried or postponed: finished, cancelled, or running."""
    if request.status == DeletionStatus.DONE:
        return DomainError(AccountErrorCode.ACCOUNT_DELETED, "id", "this deletion is done")
    if request.status == DeletionStatus.CANCELLED:
        return DomainError(
            AccountErrorCode.DELETION_CANCELLED,
            "id",
            "the user restored the account: there is no deletion",
        )
    lease_until = request.lease_until
    if request.status == DeletionStatus.RUNNING and lease_until and lease_until >= moment:
        return DomainError(
            AccountErrorCode.DELETION_RUNNING,
            "id",
            f"a worker is deleting this account now (its lease ends {_when(lease_until)})",
        )
    return None


def _when(moment: datetime) -> str:
    return f"{moment.astimezone(UTC):%Y-%m-%d %H:%M} UTC"


async def retry_deletion(
    staff: Account, request_id: int, queue: Queue | None, reason: str | None = None
) -> DeletionRequest:
    """Make a deletion due now and queue its job (see the module); ``queue`` None leaves the
    job to the sweeper. Returns the request as it now stands."""
    require_role(staff, *OPERATIONS)
    why = clean_text(reason or RETRY_REASON, "reason", audit.REASON_MAX, multiline=True)
    request = await _request(request_id)
    moment = clock.now()
    refused = _not_waiting(request, moment)
    if refused is not None:
        raise refused
    if request.due_at > moment:
        raise DomainError(
            AccountErrorCode.IN_GRACE_PERIOD,
            "id",
            f"the grace period runs until {_when(request.due_at)}: the user may still "
            "restore the account",
        )
    async with in_transaction("default"):
        if request.status != DeletionStatus.RUNNING:  # a dead run's lease: the job takes it
            made_due = await DeletionRequest.filter(
                id=request.id, status=request.status, attempts=request.attempts
            ).update(status=DeletionStatus.PENDING, next_attempt_at=moment)
            if not made_due:
                raise DomainError(
                    AccountErrorCode.CONFLICT, "id", "the deletion changed meanwhile: try again"
                )
        await audit.record(
            staff,
            audit.StaffAction.RETRY_DELETION,
            subject_id=request.account_id,
            resource=RESOURCE,
            resource_id=str(request.id),
            reason=why,
        )
    request = await DeletionRequest.get(id=request.id)
    if queue is not None:
        try:
            await jobs.delete_account(queue, request.account_id, request.attempts)
        except TRANSPORT_ERRORS as error:  # the row is the promise: the sweeper queues it
            log.warning("retried deletion not queued; the sweeper will", error=repr(error))
    return request


async def postpone_limit(request: DeletionRequest, settings: Settings) -> datetime:
    """The latest a deletion may be postponed to (see the module)."""
    limit: datetime = request.due_at + timedelta(days=settings.deletion_max_postpone_days)
    asked = cast(
        "list[datetime | None]",  # Tortoise types flat values_list as tuples
        await DataRequest.filter(
            account_id=request.account_id,
            kind=DataRequestKind.ACCOUNT_DELETION,
            status__in=OPEN_STATUSES,
        ).values_list("due_at", flat=True),
    )
    return min([limit, *(due for due in asked if due is not None)])


async def postpone_deletion(
    staff: Account, request_id: int, until: datetime, reason: str, settings: Settings
) -> DeletionRequest:
    """Move a waiting deletion's next attempt to ``until`` (see the module), for ``reason``.
    Returns the request as it now stands."""
    require_role(staff, *OPERATIONS)
    if not (reason or "").strip():
        raise DomainError(AccountErrorCode.REQUIRED, "reason", "say why it is postponed")
    why = clean_text(reason, "reason", audit.REASON_MAX, multiline=True)
    if until.tzinfo is None:  # a date without a zone is read as UTC
        until = until.replace(tzinfo=UTC)
    request = await _request(request_id)
    moment = clock.now()
    refused = _not_waiting(request, moment)
    if refused is None and request.status == DeletionStatus.RUNNING:  # a dead run's lease
        refused = DomainError(
            AccountErrorCode.DELETION_RUNNING, "id", "a deletion that has started is retried"
        )
    if refused is not None:
        raise refused
    if until <= max(moment, request.next_attempt_at):
        raise DomainError(
            AccountErrorCode.INVALID,
            "until",
            f"must be later than its next attempt ({_when(max(moment, request.next_attempt_at))})",
        )
    limit = await postpone_limit(request, settings)
    if until > limit:
        raise DomainError(
            AccountErrorCode.INVALID,
            "until",
            f"this deletion may be postponed until {_when(limit)} at the latest",
        )
    async with in_transaction("default"):
        moved = await DeletionRequest.filter(
            id=request.id,
            status__in=[DeletionStatus.PENDING, DeletionStatus.FAILED],
            attempts=request.attempts,
        ).update(next_attempt_at=until)
        if not moved:
            raise DomainError(
                AccountErrorCode.CONFLICT, "id", "the deletion changed meanwhile: try again"
            )
        await audit.record(
            staff,
            audit.StaffAction.POSTPONE_DELETION,
            subject_id=request.account_id,
            resource=RESOURCE,
            resource_id=str(request.id),
            reason=f"until {_when(until)}: {why}"[: audit.REASON_MAX],
        )
    return await DeletionRequest.get(id=request.id)
