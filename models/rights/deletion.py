"""Account cancellation, the grace period, and the deletion of everything personal.

The database is the ledger: cancelling writes a ``DeletionRequest`` row with its due date;
the sweeper enqueues the rows that are due (``enqueue_due``), and ``run_deletion`` does the
work. A lost Redis, a killed worker or a retried job therefore loses nothing: the row is
still due and the next sweep enqueues it again.

``run_deletion`` is idempotent and resumable. One runner at a time holds a lease on the
request (a conditional update, so it works on SQLite and PostgreSQL alike); a second worker
given the same job sees the lease and returns. Each step runs in its own transaction and
only deletes or rewrites what is still there, so a step interrupted half-way is simply done
again. Failures are recorded on the request (``last_error``) and retried with backoff.

The steps are the map's (``models.rights.data_map.Step``): a step with no special handling
deletes every row the map finds for the account (through its account link or its devices),
and the support step clears every staff link the map names. Pictures (file before row),
feedback (per setting), support threads (per setting), the consent ledger (re-keyed) and the
tombstone are written out here.

What survives: the account row as a tombstone (status DELETED, every personal field
erased), a keyed hash of the account name until its quarantine ends, PUBLIC feedback
anonymised (per setting), support threads stripped of their messages (only if configured),
and the consent history under a random pseudonym (``models.consent.ledger.rekey_subject``).
"""

from __future__ import annotations

import secrets
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from enum import StrEnum

import structlog
from tortoise.expressions import F, Q
from tortoise.transactions import in_transaction

from accord.settings import Settings
from models import clock, retry
from models.accounts.account import Account, AccountStatus, Gender, Role
from models.accounts.errors import AccountErrorCode
from models.accounts.quarantine import AccountNameQuarantine, name_hash
from models.accounts.sessions import revoke_all
from models.consent.ledger import rekey_subject, subjects_of
from models.errors import DomainError
from models.notifications.inbox import NotificationKind, notify
from models.personal.feedback import Feedback, Visibility
from models.personal.pictures import Picture, delete_picture
from models.personal.storage import Storage
from models.personal.support import StaffAccess, SupportMessage, SupportThread
from models.rights.data_map import DATA_MAP, Erasure, PersonalData, Step, entries_of
from models.rights.data_requests import close_account_deletion, file_account_deletion
from models.rights.export_files import ExportFiles
from models.rights.exports import remove_account_exports
from models.rights.requests import (
    OPEN_STATUSES,
    DataRequest,
    DataRequestKind,
    DataRequestStatus,
    DeletionRequest,
    DeletionStatus,
)
from models.rights.subject_rows import device_ids_of

log = structlog.get_logger("accord.deletion")


class DeletionOutcome(StrEnum):
    """What one ``run_deletion`` call did."""

    DONE = "done"
    #: The account was already deleted (a late or repeated job).
    ALREADY_DONE = "already-done"
    #: Another runner holds the request's lease (or took it from us).
    BUSY = "busy"
    #: Not due: cancelled, restored, still in its grace period or backing off.
    NOT_DUE = "not-due"


# --- cancel and restore --------------------------------------------------------------------


async def cancel_account(account: Account, settings: Settings, reason: str | None) -> datetime:
    """Start the grace period: sessions end, the account stops being used, the user is told."""
    reason = (reason or "").strip()
    if len(reason) > 500:
        raise DomainError(AccountErrorCode.INVALID, "reason", "must be at most 500 characters")
    if account.status != AccountStatus.ACTIVE:
        raise DomainError(AccountErrorCode.ACCOUNT_INACTIVE, None, "this account is not active")
    moment = clock.now()
    due = moment + settings.deletion_grace
    async with in_transaction():
        await Account.filter(id=account.id).update(
            status=AccountStatus.PENDING_DELETION, deletion_due_at=due
        )
        values = {
            "status": DeletionStatus.PENDING,
            "requested_at": moment,
            "due_at": due,
            "next_attempt_at": due,
            "step": "",
            "attempts": 0,
            "last_error": "",
            "lease_token": None,
            "lease_until": None,
            "reason": reason,
        }
        if not await DeletionRequest.filter(account_id=account.id).update(**values):
            # Tortoise's create() takes using_db before **kwargs: mypy fears values fill it.
            await DeletionRequest.create(account=account, **values)  # type: ignore[arg-type]
        await file_account_deletion(account, settings, due)
        await revoke_all(account.id)
        await notify(
            account,
            NotificationKind.ACCOUNT_CANCELLED,
            "Your account is scheduled for deletion",
            f"Your account and everything personal in it will be deleted on "
            f"{due:%Y-%m-%d %H:%M} UTC. Until then you can restore it by signing in "
            "with restoreAccount.",
        )
    account.status, account.deletion_due_at = AccountStatus.PENDING_DELETION, due
    return due


async def restore_account(account: Account) -> Account:
    """Back to ACTIVE while the grace period runs and no deletion has started."""
    if account.status == AccountStatus.ACTIVE:
        return account
    if account.status != AccountStatus.PENDING_DELETION:
        raise DomainError(AccountErrorCode.ACCOUNT_DELETED, None, "this account has been deleted")
    async with in_transaction():
        cancelled = await DeletionRequest.filter(
            account_id=account.id, status=DeletionStatus.PENDING, due_at__gt=clock.now()
        ).update(status=DeletionStatus.CANCELLED, reason="")
        if not cancelled:
            raise DomainError(
                AccountErrorCode.GRACE_PERIOD_OVER,
                None,
                "the grace period is over; deletion has begun",
            )
        await Account.filter(id=account.id).update(
            status=AccountStatus.ACTIVE, deletion_due_at=None
        )
        await close_account_deletion(account.id, DataRequestStatus.WITHDRAWN)
        await notify(
            account,
            NotificationKind.ACCOUNT_RESTORED,
            "Your account is restored",
            "Your account will not be deleted. Welcome back.",
        )
    account.status, account.deletion_due_at = AccountStatus.ACTIVE, None
    return account


# --- the sweeper's side ----------------------------------------------------------------------


def _runnable(moment: datetime) -> Q:
    """Due, and not held by a live lease."""
    return Q(next_attempt_at__lte=moment) & (
        Q(status__in=[DeletionStatus.PENDING, DeletionStatus.FAILED])
        | Q(status=DeletionStatus.RUNNING, lease_until__lt=moment)
    )


async def enqueue_due(enqueue: Callable[[int, int], Awaitable[bool]], batch_size: int) -> int:
    """Enqueue a deletion for every due request (``enqueue(account_id, attempts)``, e.g.
    ``models.jobs.delete_account`` given its queue), a keyset batch at a time; returns how
    many were newly queued (ones already queued keep their place). A request whose run died
    is due again once its lease has expired, and its attempt count, which names the job
    (arq holds on to a dead run's id for its longest timeout + 10 s), has moved on."""
    moment, after, queued = clock.now(), 0, 0
    while True:
        batch = (
            await DeletionRequest.filter(_runnable(moment), id__gt=after)
            .order_by("id")
            .limit(batch_size)
            .values_list("id", "account_id", "attempts")
        )
        for request_id, account_id, attempts in batch:
            queued += bool(await enqueue(account_id, attempts))
            after = request_id
        if len(batch) < batch_size:
            return queued


# --- the worker's side -----------------------------------------------------------------------


class LeaseLost(Exception):
    """Another runner took over (our lease expired); stop without touching anything."""


async def run_deletion(account_id: int, settings: Settings, storage: Storage) -> DeletionOutcome:
    """Delete everything personal of one account; returns what happened."""
    token = secrets.token_hex(16)
    moment = clock.now()
    leased = await DeletionRequest.filter(_runnable(moment), account_id=account_id).update(
        status=DeletionStatus.RUNNING,
        lease_token=token,
        lease_until=moment + timedelta(seconds=settings.deletion_job_timeout_seconds),
        attempts=F("attempts") + 1,
    )
    if not leased:
        request = await DeletionRequest.get_or_none(account_id=account_id)
        if request is not None and request.status == DeletionStatus.DONE:
            return DeletionOutcome.ALREADY_DONE
        if request is not None and request.status == DeletionStatus.RUNNING:
            return DeletionOutcome.BUSY
        return DeletionOutcome.NOT_DUE
    try:
        for name, step in _steps(settings, storage):
            await step(account_id)
            if not await DeletionRequest.filter(account_id=account_id, lease_token=token).update(
                step=name
            ):
                raise LeaseLost
        await _finish(account_id, token, settings)
    except LeaseLost:
        log.warning("deletion lease lost", account_id=account_id)
        return DeletionOutcome.BUSY
    except Exception as error:
        request = await DeletionRequest.get(account_id=account_id)
        await DeletionRequest.filter(account_id=account_id, lease_token=token).update(
            status=DeletionStatus.FAILED,
            last_error=f"{type(error).__name__}: {error}"[:500],
            next_attempt_at=clock.now() + retry.backoff(request.attempts),
            lease_token=None,
            lease_until=None,
        )
        # Every right is answered: the deletion's own request is done, others (an export,
        # a correction) have nothing left to act on, and what a request said is erased.
        await DataRequest.filter(
            account_id=account_id,
            kind=DataRequestKind.ACCOUNT_DELETION,
            status__in=OPEN_STATUSES,
        ).update(status=DataRequestStatus.COMPLETED, completed_at=moment)
        await DataRequest.filter(account_id=account_id, status__in=OPEN_STATUSES).update(
            status=DataRequestStatus.WITHDRAWN, completed_at=moment
        )
        await DataRequest.filter(account_id=account_id).update(details={}, reason="", region=None)
        raise
    return DeletionOutcome.DONE


async def _delete_rows(entries: list[PersonalData], account_id: int) -> None:
    """Delete every row the map finds for the account, in the map's order (devices last, so
    their ids are gathered first)."""
    device_ids = await device_ids_of(account_id) if any(e.device_field for e in entries) else []
    for entry in entries:
        # Two indexed deletes, not one OR (SQLite scanned the table for the OR).
        if entry.account_field is not None:
            await entry.model.filter(**{entry.account_field: account_id}).delete()
        if entry.device_field is not None and device_ids:
            await entry.model.filter(**{f"{entry.device_field}__in": device_ids}).delete()


def _plain(step: Step) -> list[PersonalData]:
    """What ``step`` simply deletes: the map's DELETE entries found through the account."""
    return [
        entry
        for entry in entries_of(step)
        if entry.erasure == Erasure.DELETE
        and (entry.account_field is not None or entry.device_field is not None)
    ]


def _steps(
    settings: Settings, storage: Storage
) -> list[tuple[str, Callable[[int], Awaitable[None]]]]:
    def deleting(step: Step) -> Callable[[int], Awaitable[None]]:
        async def run(account_id: int) -> None:
            async with in_transaction():
                await _delete_rows(_plain(step), account_id)

        return run

    async def pictures(account_id: int) -> None:
        # One picture (or export archive) at a time, file before row: resumable.
        for picture in await Picture.filter(owner_id=account_id):
            await delete_picture(picture, storage)
        await remove_account_exports(account_id, ExportFiles.of(settings))

    async def feedback(account_id: int) -> None:
        async with in_transaction():
            private = Feedback.filter(author_id=account_id)
            if settings.public_feedback_on_deletion == "anonymize":
                private = private.filter(visibility=Visibility.PRIVATE)
                await private.delete()
                await Feedback.filter(author_id=account_id).update(author_id=None)
            else:
                await private.delete()

    async def support(account_id: int) -> None:
        async with in_transaction():
            threads = SupportThread.filter(account_id=account_id)
            if settings.retain_support_threads:
                ids = list(await threads.values_list("id", flat=True))
                await SupportMessage.filter(thread_id__in=ids).delete()
                await SupportThread.filter(id__in=ids).update(account_id=None)
            else:
                await threads.delete()
            # As staff: keep the work, not the person (every staff link the map names).
            for entry in DATA_MAP:
                if entry.staff_field is not None:
                    await entry.model.filter(**{entry.staff_field: account_id}).update(
                        **{entry.staff_field: None}
                    )
            # Staff reads of this account stay as a count of reads, not of whom.
            await StaffAccess.filter(subject_account_id=account_id).update(
                subject_account_id=None, resource_id=""
            )

    async def consent(account_id: int) -> None:
        for subject in await subjects_of(account_id):
            await rekey_subject(subject)
        async with in_transaction():
            await _delete_rows(_plain(Step.CONSENT), account_id)

    special: dict[Step, Callable[[int], Awaitable[None]]] = {
        Step.PICTURES: pictures,
        Step.FEEDBACK: feedback,
        Step.SUPPORT: support,
        Step.CONSENT: consent,
    }
    return [
        (str(step), special.get(step) or deleting(step)) for step in Step if step != Step.TOMBSTONE
    ]


async def _finish(account_id: int, token: str, settings: Settings) -> None:
    """The tombstone: status DELETED and nothing personal; the name only as a keyed hash."""
    async with in_transaction():
        account = await Account.get(id=account_id)
        if account.status != AccountStatus.DELETED:
            await AccountNameQuarantine.filter(
                name_hash=name_hash(settings, account.account_name)
            ).delete()
            await AccountNameQuarantine.create(
                name_hash=name_hash(settings, account.account_name),
                until=clock.now() + settings.account_name_quarantine,
            )
        moment = clock.now()
        await Account.filter(id=account_id).update(
            account_name=f"deleted-{account_id}",
            nickname="",
            avatar_url=None,
            gender=Gender.UNDISCLOSED,
            region=None,
            signature="",
            email=None,
            phone=None,
            password_hash=None,
            role=Role.USER,
            status=AccountStatus.DELETED,
            deletion_due_at=None,
            deleted_at=account.deleted_at or moment,
        )
        await DeletionRequest.filter(account_id=account_id, lease_token=token).update(
            status=DeletionStatus.DONE,
            step=Step.TOMBSTONE,
            completed_at=moment,
            reason="",
            last_error="",
            lease_token=None,
            lease_until=None,
        )
        # Every right is answered: the deletion's own request is done, others (an export,
        # a correction) have nothing left to act on, and what a request said is erased.
        await DataRequest.filter(
            account_id=account_id,
            kind=DataRequestKind.ACCOUNT_DELETION,
            status__in=OPEN_STATUSES,
        ).update(status=DataRequestStatus.COMPLETED, completed_at=moment)
        await DataRequest.filter(account_id=account_id, status__in=OPEN_STATUSES).update(
            status=DataRequestStatus.WITHDRAWN, completed_at=moment
        )
        await DataRequest.filter(account_id=account_id).update(details={}, reason="", region=None)
