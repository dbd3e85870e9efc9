"""A data subject's rows of one kind, found the way the map of personal data says, read a
keyset batch at a time (never all at once, never OFFSET).

The ways a kind is found (``account_field``, ``device_field``, ``subject_field``) are read
one after another, each as its own indexed query, and never overlap: a row found through a
device is one recorded before any account signed in on it (its account link is empty), so
a row another account recorded on a shared device is that account's, never this one's.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

from tortoise.expressions import Q

from models.consent.ledger import DeviceLink, subjects_of
from models.keys.sealed_fields import open_values
from models.personal.devices import Device
from models.rights.data_map import PersonalData


async def device_ids_of(account_id: int) -> list[str]:
    """The account's devices and the devices linked to it, by their references (as the
    tables hold them, ``models.keys.device_refs``): their rows are the account's."""
    owned = await Device.filter(account_id=account_id).values_list("device_id", flat=True)
    linked = await DeviceLink.filter(account_id=account_id).values_list("device_id", flat=True)
    return [str(device_id) for device_id in [*owned, *linked]]


@dataclass(frozen=True)
class DataSubject:
    """Everything a subject's rows are found by."""

    account_id: int
    device_ids: tuple[str, ...]
    #: Consent subjects: the account's and its linked devices' (``subjects_of``).
    subjects: tuple[str, ...]

    @classmethod
    async def of(cls, account_id: int) -> DataSubject:
        return cls(
            account_id,
            tuple(await device_ids_of(account_id)),
            tuple(await subjects_of(account_id)),
        )


def conditions(entry: PersonalData, subject: DataSubject) -> list[Q]:
    """One condition per way the map finds the kind; no row matches two."""
    found = []
    if entry.account_field is not None:
        found.append(_where({entry.account_field: subject.account_id}))
    if entry.device_field is not None and subject.device_ids:
        by_device = _where({f"{entry.device_field}__in": list(subject.device_ids)})
        if entry.account_field is not None:
            by_device &= _where({f"{entry.account_field}__isnull": True})
        found.append(by_device)
    if entry.subject_field is not None:
        found.append(_where({f"{entry.subject_field}__in": list(subject.subjects)}))
    return found


def _where(lookups: dict[str, Any]) -> Q:
    return Q(**lookups)


async def batches(
    entry: PersonalData, subject: DataSubject, names: tuple[str, ...], size: int
) -> AsyncIterator[list[dict[str, Any]]]:
    """The subject's rows of ``entry`` as dicts of ``names`` (which start with the primary
    key), in batches of at most ``size``, by primary key within each way of finding them."""
    key = entry.model._meta.pk_attr
    for condition in conditions(entry, subject):
        after: Any = None
        while True:
            query = entry.model.filter(condition)
            if after is not None:
                query = query.filter(**{f"{key}__gt": after})
            rows = await query.order_by(key).limit(size).values(*names)
            await open_values(entry.model, rows)
            if rows:
                yield rows
            if len(rows) < size:
                break
            after = rows[-1][key]
