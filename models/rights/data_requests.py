"""Filing and following data-subject requests, and their clock.

Every right a user exercises is a ``DataRequest`` row (the database is the ledger): filed
RECEIVED; VERIFIED when the identity is proven, which starts the clock; IN_PROGRESS while it
is worked; COMPLETED, REJECTED (with a reason) or WITHDRAWN. ``due_at`` is the verification
time plus the period of the law that applies (``period_for``): the policy's 15 days by
default (``ACCORD_DATA_REQUEST_DAYS``), another law's by the account's region.

A signed-in user who has just proven who they are (recent authentication) is verified at
once (``file_request(..., verified=True)``); one who cannot sign in files without signing in
and is verified by a code sent to the address on file (``models.rights.identity``), after
which ``after_verification`` sets the answer going. An account deletion's clock starts when
its grace period ends: the grace is the user's time to change their mind, not the service's
delay (``file_account_deletion``). The clock itself (AT_RISK, OVERDUE, the officers' notices,
one extension) is ``models.rights.deadlines``.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

import structlog
from tortoise.transactions import in_transaction

from accord.settings import Settings
from models import clock
from models.accounts.account import Account
from models.errors import DomainError
from models.rights.errors import RightsErrorCode
from models.rights.requests import (
    OPEN_STATUSES,
    DataRequest,
    DataRequestKind,
    DataRequestStatus,
)

log = structlog.get_logger("accord.rights")


def for_region(by_region: Mapping[str, int], region: str | None, default: int) -> int:
    """What a per-region table of the settings gives ``region``: "US-CA" falls back to
    "US", then to ``default``."""
    if region:
        region = region.upper()
        for key in (region, region.split("-")[0]):
            if key in by_region:
                return by_region[key]
    return default


def period_for(settings: Settings, region: str | None) -> timedelta:
    """How long the law that applies to ``region`` gives to answer a verified request."""
    return timedelta(
        days=for_region(settings.data_request_days_by_region, region, settings.data_request_days)
    )


def due_date(settings: Settings, region: str | None, verified_at: datetime) -> datetime:
    return verified_at + period_for(settings, region)


async def open_request(account_id: int, kind: DataRequestKind) -> DataRequest | None:
    """The account's request of ``kind`` still owed an answer, if any."""
    return (
        await DataRequest.filter(account_id=account_id, kind=kind, status__in=OPEN_STATUSES)
        .order_by("-id")
        .first()
    )


async def file_request(
    account: Account,
    kind: DataRequestKind,
    settings: Settings,
    *,
    verified: bool,
    details: Mapping[str, Any] | None = None,
    one_at_a_time: bool = False,
) -> DataRequest:
    """File a request for ``account``; ``verified`` when the caller has just proven who they
    are, which starts the clock. ``one_at_a_time``: refuse while one of ``kind`` is open."""
    async with in_transaction("default"):
        if one_at_a_time and await open_request(account.id, kind) is not None:
            raise DomainError(
                RightsErrorCode.REQUEST_IN_PROGRESS,
                None,
                f"a {kind.value.lower().replace('_', ' ')} request of yours is still open; "
                "follow it in viewer.dataRequests",
            )
        moment = clock.now()
        return await DataRequest.create(
            account=account,
            kind=kind,
            status=DataRequestStatus.VERIFIED if verified else DataRequestStatus.RECEIVED,
            received_at=moment,
            verified_at=moment if verified else None,
            due_at=due_date(settings, account.region, moment) if verified else None,
            region=account.region,
            details=dict(details or {}),
        )


async def mark_verified(request: DataRequest, settings: Settings) -> DataRequest:
    """Identity proven: the clock starts now. Only a RECEIVED request moves."""
    moment = clock.now()
    due = due_date(settings, request.region, moment)
    moved = await DataRequest.filter(id=request.id, status=DataRequestStatus.RECEIVED).update(
        status=DataRequestStatus.VERIFIED, verified_at=moment, due_at=due
    )
    if moved:
        request.status, request.verified_at, request.due_at = (
            DataRequestStatus.VERIFIED,
            moment,
            due,
        )
    return request


async def start(request_id: int) -> bool:
    """VERIFIED -> IN_PROGRESS; False when it was not VERIFIED (taken, or answered)."""
    return bool(
        await DataRequest.filter(id=request_id, status=DataRequestStatus.VERIFIED).update(
            status=DataRequestStatus.IN_PROGRESS
        )
    )


async def complete(request_id: int, *, reason: str = "") -> bool:
    """Answered: an open request becomes COMPLETED; False when it was already answered.
    (Staff decisions write theirs in ``models.rights.decisions``, with who decided.)"""
    return bool(
        await DataRequest.filter(id=request_id, status__in=OPEN_STATUSES).update(
            status=DataRequestStatus.COMPLETED,
            completed_at=clock.now(),
            reason=reason[:500],
        )
    )


# --- the account deletion's request ---------------------------------------------------------


async def file_account_deletion(
    account: Account,
    settings: Settings,
    grace_ends: datetime,
    request: DataRequest | None = None,
) -> None:
    """``cancelAccount``'s entry on the list of rights: verified (cancelling takes a recent
    authentication, or ``request``, filed without signing in, was verified by a code),
    IN_PROGRESS through the grace period, due a period after it ends. Called inside the
    cancellation's transaction."""
    moment = clock.now()
    superseded = DataRequest.filter(
        account_id=account.id, kind=DataRequestKind.ACCOUNT_DELETION, status__in=OPEN_STATUSES
    )
    if request is not None:
        superseded = superseded.exclude(id=request.id)
    await superseded.update(status=DataRequestStatus.WITHDRAWN, completed_at=moment)
    due = due_date(settings, account.region, grace_ends)
    if request is not None:
        await DataRequest.filter(id=request.id).update(
            status=DataRequestStatus.IN_PROGRESS, due_at=due
        )
        return
    await DataRequest.create(
        account=account,
        kind=DataRequestKind.ACCOUNT_DELETION,
        status=DataRequestStatus.IN_PROGRESS,
        received_at=moment,
        verified_at=moment,
        due_at=due,
        region=account.region,
    )


async def close_account_deletion(account_id: int, status: DataRequestStatus) -> None:
    """The deletion finished (COMPLETED) or the account was restored (WITHDRAWN)."""
    await DataRequest.filter(
        account_id=account_id, kind=DataRequestKind.ACCOUNT_DELETION, status__in=OPEN_STATUSES
    ).update(status=status, completed_at=clock.now())
