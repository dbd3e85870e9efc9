"""A guardian's consent to publishing a minor's content (the policy's section 1.1), recorded
through a verifiable flow and kept in the consent ledger.

The minor (signed in) names their guardian's e-mail address (``request_consent``); a
one-time code goes there through the outbox, with the request's id. Whoever has the code
controls the address, and confirms without signing in (``confirm``). A privacy officer who
verified the guardian otherwise (a signed form, a call) records it instead
(``verify_by_staff``, audited with a reason). Either way the consent is a GUARDIAN_CONSENTED
event in the minor's own chain, appended through ``models.consent.ledger.append`` like every
decision, so the chain, the history and the receipts show it; ``detail`` says how it was
given.

Withdrawing (by the minor, by staff, or by the guardian with a new code sent to the same
address: ``request_withdrawal_code``, ``withdraw_by_code``) is a GUARDIAN_WITHDRAWN event.
The state the reads check is ``Account.guardian_consented_at``: derived from those events
and written in the same transaction as each (the append's ``then``), so the content is
private again the moment the withdrawal commits, and nothing public is decided by opening
sealed data.

The codes are the contact points' (``models.one_time_codes``: six digits, kept as a keyed
hash, single use, ``contact_code_max_attempts`` wrong attempts, ``contact_code_ttl``,
``contact_codes_per_hour`` per minor and per address), one row per code sent. The guardian's
address is the guardian's personal data kept for the minor's consent: sealed under the
minor's key, counted by its blind index, shown back only masked (``masked``) and left out
of the minor's export. The guardian's browser and network are not recorded.
"""

from __future__ import annotations

import math
import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from tortoise import fields
from tortoise.indexes import Index
from tortoise.transactions import in_transaction

from accord.settings import Settings
from models import clock, one_time_codes
from models.accounts.account import Account, clean_email, email_key
from models.accounts.contacts import address_index
from models.accounts.errors import AccountErrorCode
from models.accounts.minors import age_of_consent
from models.consent.ledger import (
    ConsentEvent,
    EventKind,
    EventRecord,
    NewEvent,
    Source,
    account_subject,
    append,
    new_key,
)
from models.errors import DomainError
from models.keyed_hashes import keyed_hash
from models.keys import data_keys
from models.keys.sealed_fields import SealedField, SealedManager, SealedModel
from models.notifications.inbox import Channel, Notification, NotificationKind
from models.notifications.messages import render
from models.rights import audit

_KEYS = uuid.UUID("2b0d8c1e-5f3a-4e7b-9c61-7a4d0e9f13b2")

#: How each way of giving or withdrawing reads in the event's ``detail``.
BY_GUARDIAN_CODE = "by the guardian, with the code sent to their e-mail address"
BY_STAFF = "by the privacy office"
BY_MINOR = "by the minor"


class GuardianCodePurpose(StrEnum):
    CONSENT = "CONSENT"
    WITHDRAWAL = "WITHDRAWAL"


class GuardianRequestStatus(StrEnum):
    #: Waiting for its code (until ``expires_at``).
    PENDING = "PENDING"
    #: Its code came back: the consent (or withdrawal) is recorded.
    CONFIRMED = "CONFIRMED"
    #: A newer request of the minor's (or for the same consent) took its place.
    REPLACED = "REPLACED"
    #: Too many wrong codes.
    LOCKED = "LOCKED"


class GuardianConsentStatus(StrEnum):
    """What ``viewer.guardianConsent`` says."""

    #: Not a minor's account: nothing waits for a guardian.
    NOT_REQUIRED = "NOT_REQUIRED"
    #: A minor's, without a guardian's consent (never given, or withdrawn): public content
    #: is shown to nobody else.
    REQUIRED = "REQUIRED"
    #: A code was sent to the guardian and may still come back.
    PENDING = "PENDING"
    CONSENTED = "CONSENTED"


class GuardianConsentRequest(SealedModel):
    """One code sent to a minor's guardian, to consent or to withdraw. Its id is what the
    guardian quotes with the code (random, so it cannot be guessed)."""

    id = fields.UUIDField(primary_key=True, default=uuid.uuid4)
    account: fields.ForeignKeyRelation[Account] = fields.ForeignKeyField(
        "models.Account",
        related_name="guardian_consent_requests",
        on_delete=fields.CASCADE,
        db_index=True,
    )
    account_id: int  # set by the ORM
    purpose = fields.CharEnumField(GuardianCodePurpose, max_length=12)
    #: The guardian's normalised address, sealed under the minor's key.
    guardian_email = SealedField(max_length=254)
    #: The blind index of what the address compares as: the per-address limit counts it.
    guardian_email_key = fields.CharField(max_length=32)
    #: Hex HMAC-SHA256 of the code (``code_hash``).
    code_hash = fields.CharField(max_length=64)
    status = fields.CharEnumField(
        GuardianRequestStatus, max_length=10, default=GuardianRequestStatus.PENDING
    )
    attempts = fields.SmallIntField(default=0)
    #: From ``clock.now()``, as the limits count it.
    created_at = fields.DatetimeField()
    expires_at = fields.DatetimeField()
    #: When it stopped being pending: confirmed, replaced or locked.
    consumed_at = fields.DatetimeField(null=True)

    class Meta:
        manager = SealedManager()
        table = "guardian_consent_request"
        indexes = (
            Index(fields=("account_id", "purpose", "status")),
            Index(fields=("guardian_email_key", "created_at")),
        )

    def sealed_subject(self) -> str | None:
        return data_keys.account_subject(self.account_id)

    def live(self, moment: datetime) -> bool:
        return self.status == GuardianRequestStatus.PENDING and moment < self.expires_at


@dataclass(frozen=True)
class GuardianConsent:
    status: GuardianConsentStatus
    confirmed_at: datetime | None
    pending: GuardianConsentRequest | None = None


def masked(address: str) -> str:
    """The address as shown back: its first character and its domain (``p***@example.org``)."""
    local, _, domain = address.rpartition("@")
    return f"{local[:1]}***@{domain}"


def code_hash(settings: Settings, row: GuardianConsentRequest, code: str) -> str:
    """Bound to the request, so a hash says nothing about another row."""
    return keyed_hash(
        settings, "guardian consent code", str(row.id), row.purpose, row.guardian_email_key, code
    )


def request_key(request_id: uuid.UUID, kind: EventKind) -> str:
    """The ledger event's idempotency key for a request answered by its code: a request is
    recorded once however often its answer arrives."""
    return str(uuid.uuid5(_KEYS, f"{request_id}\n{kind}"))


def parse_request_id(raw: str) -> uuid.UUID:
    try:
        return uuid.UUID(raw.strip())
    except (ValueError, AttributeError):
        raise DomainError(AccountErrorCode.NOT_FOUND, "requestId", "no such request") from None


# --- state ----------------------------------------------------------------------------------


async def pending_request(account_id: int) -> GuardianConsentRequest | None:
    row = (
        await GuardianConsentRequest.filter(
            account_id=account_id,
            purpose=GuardianCodePurpose.CONSENT,
            status=GuardianRequestStatus.PENDING,
        )
        .order_by("-created_at")
        .first()
    )
    return row if row is not None and row.live(clock.now()) else None


async def consent_of(account: Account) -> GuardianConsent:
    """The minor's guardian consent as the account's columns and pending codes say."""
    confirmed = account.guardian_consented_at
    if not account.minor:
        return GuardianConsent(GuardianConsentStatus.NOT_REQUIRED, confirmed)
    if confirmed is not None:
        return GuardianConsent(GuardianConsentStatus.CONSENTED, confirmed)
    pending = await pending_request(account.id)
    if pending is not None:
        return GuardianConsent(GuardianConsentStatus.PENDING, None, pending)
    return GuardianConsent(GuardianConsentStatus.REQUIRED, None)


# --- sending codes --------------------------------------------------------------------------


async def _check_sending_limits(account_id: int, index: str, settings: Settings) -> None:
    await one_time_codes.check_sending_limits(
        (
            ("this account's guardian", GuardianConsentRequest.filter(account_id=account_id)),
            ("this address", GuardianConsentRequest.filter(guardian_email_key=index)),
        ),
        settings.contact_codes_per_hour,
        "guardianEmail",
    )


async def _send(
    account: Account,
    purpose: GuardianCodePurpose,
    address: str,
    index: str,
    settings: Settings,
) -> GuardianConsentRequest:
    """A new code to the guardian: the row, and the outbox row that sends it (the code
    travels only there, blanked once sent); it replaces the account's pending one of the
    same purpose."""
    moment = clock.now()
    code = one_time_codes.new_code()
    ttl = settings.contact_code_ttl
    row = GuardianConsentRequest(
        id=uuid.uuid4(),
        account_id=account.id,
        purpose=purpose,
        guardian_email=address,
        guardian_email_key=index,
        code_hash="",
        created_at=moment,
        expires_at=moment + ttl,
    )
    row.code_hash = code_hash(settings, row, code)
    kind = (
        NotificationKind.GUARDIAN_CONSENT_CODE
        if purpose == GuardianCodePurpose.CONSENT
        else NotificationKind.GUARDIAN_WITHDRAWAL_CODE
    )
    message = render(
        kind,
        {
            "nickname": account.nickname,
            "age": age_of_consent(settings, account.region),
            "request_id": str(row.id),
            "code": code,
            "minutes": math.ceil(ttl.total_seconds() / 60),
        },
    )
    async with in_transaction("default"):
        await GuardianConsentRequest.filter(
            account_id=account.id, purpose=purpose, status=GuardianRequestStatus.PENDING
        ).update(status=GuardianRequestStatus.REPLACED, consumed_at=moment)
        await row.save(force_create=True)
        await Notification.create(
            account=account,
            kind=kind,
            channel=Channel.EMAIL,
            title=message.subject,
            body=message.body,
            address=address,
            created_at=moment,
        )
    return row


async def request_consent(
    account: Account, raw_email: str, settings: Settings
) -> GuardianConsentRequest:
    """The minor asks their guardian: a code goes to the guardian's address."""
    if not account.minor:
        raise DomainError(
            AccountErrorCode.INVALID, None, "only a minor's account needs a guardian's consent"
        )
    if account.guardian_consented_at is not None:
        raise DomainError(AccountErrorCode.INVALID, None, "your guardian has already consented")
    address = clean_email(
        raw_email, "guardianEmail", check_deliverability=settings.email_check_deliverability
    )
    if address is None:
        raise DomainError(
            AccountErrorCode.REQUIRED, "guardianEmail", "give your guardian's e-mail address"
        )
    if account.email is not None and email_key(account.email) == email_key(address):
        raise DomainError(
            AccountErrorCode.INVALID,
            "guardianEmail",
            "must be your guardian's address, not your own",
        )
    index = await address_index(email_key(address))
    await _check_sending_limits(account.id, index, settings)
    return await _send(account, GuardianCodePurpose.CONSENT, address, index, settings)


async def request_withdrawal_code(
    raw_request_id: str, settings: Settings
) -> GuardianConsentRequest:
    """The guardian, quoting the request they confirmed, asks for a code to withdraw; it
    goes to the address that request's code went to (never to one typed now)."""
    request_id = parse_request_id(raw_request_id)
    consent = await GuardianConsentRequest.get_or_none(
        id=request_id,
        purpose=GuardianCodePurpose.CONSENT,
        status=GuardianRequestStatus.CONFIRMED,
    )
    if consent is None:
        raise DomainError(AccountErrorCode.NOT_FOUND, "requestId", "no such confirmed consent")
    account = await Account.get(id=consent.account_id)
    if account.guardian_consented_at is None:
        raise DomainError(AccountErrorCode.INVALID, "requestId", "there is no consent to withdraw")
    await _check_sending_limits(account.id, consent.guardian_email_key, settings)
    return await _send(
        account,
        GuardianCodePurpose.WITHDRAWAL,
        consent.guardian_email,
        consent.guardian_email_key,
        settings,
    )


# --- codes coming back ----------------------------------------------------------------------


async def _checked(
    raw_request_id: str, purpose: GuardianCodePurpose, code: str, settings: Settings
) -> GuardianConsentRequest:
    """The request whose code this is; typed errors for an unknown, used, locked or
    expired request and a wrong code (which counts)."""
    request_id = parse_request_id(raw_request_id)
    row = await GuardianConsentRequest.get_or_none(id=request_id, purpose=purpose)
    if row is None or row.status in (
        GuardianRequestStatus.CONFIRMED,
        GuardianRequestStatus.REPLACED,
    ):
        raise DomainError(AccountErrorCode.NOT_FOUND, "requestId", "no request waits for a code")
    locked = DomainError(
        AccountErrorCode.TOO_MANY_ATTEMPTS, "code", "too many wrong codes: ask for a new one"
    )
    if row.status == GuardianRequestStatus.LOCKED:
        raise locked
    moment = clock.now()
    if moment >= row.expires_at:
        raise DomainError(
            AccountErrorCode.CODE_EXPIRED, "code", "this code has expired: ask for a new one"
        )
    limit = settings.contact_code_max_attempts
    tried = await one_time_codes.attempt(
        GuardianConsentRequest.filter(id=row.id, status=GuardianRequestStatus.PENDING),
        row.attempts,
        limit,
        row.code_hash,
        code_hash(settings, row, one_time_codes.offered(code)),
    )
    if not tried.counted:
        raise locked
    if not tried.right:
        await GuardianConsentRequest.filter(
            id=row.id, status=GuardianRequestStatus.PENDING, attempts__gte=limit
        ).update(status=GuardianRequestStatus.LOCKED, consumed_at=moment)
        if tried.left <= 0:
            raise locked
        raise DomainError(
            AccountErrorCode.INVALID_CODE,
            "code",
            f"this is not the code; {one_time_codes.attempts_left_words(tried.left)}",
        )
    return row


def _used(row: GuardianConsentRequest) -> Callable[[], Awaitable[None]]:
    """Mark the request answered, in the event's transaction (a concurrent answer loses)."""

    async def use() -> None:
        if not await GuardianConsentRequest.filter(
            id=row.id, status=GuardianRequestStatus.PENDING
        ).update(status=GuardianRequestStatus.CONFIRMED, consumed_at=clock.now()):
            raise DomainError(
                AccountErrorCode.NOT_FOUND, "requestId", "no request waits for a code"
            )

    return use


async def confirm(raw_request_id: str, code: str, settings: Settings) -> Account:
    """The guardian's code: the consent is recorded and the minor's content is public."""
    row = await _checked(raw_request_id, GuardianCodePurpose.CONSENT, code, settings)
    await _record(
        row.account_id,
        EventKind.GUARDIAN_CONSENTED,
        Source.API,
        BY_GUARDIAN_CODE,
        key=request_key(row.id, EventKind.GUARDIAN_CONSENTED),
        also=_used(row),
    )
    return await Account.get(id=row.account_id)


async def withdraw_by_code(raw_request_id: str, code: str, settings: Settings) -> Account:
    """The guardian's withdrawal code: the minor's content is private again."""
    row = await _checked(raw_request_id, GuardianCodePurpose.WITHDRAWAL, code, settings)
    await _record(
        row.account_id,
        EventKind.GUARDIAN_WITHDRAWN,
        Source.API,
        BY_GUARDIAN_CODE,
        key=request_key(row.id, EventKind.GUARDIAN_WITHDRAWN),
        also=_used(row),
    )
    return await Account.get(id=row.account_id)


# --- the minor and staff --------------------------------------------------------------------


async def withdraw_by_minor(account: Account) -> Account:
    """The minor withdraws the consent their guardian gave: private again at once."""
    await _record(account.id, EventKind.GUARDIAN_WITHDRAWN, Source.API, BY_MINOR)
    return await Account.get(id=account.id)


async def _staff_account(account_id: int) -> Account:
    account = await Account.get_or_none(id=account_id)
    if account is None:
        raise DomainError(AccountErrorCode.NOT_FOUND, "accountId", "no such account")
    return account


async def verify_by_staff(staff: Account, account_id: int, reason: str | None) -> Account:
    """A privacy officer records a guardian's consent verified otherwise; audited."""
    account = await _staff_account(account_id)
    if not account.minor:
        raise DomainError(AccountErrorCode.INVALID, "accountId", "this is not a minor's account")

    async def audited() -> None:
        await audit.record(
            staff,
            audit.StaffAction.VERIFY_GUARDIAN_CONSENT,
            subject_id=account_id,
            resource="ConsentEvent",
            resource_id=EventKind.GUARDIAN_CONSENTED,
            reason=reason,
        )

    await _record(account_id, EventKind.GUARDIAN_CONSENTED, Source.SUPPORT, BY_STAFF, also=audited)
    return await Account.get(id=account_id)


async def withdraw_by_staff(staff: Account, account_id: int, reason: str | None) -> Account:
    """A privacy officer withdraws a guardian's consent (the guardian asked them); audited."""
    await _staff_account(account_id)

    async def audited() -> None:
        await audit.record(
            staff,
            audit.StaffAction.WITHDRAW_FOR_GUARDIAN,
            subject_id=account_id,
            resource="ConsentEvent",
            resource_id=EventKind.GUARDIAN_WITHDRAWN,
            reason=reason,
        )

    await _record(account_id, EventKind.GUARDIAN_WITHDRAWN, Source.SUPPORT, BY_STAFF, also=audited)
    return await Account.get(id=account_id)


# --- the ledger -----------------------------------------------------------------------------


async def _record(
    account_id: int,
    kind: EventKind,
    source: Source,
    detail: str,
    *,
    key: str | None = None,
    also: Callable[[], Awaitable[None]] | None = None,
) -> None:
    """Append the event to the minor's chain and, in its transaction, set the state the
    reads check (and ``also``: the request answered, the staff's audit entry). A
    withdrawal with no consent to withdraw stores nothing (INVALID)."""

    async def settle(stored: Sequence[ConsentEvent | EventRecord]) -> None:
        if kind == EventKind.GUARDIAN_CONSENTED:
            await Account.filter(id=account_id).update(
                guardian_consented_at=stored[-1].server_timestamp
            )
        elif not await Account.filter(id=account_id, guardian_consented_at__isnull=False).update(
            guardian_consented_at=None
        ):
            raise DomainError(AccountErrorCode.INVALID, None, "there is no consent to withdraw")
        if also is not None:
            await also()

    moment = clock.now()
    event = NewEvent(
        kind=kind,
        source=source,
        idempotency_key=key or new_key(),
        client_timestamp=moment,
        detail=detail,
    )
    await append(account_subject(account_id), [event], reload=False, then=settle)
