"""Which rows of one kind of personal data a correction or erasure request may name: the
subject's own, found as an export finds them (``models.rights.subject_rows``)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from tortoise import fields

from models.rights.data_map import PersonalData
from models.rights.subject_rows import DataSubject, conditions

#: The largest value a BIGINT primary key holds.
_MAX_ID = 2**63 - 1


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
    subject = await DataSubject.of(account_id)
    named = entry.model.filter(pk__in=list(keys))
    pk = entry.model._meta.pk_attr
    found: set[object] = set()
    # One indexed lookup per way of finding the kind, not one OR (SQLite scans for the OR).
    for condition in conditions(entry, subject):
        found.update(await named.filter(condition).values_list(pk, flat=True))
    return [key for key in dict.fromkeys(keys) if key in found]


async def holds_any(entry: PersonalData, account_id: int) -> bool:
    """Whether the account has any row of this kind."""
    subject = await DataSubject.of(account_id)
    for condition in conditions(entry, subject):
        if await entry.model.filter(condition).exists():
            return True
    return False
