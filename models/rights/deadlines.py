"""The clock of data requests, which nobody may miss: where each open request stands against
its due date, the privacy officers warned before it is late and when it is, one extension
within what the law allows, and the figures ``/metrics`` exports.

Only a request whose clock runs (``CLOCKED_STATUSES``: VERIFIED, IN_PROGRESS) has an urgency
to keep; a RECEIVED one has no due date yet. The sweeper (``keep_the_clock``) moves
``DataRequest.urgency`` to AT_RISK (due within ``data_request_at_risk_days``) and OVERDUE
(past due) with conditional updates, then tells every privacy officer (ADMIN holds the
role) in their inbox, once per request and transition: ``urgency_notified`` records what
they were last told, and a notice is written in the same transaction as the conditional
update that claims it, so two sweeps at once (arq's unique cron can fire twice) write it
once, and a crash writes neither.

An officer may extend a request once (``extend``), with a reason, by at most what the law
of the account's region allows (``data_request_max_extension_days``, or its per-region
table), and only before the due date passes; the user is told at once, in the app and by
e-mail, with the reason and the new date (GDPR Art 12(3)).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TypeVar

import structlog
from tortoise.expressions import RawSQL
from tortoise.functions import Count
from tortoise.models import Model
from tortoise.queryset import QuerySet
from tortoise.transactions import in_transaction

from accord.settings import Settings
from models import clock
from models.accounts.account import Account, AccountStatus, Role
from models.errors import DomainError
from models.notifications.inbox import (
    Channel,
    DeliveryStatus,
    Notification,
    NotificationKind,
    notify,
)
from models.notifications.messages import Message, render
from models.rights import audit
from models.rights.data_requests import for_region
from models.rights.errors import RightsErrorCode
from models.rights.requests import (
    CLOCKED_STATUSES,
    DataRequest,
    DataRequestKind,
    DataRequestStatus,
    Urgency,
)
from models.text import clean_text

log = structlog.get_logger("accord.rights")

M = TypeVar("M", bound=Model)

REASON_MAX = 500
#: Who is warned of requests at risk and overdue.
OFFICER_ROLES = (Role.PRIVACY_OFFICER, Role.ADMIN)
NOTICE_KINDS = {
    Urgency.AT_RISK: NotificationKind.DATA_REQUEST_AT_RISK,
    Urgency.OVERDUE: NotificationKind.DATA_REQUEST_OVERDUE,
}


def _when(moment: datetime) -> str:
    return f"{moment:%Y-%m-%d %H:%M} UTC"


def urgency_within(due_at: datetime, moment: datetime, at_risk: timedelta) -> Urgency:
    """Where a clock due at ``due_at`` stands at ``moment``: AT_RISK within ``at_risk`` of
    its due date, OVERDUE from it on. Every clock of the service (data requests, the
    authority report of a security incident) reads its urgency here."""
    if due_at <= moment:
        return Urgency.OVERDUE
    if due_at <= moment + at_risk:
        return Urgency.AT_RISK
    return Urgency.ON_TIME


def urgency_at(due_at: datetime, moment: datetime, settings: Settings) -> Urgency:
    return urgency_within(due_at, moment, timedelta(days=settings.data_request_at_risk_days))


# --- the sweeper ----------------------------------------------------------------------------


async def mark_clock(
    clocked: QuerySet[M], moment: datetime, at_risk: timedelta, due: str = "due_at"
) -> dict[Urgency, int]:
    """The rows of ``clocked`` (whose clocks run; due date in ``due``, and ``urgency`` and
    ``urgency_notified`` columns) get the urgency their due date gives them at ``moment``;
    how many moved to each. Conditional updates: a second sweep finds nothing to move."""
    at_risk_from = moment + at_risk
    return {
        Urgency.OVERDUE: await clocked.filter(**{f"{due}__lte": moment})
        .exclude(urgency=Urgency.OVERDUE)
        .update(urgency=Urgency.OVERDUE),
        Urgency.AT_RISK: await clocked.filter(**{f"{due}__gt": moment, f"{due}__lte": at_risk_from})
        .exclude(urgency=Urgency.AT_RISK)
        .update(urgency=Urgency.AT_RISK),
        # A due date moved out (an extension, a longer at-risk setting): a later warning is
        # a new one.
        Urgency.ON_TIME: await clocked.filter(**{f"{due}__gt": at_risk_from})
        .exclude(urgency=Urgency.ON_TIME)
        .update(urgency=Urgency.ON_TIME, urgency_notified=Urgency.ON_TIME),
    }


async def mark_urgencies(settings: Settings) -> dict[Urgency, int]:
    """Every request whose clock runs gets the urgency its due date gives it now."""
    return await mark_clock(
        DataRequest.filter(status__in=CLOCKED_STATUSES),
        clock.now(),
        timedelta(days=settings.data_request_at_risk_days),
    )


async def officers() -> list[int]:
    """The accounts warned of requests at risk and overdue."""
    found = Account.filter(role__in=OFFICER_ROLES, status=AccountStatus.ACTIVE).only("id")
    return [account.id for account in await found]


async def notify_officers(settings: Settings) -> int:
    """Tell the officers of each request that became AT_RISK or OVERDUE since they were
    last told; how many requests they were told of."""
    owed: list[DataRequest] = []
    for urgency in NOTICE_KINDS:
        owed += (
            await DataRequest.filter(status__in=CLOCKED_STATUSES, urgency=urgency)
            .exclude(urgency_notified=urgency)
            .order_by("due_at", "id")
            .limit(settings.sweep_batch_size)
        )
    if not owed:
        return 0
    recipients = await officers()
    if not recipients:
        log.warning("data requests at risk or overdue, and no privacy officer to tell")
    told = 0
    for request in owed:
        if await _tell_officers(request, recipients):
            told += 1
    return told


async def _tell_officers(request: DataRequest, recipients: list[int]) -> bool:
    """One notice per officer, written with the claim that makes it once."""
    urgency = Urgency(request.urgency)
    assert request.due_at is not None  # a clocked request has its due date
    moment = clock.now()
    days_left = max(0, (request.due_at - moment).days)
    message = render(
        NOTICE_KINDS[urgency],
        {
            "request_id": request.id,
            "kind": str(request.kind),
            "due_at": _when(request.due_at),
            "days_left": "less than a day" if days_left < 1 else f"{days_left} days",
        },
    )
    return await tell_once(
        DataRequest.filter(
            id=request.id, urgency=urgency, urgency_notified=request.urgency_notified
        ),
        urgency,
        NOTICE_KINDS[urgency],
        message,
        recipients,
    )


async def tell_once(
    claim: QuerySet[M],
    urgency: Urgency,
    kind: NotificationKind,
    message: Message,
    recipients: list[int],
) -> bool:
    """One in-app notice per officer, written in the transaction of the conditional update
    (``claim``: the row as it was read, not yet told of ``urgency``) that records it as
    told; False when another sweep told them, or the row moved on."""
    moment = clock.now()
    async with in_transaction("default"):
        if not await claim.update(urgency_notified=urgency):
            return False
        await Notification.bulk_create(
            [
                Notification(
                    account_id=officer,
                    kind=kind,
                    channel=Channel.IN_APP,
                    title=message.subject,
                    body=message.body,
                    sent_at=moment,
                    status=DeliveryStatus.SENT,
                )
                for officer in recipients
            ]
        )
    return True


async def keep_the_clock(settings: Settings) -> dict[str, int]:
    """The sweeper's step: urgencies, then the officers' notices."""
    moved = await mark_urgencies(settings)
    return {
        "data_requests_at_risk": moved[Urgency.AT_RISK],
        "data_requests_overdue": moved[Urgency.OVERDUE],
        "data_request_notices": await notify_officers(settings),
    }


# --- extension ------------------------------------------------------------------------------


def max_extension_days(settings: Settings, region: str | None) -> int:
    """The most days one extension may add under the law that applies to ``region``."""
    return for_region(
        settings.data_request_max_extension_days_by_region,
        region,
        settings.data_request_max_extension_days,
    )


def _not_extendable(request: DataRequest, moment: datetime) -> DomainError | None:
    """Why ``request`` cannot be extended now, if it cannot."""
    if request.status == DataRequestStatus.RECEIVED:
        return DomainError(
            RightsErrorCode.IDENTITY_NOT_VERIFIED,
            "id",
            "the requester's identity is not verified yet: no clock runs",
        )
    if request.status not in CLOCKED_STATUSES:
        return DomainError(RightsErrorCode.ALREADY_DECIDED, "id", "this request was answered")
    if request.extended_at is not None:
        return DomainError(
            RightsErrorCode.ALREADY_EXTENDED,
            "id",
            f"this request was extended on {_when(request.extended_at)}: only once",
        )
    if request.due_at is None or request.due_at <= moment:
        return DomainError(
            RightsErrorCode.PAST_DUE,
            "id",
            "this request is past its due date: answer it, it can no longer be extended",
        )
    return None


async def extend(
    officer: Account, request_id: int, days: int, reason: str, settings: Settings
) -> DataRequest:
    """Move the due date of an open request ``days`` later, once, for ``reason``; the user
    is told at once, and the staff audit log records who extended whose request, and why."""
    reason = clean_text(reason, "reason", REASON_MAX, multiline=True)
    request = await DataRequest.get_or_none(id=request_id)
    if request is None:
        raise DomainError(RightsErrorCode.NOT_FOUND, "id", "no such data request")
    most = max_extension_days(settings, request.region)
    if not 1 <= days <= most:
        raise DomainError(
            RightsErrorCode.INVALID,
            "days",
            f"an extension here adds 1 to {most} days"
            if most
            else "the law that applies here allows no extension",
        )
    moment = clock.now()
    refused = _not_extendable(request, moment)
    if refused is not None:
        raise refused
    assert request.due_at is not None and request.account_id is not None  # clocked
    old_due = request.due_at
    new_due = old_due + timedelta(days=days)
    urgency = urgency_at(new_due, moment, settings)
    async with in_transaction("default"):
        moved = await DataRequest.filter(
            id=request.id,
            status__in=CLOCKED_STATUSES,
            extended_at__isnull=True,
            due_at__gt=moment,
        ).update(
            due_at=new_due,
            extended_at=moment,
            extension_reason=reason,
            urgency=urgency,
            # The officers' next warning is about the new date.
            urgency_notified=Urgency.ON_TIME,
        )
        if not moved:  # answered, extended or due meanwhile
            fresh = await DataRequest.get(id=request.id)
            raise _not_extendable(fresh, moment) or DomainError(
                RightsErrorCode.CONFLICT, "id", "the request changed meanwhile: try again"
            )
        await _tell_user(request, old_due, new_due, reason)
        await audit.record(
            officer,
            audit.StaffAction.EXTEND_DATA_REQUEST,
            subject_id=request.account_id,
            resource="DataRequest",
            resource_id=str(request.id),
            reason=reason,
        )
    return await DataRequest.get(id=request.id)


async def _tell_user(
    request: DataRequest, old_due: datetime, new_due: datetime, reason: str
) -> None:
    """In the app, and by e-mail (to the verified address, if the account has one)."""
    account = await Account.get(id=request.account_id)
    message = render(
        NotificationKind.DATA_REQUEST_EXTENDED,
        {
            "what": DataRequestKind(request.kind).words,
            "received_at": _when(request.received_at),
            "old_due_at": _when(old_due),
            "due_at": _when(new_due),
            "reason": reason,
        },
    )
    await notify(account, NotificationKind.DATA_REQUEST_EXTENDED, message.subject, message.body)


# --- figures --------------------------------------------------------------------------------


async def open_figures(settings: Settings) -> dict[str, dict[str, int]]:
    """Requests whose clock runs (``open``), and of those the ones due within the at-risk
    window (``at_risk``) and past due (``overdue``), by kind: from their due dates now, not
    from the sweeper's marks, so a stopped sweeper cannot hide a late request. Every kind is
    listed, at 0 when it has none."""
    moment = clock.now()
    at_risk_from = moment + timedelta(days=settings.data_request_at_risk_days)
    clocked = DataRequest.filter(status__in=CLOCKED_STATUSES)
    figures: dict[str, dict[str, int]] = {}
    for name, query in (
        ("open", clocked),
        ("at_risk", clocked.filter(due_at__gt=moment, due_at__lte=at_risk_from)),
        ("overdue", clocked.filter(due_at__lte=moment)),
    ):
        rows = (
            await query.annotate(n=Count(RawSQL("*")))  # type: ignore[arg-type]
            .group_by("kind")
            .values("kind", "n")
        )
        counts = dict.fromkeys((kind.value for kind in DataRequestKind), 0)
        counts.update({str(row["kind"]): int(row["n"]) for row in rows})
        figures[name] = counts
    return figures
