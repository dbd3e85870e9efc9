"""Kinds of personal data that exist only by consent to one purpose, and their erasure when
that consent ends (PIPL Art 47, GDPR Art 17(1)(b): withdrawal means stop *and* erase where
the purpose was the only basis).

``BOUND_KINDS`` is the one declaration: a kind listed here is deleted, in the transaction
that records the decision, whenever a subject's consent state for its purpose stops being
GRANTED. A kind added later behind a purpose is erased the same way by adding one line.
(The map of personal data can fold this declaration in: it says which purpose is a kind's
only basis, and how a subject's rows are found.)

How a subject's rows are found (every bound kind has a nullable ``account`` and a
``device_id``, as ``SearchRecord`` and ``ClickRecord`` do):

- an account (``account:<id>``): its state is read across its own chain and those of the
  devices linked to it (``subjects_of``); when that state is no longer GRANTED, its rows
  (``account_id``, whatever device they came from) and the anonymous rows of its linked
  devices (``account_id`` NULL, ``device_id`` one of them: recorded before the sign-in on
  the strength of the device's consent, which is part of the account's state since the
  link) are erased. Linking a device can end consent too: a device that withdrew after the
  account granted decides the account's state from the link on, and the erasure follows.
- an anonymous device (``device:#<reference>``) not linked to an account: its own
  anonymous rows (``account_id`` NULL, that reference in ``device_id``). Rows an account
  recorded from that device rest on the account's consent and stay.
- a device linked to an account: its history is the account's, so the account's state and
  rows as above.

What triggers the check is an appended withdrawal for a bound purpose or a device link; a
withdrawal that a later decision (by client time) already overrides changes nothing, and
erases nothing. Re-granting brings nothing back: the rows are gone.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from tortoise.expressions import Q

from models.consent.ledger import (
    ConsentEvent,
    DeviceLink,
    EventKind,
    EventRecord,
    SubjectKind,
    latest_decisions,
    parse_subject,
    subjects_of,
)
from models.personal import activity
from models.personal.activity import ClickRecord, SearchRecord


@dataclass(frozen=True)
class BoundKind:
    """A kind of personal data whose only basis is consent to ``purpose``."""

    name: str
    purpose: str
    model: type[SearchRecord] | type[ClickRecord]


BOUND_KINDS: tuple[BoundKind, ...] = (
    BoundKind("search records", activity.PURPOSE, SearchRecord),
    BoundKind("click records", activity.PURPOSE, ClickRecord),
)

BOUND_PURPOSES = frozenset(k.purpose for k in BOUND_KINDS)


@dataclass(frozen=True)
class _Holder:
    """Whose consent state decides, and which rows rest on it."""

    subjects: list[str]
    rows: Q


async def _holder(subject: str) -> _Holder | None:
    kind, name = parse_subject(subject)
    if kind == SubjectKind.DEVICE:
        link = await DeviceLink.get_or_none(device_id=name)
        if link is None:
            return _Holder([subject], Q(account_id__isnull=True, device_id=name))
        account_id = link.account_id
    elif kind == SubjectKind.ACCOUNT:
        account_id = int(name)
    else:  # a pseudonym: a deleted account's history, whose rows are gone already
        return None
    subjects = await subjects_of(account_id)
    devices = [parse_subject(s)[1] for s in subjects[1:]]
    rows = Q(account_id=account_id)
    if devices:
        rows |= Q(account_id__isnull=True, device_id__in=devices)
    return _Holder(subjects, rows)


async def erase_on_withdrawal(
    subject: str, stored: Sequence[ConsentEvent | EventRecord]
) -> dict[str, int]:
    """Erase the bound kinds whose purpose ``subject``'s state no longer grants, after
    ``stored`` was appended to its chain (called inside that append's transaction, so the
    decision and the erasure commit together). Returns rows erased per kind name."""
    purposes = {
        e.purpose_code
        for e in stored
        if e.kind == EventKind.WITHDRAWN and e.purpose_code in BOUND_PURPOSES
    }
    if any(e.kind == EventKind.DEVICE_LINKED for e in stored):
        purposes |= BOUND_PURPOSES
    if not purposes:
        return {}
    holder = await _holder(subject)
    if holder is None:
        return {}
    latest = await latest_decisions(holder.subjects, purposes={p for p in purposes if p})
    erased: dict[str, int] = {}
    for kind in BOUND_KINDS:
        decision = latest.get(kind.purpose)
        if kind.purpose in purposes and (decision is None or decision.kind != EventKind.GRANTED):
            erased[kind.name] = await kind.model.filter(holder.rows).delete()
    return erased
