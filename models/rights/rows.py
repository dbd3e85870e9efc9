"""A subject's rows of one kind of personal data, found as the map says (``account_field``,
or ``device_field`` through the account's devices and linked devices): what a correction or
erasure request may name, and what account deletion erases."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from tortoise import fields

from models.consent.ledger import DeviceLink
from models.personal.devices import Device
from models.rights.data_map import PersonalData

#: The largest value a BIGINT primary key holds.
_MAX_ID = 2**63 - 1


async def device_ids(account_id: int) -> list[str]:
    """The account's devices and the devices linked to it: their rows are the account's."""
    owned = await Device.filter(account_id=account_id).values_list("device_id", flat=True)
    linked = await DeviceLink.filter(account_id=account_id).values_list("device_id", flat=True)
    return [str(device_id) for device_id in [*owned, *linked]]


def parse_key(entry: PersonalData, raw: str) -> object | None:
    """The primary key a client's text names for this kind (a UUID or a row number), or
    None when it can name no row of it."""
    pk = entry.model._meta.pk
    if isinstance(pk, fields.UUIDField):
        try:
            return uuid.UUID(raw)
        except ValueError:
            return None
    if not raw.isascii() or not raw.isdigit() or len(raw) > 19:
        return None
    number = int(raw)
    return number if 0 < number <= _MAX_ID else None


async def owned(entry: PersonalData, account_id: int, keys: Sequence[object]) -> list[object]:
    """Which of ``keys`` are rows of this kind that belong to the account, in their order."""
    if not keys:
        return []
    named = entry.model.filter(pk__in=list(keys))
    pk = entry.model._meta.pk_attr
    found: set[object] = set()
    # Two indexed lookups, not one OR (SQLite scans the table for the OR).
    if entry.account_field is not None:
        mine = named.filter(**{entry.account_field: account_id})
        found.update(await mine.values_list(pk, flat=True))
    if entry.device_field is not None and (devices := await device_ids(account_id)):
        by_device = named.filter(**{f"{entry.device_field}__in": devices})
        found.update(await by_device.values_list(pk, flat=True))
    return [key for key in dict.fromkeys(keys) if key in found]


async def holds_any(entry: PersonalData, account_id: int) -> bool:
    """Whether the account has any row of this kind."""
    if entry.account_field is not None and (
        await entry.model.filter(**{entry.account_field: account_id}).exists()
    ):
        return True
    if entry.device_field is not None and (devices := await device_ids(account_id)):
        return bool(await entry.model.filter(**{f"{entry.device_field}__in": devices}).exists())
    return False
