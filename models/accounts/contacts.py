"""Verified contact points: an e-mail address or a phone number becomes the account's only
once a one-time code sent to it comes back.

``Account.email`` and ``Account.phone`` hold verified values only, so everything that sends
to them (campaigns, notices) reaches verified addresses by construction. A new address
waits in a ``ContactVerification`` row, one row per code sent (so the rows are also what
the sending limits count): the address, the code's keyed hash (HMAC-SHA256 under a key
derived from ``Settings.secret()``; the code itself travels only in the outbox row that
sends it, blanked once sent), when it expires, the wrong attempts so far. At most one row
per (account, channel) is PENDING: adding another address replaces it.

A code (``models.one_time_codes``: six digits, compared in constant time, good once, each
attempt counted before the comparison) that reaches ``contact_code_max_attempts`` wrong
attempts locks the row and the address must be added again. Codes sent are limited per
account and per address (``contact_codes_per_hour``), so Accord cannot be used to flood
someone's inbox.

When a verified address is replaced or removed, the old address hears of it (its own
``Notification.address``: the account's is already the new one).
"""

from __future__ import annotations

import math
from datetime import datetime
from enum import StrEnum

from tortoise import fields
from tortoise.indexes import Index
from tortoise.transactions import in_transaction

from accord.settings import Settings
from models import clock, one_time_codes
from models.accounts.account import Account, clean_email, clean_phone, email_key
from models.accounts.errors import AccountErrorCode
from models.errors import DomainError
from models.keyed_hashes import keyed_hash
from models.keys.blind_indexes import blind_index
from models.keys.data_keys import account_subject
from models.keys.sealed_fields import SealedField, SealedManager, SealedModel
from models.notifications.inbox import Channel, DeliveryStatus, Notification, NotificationKind
from models.notifications.messages import render


class ContactChannel(StrEnum):
    EMAIL = "EMAIL"
    PHONE = "PHONE"

    @property
    def field(self) -> str:
        """The input field an address of this channel comes in (and errors name)."""
        return "email" if self == ContactChannel.EMAIL else "phone"

    @property
    def delivery(self) -> Channel:
        return Channel.EMAIL if self == ContactChannel.EMAIL else Channel.SMS

    @property
    def words(self) -> str:
        return "e-mail address" if self == ContactChannel.EMAIL else "phone number"


class VerificationStatus(StrEnum):
    #: Waiting for its code (until ``expires_at``).
    PENDING = "PENDING"
    #: Its code came back: the address is the account's.
    VERIFIED = "VERIFIED"
    #: Another address was added (or the channel's address removed) before it was verified.
    REPLACED = "REPLACED"
    #: Too many wrong codes: the address must be added again.
    LOCKED = "LOCKED"


#: The blind index's purpose for a contact address (``models.keys.blind_indexes``).
CONTACT_ADDRESS_INDEX = "contact address"


class ContactVerification(SealedModel):
    """An address waiting for its code, sealed under the account's key."""

    id = fields.BigIntField(primary_key=True)
    account: fields.ForeignKeyRelation[Account] = fields.ForeignKeyField(
        "models.Account",
        related_name="contact_verifications",
        on_delete=fields.CASCADE,
        db_index=True,
    )
    account_id: int  # set by the ORM
    channel = fields.CharEnumField(ContactChannel, max_length=8)
    #: The normalised address the code went to (an e-mail address, or E.164).
    address = SealedField(max_length=254)
    #: The blind index of what the address compares as (``key_of``, ``address_index``):
    #: the per-address limit counts it.
    address_key = fields.CharField(max_length=254)
    #: Hex HMAC-SHA256 of the code (``code_hash``).
    code_hash = fields.CharField(max_length=64)
    status = fields.CharEnumField(
        VerificationStatus, max_length=10, default=VerificationStatus.PENDING
    )
    attempts = fields.SmallIntField(default=0)
    #: From ``clock.now()`` (not the database's clock), as the limits count it.
    created_at = fields.DatetimeField()
    expires_at = fields.DatetimeField()
    #: When it stopped being pending: verified, replaced or locked.
    consumed_at = fields.DatetimeField(null=True)

    class Meta:
        manager = SealedManager()
        table = "contact_verification"
        # Column names: Tortoise does not map FK field names in Index.
        indexes = (
            Index(fields=("account_id", "channel", "status")),
            Index(fields=("address_key", "created_at")),
        )

    def live(self, moment: datetime) -> bool:
        """A code may still be tried."""
        return self.status == VerificationStatus.PENDING and moment < self.expires_at

    def sealed_subject(self) -> str | None:
        return account_subject(self.account_id)


# --- addresses ------------------------------------------------------------------------------


def clean_address(
    channel: ContactChannel,
    raw: str,
    account: Account | None,
    settings: Settings,
    *,
    region: str | None = None,
) -> tuple[str, str]:
    """The normalised address and what it compares as; INVALID naming the field. A phone
    number without ``+`` is read as one of ``region``, else of the account's region (no
    account, no region: it must start with ``+``)."""
    if channel == ContactChannel.EMAIL:
        email = clean_email(
            raw, channel.field, check_deliverability=settings.email_check_deliverability
        )
        if email is None:
            raise DomainError(AccountErrorCode.REQUIRED, channel.field, "give an e-mail address")
        return email, email_key(email)
    phone = clean_phone(raw, channel.field, region=region or (account.region if account else None))
    if phone is None:
        raise DomainError(AccountErrorCode.REQUIRED, channel.field, "give a phone number")
    return phone, phone


def verified_address(account: Account, channel: ContactChannel) -> str | None:
    return account.email if channel == ContactChannel.EMAIL else account.phone


def key_of(channel: ContactChannel, address: str) -> str:
    """What an address of ``channel`` compares as."""
    return email_key(address) if channel == ContactChannel.EMAIL else address


async def address_index(key: str) -> str:
    """The blind index an address is counted and compared by (of its ``key_of``)."""
    return await blind_index(CONTACT_ADDRESS_INDEX, key)


# --- codes ----------------------------------------------------------------------------------


def code_hash(settings: Settings, row: ContactVerification, code: str) -> str:
    """Bound to the account, channel and address, so a hash says nothing about another row."""
    return keyed_hash(
        settings, "contact verification code", row.account_id, row.channel, row.address_key, code
    )


# --- sending --------------------------------------------------------------------------------


async def _check_sending_limits(account: Account, key: str, field: str, settings: Settings) -> None:
    """RATE_LIMITED past ``contact_codes_per_hour`` codes in the last hour for this account,
    or for this address whoever asked."""
    await one_time_codes.check_sending_limits(
        (
            ("this account", ContactVerification.filter(account_id=account.id)),
            ("this address", ContactVerification.filter(address_key=await address_index(key))),
        ),
        settings.contact_codes_per_hour,
        field,
    )


async def profile_changes(
    account: Account,
    given: dict[ContactChannel, str | None],
    settings: Settings,
    *,
    region: str | None,
) -> list[tuple[ContactChannel, str | None]]:
    """What ``updateProfile``'s ``email`` and ``phone`` ask, checked before anything is
    written: a new address to verify, or ``None`` to remove the channel's. Giving the
    verified address, or the one already waiting for its code, asks nothing."""
    changes: list[tuple[ContactChannel, str | None]] = []
    for channel, raw in given.items():
        if raw is None or raw.strip() == "":
            if verified_address(account, channel) is not None or await pending_verification(
                account.id, channel
            ):
                changes.append((channel, None))
            continue
        address, key = clean_address(channel, raw, account, settings, region=region)
        current = verified_address(account, channel)
        if current is not None and key_of(channel, current) == key:
            continue
        waiting = await pending_verification(account.id, channel)
        if waiting is not None and waiting.address_key == await address_index(key):
            continue
        await _check_sending_limits(account, key, channel.field, settings)
        changes.append((channel, address))
    return changes


async def start_verification(
    account: Account, channel: ContactChannel, raw: str, settings: Settings
) -> ContactVerification:
    """Send a code to a new address; it replaces the channel's pending one. The address
    becomes the account's once ``verify`` gets the code back."""
    address, key = clean_address(channel, raw, account, settings)
    current = verified_address(account, channel)
    if current is not None and key_of(channel, current) == key:
        raise DomainError(
            AccountErrorCode.INVALID, channel.field, f"this is already your {channel.words}"
        )
    await _check_sending_limits(account, key, channel.field, settings)
    moment = clock.now()
    code = one_time_codes.new_code()
    ttl = settings.contact_code_ttl
    row = ContactVerification(
        account=account,
        channel=channel,
        address=address,
        address_key=await address_index(key),
        code_hash="",
        created_at=moment,
        expires_at=moment + ttl,
    )
    row.code_hash = code_hash(settings, row, code)
    message = render(
        NotificationKind.CONTACT_CODE,
        {"code": code, "what": channel.words, "minutes": math.ceil(ttl.total_seconds() / 60)},
    )
    async with in_transaction("default"):
        await _close_pending(account.id, channel, VerificationStatus.REPLACED, moment)
        await row.save()
        await Notification.create(
            account=account,
            kind=NotificationKind.CONTACT_CODE,
            channel=channel.delivery,
            title=message.subject,
            body=message.body,
            address=address,
            created_at=moment,
        )
    return row


async def _close_pending(
    account_id: int, channel: ContactChannel, status: VerificationStatus, moment: datetime
) -> None:
    await ContactVerification.filter(
        account_id=account_id, channel=channel, status=VerificationStatus.PENDING
    ).update(status=status, consumed_at=moment)


async def pending_verification(
    account_id: int, channel: ContactChannel
) -> ContactVerification | None:
    """The address waiting for its code on this channel, while a code may be tried."""
    row = (
        await ContactVerification.filter(
            account_id=account_id, channel=channel, status=VerificationStatus.PENDING
        )
        .order_by("-id")
        .first()
    )
    return row if row is not None and row.live(clock.now()) else None


# --- verifying ------------------------------------------------------------------------------


async def verify(
    account: Account, channel: ContactChannel, code: str, settings: Settings
) -> Account:
    """The code sent to the channel's pending address: right, and the address is the
    account's (the address it replaces is told); wrong, and it counts."""
    row = (
        await ContactVerification.filter(account_id=account.id, channel=channel)
        .order_by("-id")
        .first()
    )
    if row is None or row.status in (VerificationStatus.VERIFIED, VerificationStatus.REPLACED):
        raise DomainError(
            AccountErrorCode.NOT_FOUND,
            "channel",
            f"no {channel.words} waits for a code: add one first",
        )
    locked = DomainError(
        AccountErrorCode.TOO_MANY_ATTEMPTS,
        "code",
        f"too many wrong codes: add the {channel.words} again for a new one",
    )
    if row.status == VerificationStatus.LOCKED:
        raise locked
    moment = clock.now()
    if moment >= row.expires_at:
        raise DomainError(
            AccountErrorCode.CODE_EXPIRED,
            "code",
            f"this code has expired: add the {channel.words} again for a new one",
        )
    limit = settings.contact_code_max_attempts
    tried = await one_time_codes.attempt(
        ContactVerification.filter(id=row.id, status=VerificationStatus.PENDING),
        row.attempts,
        limit,
        row.code_hash,
        code_hash(settings, row, one_time_codes.offered(code)),
    )
    if not tried.counted:
        raise locked
    if not tried.right:
        await ContactVerification.filter(
            id=row.id, status=VerificationStatus.PENDING, attempts__gte=limit
        ).update(status=VerificationStatus.LOCKED, consumed_at=moment)
        if tried.left <= 0:
            raise locked
        raise DomainError(
            AccountErrorCode.INVALID_CODE,
            "code",
            f"this is not the code; {one_time_codes.attempts_left_words(tried.left)}",
        )
    return await _adopt(account, row, moment)


async def _adopt(account: Account, row: ContactVerification, moment: datetime) -> Account:
    """The verified address becomes the account's; the one it replaces is told."""
    channel = ContactChannel(row.channel)
    old = verified_address(account, channel)
    async with in_transaction("default"):
        used = await ContactVerification.filter(
            id=row.id, status=VerificationStatus.PENDING
        ).update(status=VerificationStatus.VERIFIED, consumed_at=moment)
        if not used:  # a concurrent request used it first
            raise DomainError(
                AccountErrorCode.NOT_FOUND, "channel", f"no {channel.words} waits for a code"
            )
        setattr(account, channel.field, row.address)  # sealed, with its blind index
        await account.save(update_fields=[channel.field])
        if old is not None and key_of(channel, old) != key_of(channel, row.address):
            await _tell_old_address(account, channel, old, NotificationKind.CONTACT_CHANGED)
    return account


# --- removing -------------------------------------------------------------------------------


async def remove(account: Account, channel: ContactChannel) -> Account:
    """The channel's verified address, and any pending one, are removed; the verified one
    is told. Removing what is not there changes nothing."""
    moment = clock.now()
    old = verified_address(account, channel)
    async with in_transaction("default"):
        await _close_pending(account.id, channel, VerificationStatus.REPLACED, moment)
        if old is not None:
            setattr(account, channel.field, None)  # and its blind index
            await account.save(update_fields=[channel.field])
            await _tell_old_address(account, channel, old, NotificationKind.CONTACT_REMOVED)
    setattr(account, channel.field, None)
    return account


async def _tell_old_address(
    account: Account, channel: ContactChannel, old: str, kind: NotificationKind
) -> None:
    """An in-app notice, and one to the old address itself."""
    moment = clock.now()
    message = render(
        kind, {"what": channel.words, "old": old, "changed_at": f"{moment:%Y-%m-%d %H:%M} UTC"}
    )
    await Notification.bulk_create(
        [
            Notification(
                account=account,
                kind=kind,
                channel=Channel.IN_APP,
                title=message.subject,
                body=message.body,
                sent_at=moment,
                status=DeliveryStatus.SENT,
            ),
            Notification(
                account=account,
                kind=kind,
                channel=channel.delivery,
                title=message.subject,
                body=message.body,
                address=old,
            ),
        ]
    )
