"""A privacy officer decides a correction or erasure request: FULFIL (the row changes, or the
rows are erased) or REJECT (with a reason the user is shown).

Everything a decision does commits together: the request's status (a conditional update
from an open status, so of two officers deciding at once one wins and the other is told
ALREADY_DECIDED), the change to the user's data, the staff audit entries
(``models.rights.audit``) and the user's notice. A change that cannot be made (the row is
gone) rolls all of it back and leaves the request open. (A picture's file, once deleted,
stays deleted: a retry finds the row and finishes, as in ``delete_picture``.)

Exports (ACCESS) are answered by their worker and an account deletion by its grace period:
neither is decided here.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from tortoise.transactions import in_transaction

from accord.settings import Settings
from models import clock
from models.accounts.account import Account
from models.errors import DomainError
from models.notifications.inbox import NotificationKind, notify
from models.personal.storage import Storage
from models.rights import audit
from models.rights.audit import StaffAction
from models.rights.corrections import apply_correction
from models.rights.erasures import apply_erasure, targets_of
from models.rights.errors import RightsErrorCode
from models.rights.requests import (
    OPEN_STATUSES,
    DataRequest,
    DataRequestKind,
    DataRequestStatus,
)
from models.text import clean_text

REASON_MAX = 500
#: The requests staff decide here.
DECIDED_HERE = (DataRequestKind.CORRECTION, DataRequestKind.ERASURE)


class Decision(StrEnum):
    FULFIL = "FULFIL"
    REJECT = "REJECT"


async def request_to_decide(request_id: int | None) -> DataRequest:
    """An open correction or erasure request, else the code that says why not."""
    request = await DataRequest.get_or_none(id=request_id) if request_id else None
    if request is None or request.account_id is None:
        raise DomainError(RightsErrorCode.NOT_FOUND, "id", "no such data request")
    if request.kind not in DECIDED_HERE:
        raise DomainError(
            RightsErrorCode.NOT_DECIDABLE,
            "id",
            "an export is answered by its worker and an account deletion by its grace period; "
            "only corrections and erasures are decided",
        )
    if request.status not in OPEN_STATUSES:
        raise DomainError(
            RightsErrorCode.ALREADY_DECIDED, "id", f"this request is already {request.status}"
        )
    return request


async def decide(
    officer: Account,
    request_id: int | None,
    decision: Decision,
    reason: str | None,
    settings: Settings,
    storage: Storage,
) -> DataRequest:
    """Fulfil or reject an open correction or erasure request; the decided request."""
    reason = clean_text(
        reason, "reason", REASON_MAX, required=decision == Decision.REJECT, multiline=True
    )
    request = await request_to_decide(request_id)
    subject_id = request.account_id
    if subject_id is None:  # request_to_decide refused it: narrows the type
        raise DomainError(RightsErrorCode.NOT_FOUND, "id", "no such data request")
    if subject_id == officer.id:
        raise DomainError(
            RightsErrorCode.FORBIDDEN, "id", "another officer decides your own request"
        )
    if decision == Decision.FULFIL and request.status == DataRequestStatus.RECEIVED:
        raise DomainError(
            RightsErrorCode.IDENTITY_NOT_VERIFIED,
            "id",
            "the requester's identity is not verified yet: it cannot be fulfilled",
        )
    details: dict[str, Any] = dict(request.details)
    why = reason or f"the subject's {request.kind.lower()} request"
    status = (
        DataRequestStatus.COMPLETED if decision == Decision.FULFIL else DataRequestStatus.REJECTED
    )
    async with in_transaction("default"):
        moment = clock.now()
        if not await DataRequest.filter(id=request.id, status__in=OPEN_STATUSES).update(
            status=status, completed_at=moment, reason=reason, decided_by_id=officer.id
        ):
            raise DomainError(
                RightsErrorCode.ALREADY_DECIDED, "id", "another officer decided it just now"
            )
        await audit.record(
            officer,
            StaffAction.DECIDE_DATA_REQUEST,
            subject_id=subject_id,
            resource="DataRequest",
            resource_id=str(request.id),
            reason=why,
        )
        if decision == Decision.FULFIL:
            await _fulfil(officer, subject_id, request, details, why, settings, storage)
        account = await Account.get(id=subject_id)
        await notify(
            account, NotificationKind.DATA_REQUEST_DECIDED, *_notice(request, status, reason)
        )
    return await DataRequest.get(id=request.id)


async def _fulfil(
    officer: Account,
    subject_id: int,
    request: DataRequest,
    details: dict[str, Any],
    why: str,
    settings: Settings,
    storage: Storage,
) -> None:
    if request.kind == DataRequestKind.CORRECTION:
        await apply_correction(subject_id, details)
        await audit.record(
            officer,
            StaffAction.CORRECT,
            subject_id=subject_id,
            resource=f"{details['kind']}.{details['field']}",
            resource_id=str(details["rowId"]),
            reason=why,
        )
        return
    targets = targets_of(details)
    await apply_erasure(subject_id, targets, settings, storage)
    for target in targets:
        await audit.record(
            officer,
            StaffAction.ERASE,
            subject_id=subject_id,
            resource=target.entry.kind,
            resource_id=",".join(target.row_ids or ()),
            reason=why,
        )


def _notice(request: DataRequest, status: DataRequestStatus, reason: str) -> tuple[str, str]:
    what = "correction" if request.kind == DataRequestKind.CORRECTION else "erasure"
    filed = f"{request.received_at:%Y-%m-%d}"
    if status == DataRequestStatus.COMPLETED:
        done = "corrected" if what == "correction" else "erased"
        body = f"Your {what} request of {filed} is done: the data you named is {done}."
        return f"Your {what} request is done", body + (f" {reason}" if reason else "")
    return (
        f"Your {what} request was declined",
        f"Your {what} request of {filed} was declined: {reason}",
    )
