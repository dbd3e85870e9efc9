"""Devices: an app instance id or cookie id that the user can clear, with what is tied to it.

The policy lets a user "clear all cookies saved in the software, and your relevant
information will be deleted after you manually clear it": ``clear_device_data`` deletes
every record tied to the identifier.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

from tortoise import fields
from tortoise.exceptions import IntegrityError
from tortoise.expressions import Q
from tortoise.transactions import in_transaction

from models import clock
from models.accounts.account import Account
from models.consent.ledger import (
    ConsentChain,
    ConsentEvent,
    DeviceLink,
    clean_device_id,
)
from models.errors import DomainError, SharedErrorCode
from models.keys.data_keys import discard, recorder_subject
from models.keys.device_refs import device_ref, device_subject_of
from models.keys.key_ring import installed
from models.keys.sealed_fields import SealedField, SealedManager, SealedModel, sealed
from models.personal.activity import ClickRecord, SearchRecord
from models.personal.error_reports import ErrorReport


class Device(SealedModel):
    # The device's reference (``models.keys.device_refs``), never its id.
    device_id = fields.CharField(max_length=128, primary_key=True)
    account: fields.ForeignKeyNullableRelation[Account] = fields.ForeignKeyField(
        "models.Account", null=True, related_name="devices", on_delete=fields.CASCADE, db_index=True
    )
    account_id: int | None  # set by the ORM
    platform = fields.CharField(max_length=32, default="")
    model = SealedField(max_length=100, default="")
    os_version = SealedField(max_length=50, default="")
    app_version = fields.CharField(max_length=50, default="")
    registered_at = fields.DatetimeField(auto_now_add=True)
    last_seen_at = fields.DatetimeField()

    class Meta:
        manager = SealedManager()
        table = "device"

    def sealed_subject(self) -> str | None:
        return recorder_subject(self.account_id, self.device_id)


def _short(value: str | None, field: str, limit: int) -> str:
    value = (value or "").strip()
    if len(value) > limit or any(unicodedata.category(c) in ("Cc", "Cs") for c in value):
        raise DomainError(
            SharedErrorCode.INVALID, field, f"must be at most {limit} printable characters"
        )
    return value


async def register_device(
    device_id: str,
    account: Account | None,
    *,
    platform: str | None,
    model: str | None,
    os_version: str | None,
    app_version: str | None,
) -> Device:
    """Create or refresh a device row; a device already tied to another account (by its row,
    or by a consent-history link) is refused, so nobody can claim someone else's device and
    then act for it or clear it."""
    ref = device_ref(clean_device_id(device_id))
    values = {
        "platform": _short(platform, "platform", 32),
        "model": _short(model, "model", 100),
        "os_version": _short(os_version, "osVersion", 50),
        "app_version": _short(app_version, "appVersion", 50),
        "last_seen_at": clock.now(),
    }
    await _owner_check(ref, account)
    if not await Device.filter(device_id=ref).exists():
        try:
            # Tortoise's create() takes using_db before **kwargs: mypy fears values fill it.
            return await Device.create(
                device_id=ref,
                account=account,
                **values,  # type: ignore[arg-type]
            )
        except IntegrityError:  # registered at the same moment by another request
            await _owner_check(ref, account)
    # Only a row that is unowned or already this account's changes (a claim racing another
    # account's claim must not overwrite it).
    mine = Q(account_id=None) if account is None else Q(account_id=None) | Q(account_id=account.id)
    if account is not None:
        values["account_id"] = account.id
    # Sealed under whoever the row is after this update (a claimed device: its account).
    subject = recorder_subject(account.id if account is not None else None, ref)
    assert subject is not None
    for name in ("model", "os_version"):
        values[name] = await sealed(Device, name, subject, values[name])
    if not await Device.filter(mine, device_id=ref).update(**values):
        raise DomainError(
            SharedErrorCode.FORBIDDEN, "deviceId", "this device belongs to another account"
        )
    return await Device.get(device_id=ref)


async def owner_check(device_id: str, account: Account | None) -> None:
    """Who may act for a device, the one rule every domain asks (consent decisions, activity
    records, error reports, registering and clearing a device): only the account it belongs
    to, by its row or by a consent-history link; an unowned device, anyone holding its
    identifier (it is the cookie itself).

    The refusal is FORBIDDEN, a code every domain's payload lists, with ``deviceId`` as the
    field and a message that says what to do; consent's older DEVICE_LINKED answered only
    one of these cases and is no longer raised."""
    await _owner_check(device_ref(device_id), account)


async def _owner_check(ref: str, account: Account | None) -> None:
    owner = await Device.filter(device_id=ref).values_list("account_id", flat=True)
    link = await DeviceLink.filter(device_id=ref).values_list("account_id", flat=True)
    owners = {o for o in [*owner, *link] if o is not None}
    if not owners:
        return
    if account is None:
        raise DomainError(
            SharedErrorCode.FORBIDDEN, "deviceId", "this device belongs to an account: sign in"
        )
    if account.id not in owners:
        raise DomainError(
            SharedErrorCode.FORBIDDEN, "deviceId", "this device belongs to another account"
        )


async def acting_device(device_id: str | None, account: Account | None) -> str | None:
    """The device a caller names for what it records (None if none), checked and cleaned:
    ``account`` (None when signed out) must be one that may act for it."""
    if device_id is None:
        return None
    device_id = clean_device_id(device_id)
    await owner_check(device_id, account)
    return device_id


@dataclass
class Cleared:
    search_records: int = 0
    click_records: int = 0
    error_reports: int = 0
    consent_events: int = 0
    devices: int = 0


async def clear_device_data(device_id: str, account: Account | None) -> Cleared:
    """Delete every record tied to the identifier, in one transaction.

    The device's *anonymous* consent history goes with it, whole (its chain head too, so no
    partial chain is left). History already linked to an account is the account's, and is
    kept with the account's ledger.
    """
    ref = device_ref(clean_device_id(device_id))
    await _owner_check(ref, account)
    subject = device_subject_of(ref)  # the device's chain, and its data key
    cleared = Cleared()
    async with in_transaction("default"):
        cleared.search_records = await SearchRecord.filter(device_id=ref).delete()
        cleared.click_records = await ClickRecord.filter(device_id=ref).delete()
        cleared.error_reports = await ErrorReport.filter(device_id=ref).delete()
        linked = await DeviceLink.filter(device_id=ref).exists()
        if not linked:
            cleared.consent_events = await ConsentEvent.filter(subject=subject).delete()
            await ConsentChain.filter(subject=subject).delete()
        cleared.devices = await Device.filter(device_id=ref).delete()
    if not linked:
        # What the device recorded anonymously was sealed under its own key: gone in every
        # copy. A linked device's history is the account's, kept with the key its context
        # is sealed under (its chain hashes that context) until the account is deleted.
        await discard(installed(), subject)
    return cleared
