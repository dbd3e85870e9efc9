"""Who is asking: a data request filed by someone who cannot sign in (a lost password, no
binding), verified by a one-time code sent to an address the account has on file.

The policy promises "we will verify your identity strictly", and a request must never tell
a stranger whether an account exists. So ``file_signed_out`` answers alike, in shape and as
far as practical in time, whether the account name is unknown, the address given is not the
account's, or both match: it writes a ``DataRequest`` and an ``IdentityCheck`` in every case
and returns an opaque handle and when the code expires. Only when both match is a code sent,
through the notification outbox, to the account's own verified address (never to the address
as typed), and the request belongs to the account; otherwise the request has no account
(``account`` NULL) and its code is one nobody was sent and no six digits can match.

``verify`` takes the handle and the code back (``models.one_time_codes``: constant-time,
single use, attempts counted first, ``contact_code_max_attempts`` wrong ones at most, expiry
``contact_code_ttl``): the request becomes VERIFIED and its clock starts
(``data_requests.mark_verified``), then ``after_verification`` sets its answer going.
Codes are limited per account name and per address, whoever asks and whether or not the
account exists (``contact_codes_per_hour``, counted from these rows), so the limit tells
nothing either.

The handle, the account name and the address are kept only as keyed hashes
(``models.keyed_hashes``): enough to find the row and count the limits, nothing to read
back. Requests never verified, and the checks, are purged an hour after their code expires
(``purge_spent``), once the limits no longer count them.

Two rights may be asked for this way (``SIGNED_OUT_KINDS``), and ``after_verification``
answers both with no one's decision: ACCESS by the export (its link goes to the account's
own address, never to whoever typed one), ACCOUNT_DELETION by starting the cancellation's
grace period, as ``cancelAccount`` would.
"""

from __future__ import annotations

import math
import secrets
from dataclasses import dataclass
from datetime import datetime

from tortoise.expressions import Q
from tortoise.transactions import in_transaction

from accord.settings import Settings
from models import clock, one_time_codes
from models.accounts.account import (
    Account,
    AccountStatus,
    account_named,
    normalize_account_name,
)
from models.accounts.contacts import ContactChannel, clean_address, key_of, verified_address
from models.batches import delete_in_batches
from models.errors import DomainError
from models.keyed_hashes import keyed_hash
from models.notifications.inbox import Notification, NotificationKind
from models.notifications.messages import render
from models.rights import data_requests
from models.rights.deletion import Cancellation, cancel_account
from models.rights.errors import RightsErrorCode
from models.rights.requests import (
    DataRequest,
    DataRequestKind,
    DataRequestStatus,
    IdentityCheck,
)
from models.text import clean_text

#: The rights a user who cannot sign in may ask for: the two that name no row. A correction or
#: an erasure of some rows names rows only a signed-in user sees (``requestCorrection``,
#: ``requestErasure``); without signing in the whole account can still be had, or deleted.
SIGNED_OUT_KINDS = (DataRequestKind.ACCESS, DataRequestKind.ACCOUNT_DELETION)
NOTE_MAX = 2000
HANDLE_BYTES = 24


def code_hash(settings: Settings, check: IdentityCheck, code: str) -> str:
    """Bound to the check's handle, so a hash says nothing about another row."""
    return keyed_hash(settings, "data request code", check.handle_hash, code)


def _handle_hash(settings: Settings, handle: str) -> str:
    return keyed_hash(settings, "data request handle", handle)


@dataclass(frozen=True)
class Filed:
    """What the filer is told, the same whoever they are: where to send the code back, and
    until when."""

    handle: str
    expires_at: datetime


def _given_address(
    email: str | None, phone: str | None, settings: Settings
) -> tuple[ContactChannel, str]:
    """The one channel given, and what its address compares as."""
    given = {
        channel: raw
        for channel, raw in ((ContactChannel.EMAIL, email), (ContactChannel.PHONE, phone))
        if raw is not None and raw.strip()
    }
    if not given:
        raise DomainError(
            RightsErrorCode.REQUIRED, "email", "give the e-mail address or phone number on file"
        )
    if len(given) > 1:
        raise DomainError(
            RightsErrorCode.INVALID, "phone", "give an e-mail address or a phone number, not both"
        )
    [(channel, raw)] = given.items()
    _, key = clean_address(channel, raw, None, settings)
    return channel, key


def _holder(account: Account | None, channel: ContactChannel, key: str) -> Account | None:
    """The account the request is for: only when the address given is the one on file."""
    if account is None or account.status == AccountStatus.DELETED:
        return None
    on_file = verified_address(account, channel)
    if on_file is None or key_of(channel, on_file) != key:
        return None
    return account


async def file_signed_out(
    kind: DataRequestKind,
    account_name: str,
    email: str | None,
    phone: str | None,
    note: str | None,
    settings: Settings,
) -> Filed:
    """File a request for whoever holds ``account_name`` and the address given, and send
    them a code; the answer never says whether they exist (see the module's doc)."""
    if kind not in SIGNED_OUT_KINDS:
        raise DomainError(RightsErrorCode.INVALID, "kind", "sign in to ask for this")
    name = normalize_account_name(account_name)
    channel, key = _given_address(email, phone, settings)
    text = clean_text(note, "note", NOTE_MAX, required=False, multiline=True)
    name_hash = keyed_hash(settings, "data request account name", name)
    address_hash = keyed_hash(settings, "data request address", channel, key)
    await one_time_codes.check_sending_limits(
        (
            ("this account name", IdentityCheck.filter(name_hash=name_hash)),
            ("this address", IdentityCheck.filter(address_hash=address_hash)),
        ),
        settings.contact_codes_per_hour,
        channel.field,
    )
    holder = _holder(await account_named(name), channel, key)
    moment = clock.now()
    ttl = settings.contact_code_ttl
    handle = secrets.token_urlsafe(HANDLE_BYTES)
    code = one_time_codes.new_code()
    check = IdentityCheck(
        handle_hash=_handle_hash(settings, handle),
        channel=channel,
        name_hash=name_hash,
        address_hash=address_hash,
        created_at=moment,
        expires_at=moment + ttl,
    )
    # Nobody gets a code for a request that names no account: its hash is of a secret no
    # six digits can be.
    check.code_hash = code_hash(settings, check, code if holder else secrets.token_hex(16))
    message = render(
        NotificationKind.DATA_REQUEST_CODE,
        {"code": code, "what": kind.words, "minutes": math.ceil(ttl.total_seconds() / 60)},
    )
    async with in_transaction("default"):
        request = await DataRequest.create(
            account=holder,
            kind=kind,
            status=DataRequestStatus.RECEIVED,
            received_at=moment,
            region=holder.region if holder else None,
            details={"note": text} if text else {},
        )
        check.request = request
        await check.save()
        if holder is not None:
            # To the account's own verified address, read when it is sent.
            await Notification.create(
                account=holder,
                kind=NotificationKind.DATA_REQUEST_CODE,
                channel=channel.delivery,
                title=message.subject,
                body=message.body,
                created_at=moment,
            )
    return Filed(handle=handle, expires_at=check.expires_at)


async def verify(
    handle: str, code: str, settings: Settings
) -> tuple[DataRequest, Cancellation | None]:
    """The code sent for the request ``handle`` names: right, and the request is VERIFIED
    (its clock starts) and ``after_verification`` runs; wrong, and the attempt counts."""
    check = (
        await IdentityCheck.filter(handle_hash=_handle_hash(settings, handle))
        .select_related("request")
        .first()
    )
    if check is None:
        raise DomainError(
            RightsErrorCode.NOT_FOUND,
            "handle",
            "no request waits for a code under this handle: file the request again",
        )
    if check.used_at is not None:
        raise DomainError(
            RightsErrorCode.CODE_USED, "code", "this code was already used: the request is verified"
        )
    limit = settings.contact_code_max_attempts
    too_many = DomainError(
        RightsErrorCode.TOO_MANY_ATTEMPTS,
        "code",
        "too many wrong codes: file the request again for a new one",
    )
    if check.attempts >= limit:
        raise too_many
    moment = clock.now()
    if moment >= check.expires_at:
        raise DomainError(
            RightsErrorCode.CODE_EXPIRED,
            "code",
            "this code has expired: file the request again for a new one",
        )
    waiting = IdentityCheck.filter(id=check.id, used_at__isnull=True)
    tried = await one_time_codes.attempt(
        waiting,
        check.attempts,
        limit,
        check.code_hash,
        code_hash(settings, check, one_time_codes.offered(code)),
    )
    if not tried.counted:
        raise too_many
    if not tried.right or check.request.account_id is None:
        if tried.left <= 0:
            raise too_many
        raise DomainError(
            RightsErrorCode.INVALID_CODE,
            "code",
            f"this is not the code; {one_time_codes.attempts_left_words(tried.left)}",
        )
    async with in_transaction("default"):
        if not await waiting.update(used_at=moment):  # a concurrent request used it first
            raise DomainError(RightsErrorCode.CODE_USED, "code", "this code was already used")
        request = await data_requests.mark_verified(check.request, settings)
        # In the same transaction: a verified deletion request never waits without its
        # grace period (nothing would start it again).
        started = await after_verification(request, settings)
    return request, started


async def after_verification(request: DataRequest, settings: Settings) -> Cancellation | None:
    """What a request verified by its code sets going. ACCESS: nothing here, the export job
    answers it (the caller queues it; the sweeper queues any VERIFIED one it missed).
    ACCOUNT_DELETION: the grace period starts, as ``cancelAccount``'s would, and this
    request follows it to the deletion; an account already on its way out has its answer.
    Returns the cancellation (its erasure receipt's id and secret) when one started."""
    if request.kind != DataRequestKind.ACCOUNT_DELETION or request.account_id is None:
        return None
    account = await Account.get(id=request.account_id)
    if account.status == AccountStatus.ACTIVE:
        cancelled = await cancel_account(account, settings, None, request)
        request.status = DataRequestStatus.IN_PROGRESS
        return cancelled
    await data_requests.complete(
        request.id, reason="The account was already scheduled for deletion."
    )
    request.status = DataRequestStatus.COMPLETED
    return None


async def purge_spent(batch_size: int) -> int:
    """An hour after a code expired the limits no longer count its check: requests it never
    verified are dropped with their check, then the checks of verified ones go. Rows
    removed."""
    cutoff = clock.now() - one_time_codes.SENDING_WINDOW
    unverified = DataRequest.filter(
        status=DataRequestStatus.RECEIVED, identity_check__expires_at__lt=cutoff
    )
    removed = 0
    while ids := list(await unverified.limit(batch_size).values_list("id", flat=True)):
        async with in_transaction("default"):
            removed += await IdentityCheck.filter(request_id__in=ids).delete()
            removed += await DataRequest.filter(id__in=ids).delete()
    return removed + await delete_in_batches(IdentityCheck, Q(expires_at__lt=cutoff), batch_size)
