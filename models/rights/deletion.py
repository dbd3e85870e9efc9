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

First, what is kept without the account (PUBLIC feedback, retained support threads, per
setting) is anonymised and sealed again under the deployment's kept-content key, and the
rest of the feedback and support correspondence goes. Then the account's data keys, and the
keys of its devices, are destroyed (crypto-shredding, ``destroy_data_keys``), in their own
committed transaction: from then on every sealed field, picture and archive of the account,
in any copy or backup, is unreadable. The steps are the map's (``models.rights.data_map.Step``):
each erases its kinds of the map through ``Erasers``, which deletes every row the map finds
for the account (through its account link or its devices) unless a kind has its own way:
pictures (file before row), feedback (per setting), support threads (per setting). The same
erasers erase the rows a user asked to erase (``models.rights.erasures``). The support step
also clears every staff link the map names; the consent step re-keys the ledger first; the
tombstone is written out here.

What survives: the account row as a tombstone (status DELETED, every personal field
erased), a keyed hash of the account name until its quarantine ends, PUBLIC feedback
anonymised (per setting), support threads stripped of their messages (only if configured),
the consent history under a random pseudonym (``models.consent.ledger.rekey_subject``), and
the staff audit log, which names the account by the tombstone's id (``models.rights.audit``).
"""

from __future__ import annotations

import secrets
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

import structlog
from tortoise.expressions import F, Q
from tortoise.models import Model
from tortoise.transactions import in_transaction

from accord.settings import Settings
from models import clock, retry
from models.accounts.account import Account, AccountStatus, Gender, Role
from models.accounts.errors import AccountErrorCode
from models.accounts.quarantine import AccountNameQuarantine, name_hash
from models.accounts.sessions import revoke_all
from models.consent.anchors import forget_chain
from models.consent.ledger import rekey_subject, subjects_of
from models.errors import DomainError
from models.keys.data_keys import account_subject, destroy, discard
from models.keys.device_refs import device_subject_of
from models.keys.sealed_fields import Cleartext, reseal
from models.notifications.inbox import NotificationKind, notify
from models.personal.feedback import Feedback, Visibility
from models.personal.pictures import Picture, delete_picture
from models.personal.storage import Storage
from models.personal.support import SupportMessage, SupportThread
from models.rights.data_map import DATA_MAP, PersonalData, Step, entries_of
from models.rights.data_requests import close_account_deletion, file_account_deletion
from models.rights.erasure_receipts import issue_receipt, new_handle
from models.rights.export_files import ExportFiles
from models.rights.exports import DataExport, remove_account_exports
from models.rights.requests import (
    OPEN_STATUSES,
    DataRequest,
    DataRequestKind,
    DataRequestStatus,
    DeletionRequest,
    DeletionStatus,
    receipt_subject,
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


@dataclass(frozen=True)
class Cancellation:
    due: datetime
    #: The erasure receipt's pseudonymous request id and the secret that opens it, shown to
    #: the user once (``models.rights.erasure_receipts``).
    receipt_id: str
    receipt_secret: str


async def cancel_account(
    account: Account,
    settings: Settings,
    reason: str | None,
    request: DataRequest | None = None,
) -> Cancellation:
    """Start the grace period: sessions end, the account stops being used, the user is told.
    ``request``: the ACCOUNT_DELETION request this answers, when it was filed without
    signing in and verified by a code (``models.rights.identity``)."""
    reason = (reason or "").strip()
    if len(reason) > 500:
        raise DomainError(AccountErrorCode.INVALID, "reason", "must be at most 500 characters")
    if account.status != AccountStatus.ACTIVE:
        raise DomainError(AccountErrorCode.ACCOUNT_INACTIVE, None, "this account is not active")
    moment = clock.now()
    due = moment + settings.deletion_grace
    receipt_id, receipt_secret, receipt_secret_hash = new_handle(settings)
    async with in_transaction("default"):
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
            "reason": "",  # sealed below, under the request's own key
            "receipt_id": receipt_id,
            "receipt_secret_hash": receipt_secret_hash,
            "receipt_token": None,
            "receipt_issued_at": None,
        }
        if not await DeletionRequest.filter(account_id=account.id).update(**values):
            # Tortoise's create() takes using_db before **kwargs: mypy fears values fill it.
            await DeletionRequest.create(account=account, **values)  # type: ignore[arg-type]
        if reason:
            row = await DeletionRequest.get(account_id=account.id)
            row.reason = reason
            await row.save(update_fields=["reason"])
        await file_account_deletion(account, settings, due, request)
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
    return Cancellation(due, receipt_id, receipt_secret)


async def restore_account(account: Account) -> Account:
    """Back to ACTIVE while the grace period runs and no deletion has started."""
    if account.status == AccountStatus.ACTIVE:
        return account
    if account.status != AccountStatus.PENDING_DELETION:
        raise DomainError(AccountErrorCode.ACCOUNT_DELETED, None, "this account has been deleted")
    async with in_transaction("default"):
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
        raise
    return DeletionOutcome.DONE


#: Row keys of one kind (its primary keys), or None for every row of the account.
Keys = Sequence[object] | None


class Erasers:
    """How each kind of the map is erased for one account: every row (account deletion), or
    the rows a user asked to erase (``keys``, a fulfilled erasure request). One code path
    for both, so a request erases exactly as the deletion would."""

    def __init__(self, settings: Settings, storage: Storage) -> None:
        self.settings, self.storage = settings, storage
        self._special: dict[type[Model], Callable[[int, Keys], Awaitable[None]]] = {
            Picture: self._pictures,
            DataExport: self._exports,
            Feedback: self._feedback,
            SupportThread: self._threads,
        }

    def handles(self, entry: PersonalData) -> bool:
        return entry.model in self._special or entry.plain_delete

    async def erase(self, entry: PersonalData, account_id: int, keys: Keys = None) -> None:
        """Erase the account's rows of ``entry`` (only ``keys`` among them, when given); only
        what is still there, so running it again is harmless."""
        special = self._special.get(entry.model)
        if special is not None:
            await special(account_id, keys)
        elif entry.plain_delete:
            await _delete_rows(entry, account_id, keys)
        else:
            raise ValueError(f"{entry.kind} is not erased row by row")

    async def _pictures(self, account_id: int, keys: Keys) -> None:
        # One picture at a time, file before row (see delete_picture): resumable.
        pictures = Picture.filter(owner_id=account_id)
        if keys is not None:
            pictures = pictures.filter(id__in=list(keys))
        for picture in await pictures:
            await delete_picture(picture, self.storage)

    async def _exports(self, account_id: int, keys: Keys) -> None:
        # Each archive's file before its row, as pictures.
        await remove_account_exports(account_id, ExportFiles.of(self.settings), keys)

    async def _feedback(self, account_id: int, keys: Keys) -> None:
        items = Feedback.filter(author_id=account_id)
        pictures = Picture.filter(feedback__author_id=account_id)
        if keys is not None:
            items = items.filter(id__in=list(keys))
            pictures = pictures.filter(feedback_id__in=list(keys))
        # Its pictures go with it, kept or not (a whole account's went in the PICTURES step).
        for picture in await pictures:
            await delete_picture(picture, self.storage)
        if self.settings.public_feedback_on_deletion == "anonymize":
            await items.filter(visibility=Visibility.PRIVATE).delete()
            await reseal(await items, author_id=None)  # under the kept-content key
        else:
            await items.delete()

    async def _threads(self, account_id: int, keys: Keys) -> None:
        threads = SupportThread.filter(account_id=account_id)
        if keys is not None:
            threads = threads.filter(id__in=list(keys))
        if self.settings.retain_support_threads:
            ids = list(await threads.values_list("id", flat=True))
            await SupportMessage.filter(thread_id__in=ids).delete()
            await reseal(await SupportThread.filter(id__in=ids), account_id=None)
        else:
            await threads.delete()


async def _delete_rows(entry: PersonalData, account_id: int, keys: Keys) -> None:
    """Delete the rows the map finds for the account (through its account link or its
    devices), only ``keys`` among them when given."""
    rows = entry.model.filter(pk__in=list(keys)) if keys is not None else entry.model.all()
    # Two indexed deletes, not one OR (SQLite scanned the table for the OR).
    if entry.account_field is not None:
        found = rows.filter(**{entry.account_field: account_id})
        if "__" in entry.account_field:  # found through a relation: no DELETE ... JOIN
            keys_found = await found.values_list(entry.model._meta.pk_attr, flat=True)
            found = entry.model.filter(pk__in=list(keys_found))
        await found.delete()
    if entry.device_field is not None and (devices := await device_ids_of(account_id)):
        await rows.filter(**{f"{entry.device_field}__in": devices}).delete()


def _steps(
    settings: Settings, storage: Storage
) -> list[tuple[str, Callable[[int], Awaitable[None]]]]:
    erasers = Erasers(settings, storage)

    def step_of(step: Step) -> Callable[[int], Awaitable[None]]:
        # The map's order: a step's devices go last, after the rows found through them.
        entries = [entry for entry in entries_of(step) if erasers.handles(entry)]

        async def erase_all(account_id: int) -> None:
            for entry in entries:
                await erasers.erase(entry, account_id)

        async def run(account_id: int) -> None:
            if step == Step.DATA_KEYS:
                await destroy_data_keys(account_id, settings)
                return
            if step == Step.CONSENT:
                for subject in await subjects_of(account_id):
                    await forget_chain(settings, subject)
                    await rekey_subject(subject)
            if step == Step.PICTURES:  # one picture at a time: progress is kept
                await erase_all(account_id)
                return
            async with in_transaction("default"):
                await erase_all(account_id)
                if step == Step.SUPPORT:
                    # As staff: keep the work, not the person (every staff link the map names).
                    for entry in DATA_MAP:
                        if entry.staff_field is not None:
                            await entry.model.filter(**{entry.staff_field: account_id}).update(
                                **{entry.staff_field: None}
                            )

        return run

    return [(str(step), step_of(step)) for step in Step if step != Step.TOMBSTONE]


async def destroy_data_keys(account_id: int, settings: Settings) -> None:
    """Crypto-shred the account, committed before anything else is removed: a crash after
    this leaves only unreadable rows and files, which the next steps still remove.

    What the deletion itself needs of the sealed fields afterwards is taken first: the
    name's quarantine (a keyed hash) and the receipt's address (sealed under the request's
    own key, destroyed once the receipt is owed to it, ``_finish``)."""
    request = await DeletionRequest.get(account_id=account_id)
    if request.key_destroyed_at is None:
        account = await Account.get(id=account_id)
        if account.account_name:  # empty: a run before this one destroyed the key
            async with in_transaction("default"):
                await AccountNameQuarantine.filter(
                    name_hash=name_hash(settings, account.account_name)
                ).delete()
                await AccountNameQuarantine.create(
                    name_hash=name_hash(settings, account.account_name),
                    until=clock.now() + settings.account_name_quarantine,
                )
        if account.email and request.receipt_address is None:
            request.receipt_address = account.email
            await request.save(update_fields=["receipt_address"])
    for ref in await device_ids_of(account_id):  # what its devices recorded signed out
        await discard(settings, device_subject_of(ref))
    async with in_transaction("default"):
        moment = await destroy(settings, account_subject(account_id))
        await DeletionRequest.filter(account_id=account_id, key_destroyed_at__isnull=True).update(
            key_destroyed_at=moment
        )


async def _finish(account_id: int, token: str, settings: Settings) -> None:
    """The tombstone: status DELETED and nothing personal; the name only as a keyed hash.
    First the erasure receipt, signed and owed to the verified address while it is still
    there (the NOTIFICATIONS step is over, so nothing deletes the row before it is sent),
    stating when the account's data key was destroyed (``destroy_data_keys``)."""
    request = await DeletionRequest.get(account_id=account_id)
    async with in_transaction("default"):
        account = await Account.get(id=account_id)
        moment = clock.now()
        if account.status != AccountStatus.DELETED:
            await issue_receipt(account_id, request.receipt_address, moment, settings)
        await Account.filter(id=account_id).update(
            account_name=Cleartext(f"deleted-{account_id}"),
            account_name_index=None,
            nickname=Cleartext(""),
            avatar_url=None,
            gender=Cleartext(Gender.UNDISCLOSED),
            region=None,
            signature=Cleartext(""),
            birth_year=None,
            minor=False,
            minor_basis=None,
            guardian_consented_at=None,
            email=None,
            email_index=None,
            phone=None,
            phone_index=None,
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
            receipt_address=None,
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
        await DataRequest.filter(account_id=account_id).update(
            details=Cleartext("{}"), reason="", extension_reason="", region=None
        )
    # The receipt is owed (its notification holds the address until it is sent): the
    # request's own key goes, and with it every copy of the address it sealed.
    await destroy(settings, receipt_subject(request.id))
