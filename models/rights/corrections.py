"""Correction on request (GDPR Art 16): what a user cannot change by themselves (a support
message, a feedback's text, anything outside ``updateProfile``) they ask staff to change.

The map declares what may be corrected (``PersonalData.correctable``) and the text rule a new
value meets; the request names one field of one of the user's rows and is filed VERIFIED
(the user has just proven who they are). A privacy officer decides it
(``models.rights.decisions``); fulfilling it changes the row.
"""

from __future__ import annotations

import re
from typing import Any

from accord.settings import Settings
from models.accounts.account import Account
from models.errors import DomainError
from models.rights import rows
from models.rights.data_map import BY_KIND, Correctable, PersonalData
from models.rights.data_requests import file_request
from models.rights.errors import RightsErrorCode
from models.rights.requests import DataRequest, DataRequestKind
from models.text import clean_text

NOTE_MAX = 1000
_CAMEL = re.compile(r"(?<=[a-z0-9])([A-Z])")


def kind_of(name: str | None, field: str = "kind") -> PersonalData:
    """The map's entry named ``name`` (as ``dataMap`` lists it)."""
    entry = BY_KIND.get(name or "")
    if entry is None:
        raise DomainError(RightsErrorCode.INVALID, field, "no kind of personal data is called that")
    return entry


def field_name(raw: str) -> str:
    """A field as the map names it: ``order_ref``, or as GraphQL spells it, ``orderRef``."""
    return _CAMEL.sub(r"_\1", raw.strip()).lower()


def clean_note(raw: str | None) -> str:
    return clean_text(raw, "note", NOTE_MAX, required=False, multiline=True)


def correctable(entry: PersonalData, raw_field: str) -> Correctable:
    rule = entry.correctable_field(field_name(raw_field))
    if rule is not None:
        return rule
    if entry.self_service:
        why = f"change it yourself with {entry.self_service}"
    elif field_name(raw_field) in entry.fields:
        why = "it is a record (an id, a time, a hash or an event) that is never rewritten"
    else:
        why = "it is not a field of this kind"
    names = ", ".join(c.field for c in entry.correctable) or "none"
    raise DomainError(
        RightsErrorCode.NOT_CORRECTABLE,
        "field",
        f"{entry.kind}.{raw_field} cannot be corrected on request: {why} "
        f"(correctable fields of {entry.kind}: {names})",
    )


async def the_row(entry: PersonalData, account: Account, raw_key: str | None) -> object:
    """The caller's row the request names; without a key, their only row of the kind."""
    if raw_key is None:
        found = []
        if entry.account_field is not None:
            mine = entry.model.filter(**{entry.account_field: account.id})
            found = list(await mine.limit(2).values_list(entry.model._meta.pk_attr, flat=True))
        if len(found) == 1:
            return found[0]
        raise DomainError(
            RightsErrorCode.REQUIRED if found else RightsErrorCode.NOT_FOUND,
            "rowId",
            "you have several: name the row to correct" if found else f"you have no {entry.kind}",
        )
    key = rows.parse_key(entry, raw_key)
    if key is None or not await rows.owned(entry, account.id, [key]):
        raise DomainError(RightsErrorCode.NOT_FOUND, "rowId", f"no such {entry.kind} of yours")
    return key


async def request_correction(
    account: Account,
    settings: Settings,
    *,
    kind: str,
    field: str,
    row_key: str | None,
    requested_value: str,
    note: str | None,
) -> DataRequest:
    """File a verified CORRECTION request for one field of one of the caller's rows."""
    entry = kind_of(kind)
    rule = correctable(entry, field)
    value = clean_text(
        requested_value,
        "requestedValue",
        rule.limit,
        required=rule.required,
        multiline=rule.multiline,
    )
    details: dict[str, Any] = {
        "kind": entry.kind,
        "field": rule.field,
        "rowId": str(await the_row(entry, account, row_key)),
        "requestedValue": value,
        "note": clean_note(note),
    }
    return await file_request(
        account, DataRequestKind.CORRECTION, settings, verified=True, details=details
    )


async def apply_correction(account_id: int, details: dict[str, Any]) -> None:
    """Change the row as the request asked; ROW_GONE when it is no longer the user's."""
    entry = BY_KIND[details["kind"]]
    rule = entry.correctable_field(details["field"])
    key = rows.parse_key(entry, str(details["rowId"]))
    if rule is None or key is None:  # the map changed since it was filed
        raise DomainError(
            RightsErrorCode.NOT_CORRECTABLE, "id", "this field is no longer correctable"
        )
    if not await rows.owned(entry, account_id, [key]):
        raise DomainError(
            RightsErrorCode.ROW_GONE,
            "id",
            f"the {entry.kind} to correct no longer exists; reject the request with a reason",
        )
    row = await entry.model.get(pk=key)  # saved as a row, so a sealed field is sealed
    setattr(row, rule.field, details["requestedValue"])
    await row.save(update_fields=[rule.field])


async def current_value(account_id: int, details: dict[str, Any]) -> str | None:
    """What the field holds now (None when the row is gone), for whoever decides."""
    entry = BY_KIND.get(details.get("kind", ""))
    rule = entry.correctable_field(details.get("field", "")) if entry else None
    key = rows.parse_key(entry, str(details.get("rowId"))) if entry else None
    if entry is None or rule is None or key is None:
        return None
    if not await rows.owned(entry, account_id, [key]):
        return None
    row = await entry.model.get_or_none(pk=key)  # opened, if the field is sealed
    value = None if row is None else getattr(row, rule.field)
    return None if value is None else str(value)
