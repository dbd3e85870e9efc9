"""README.txt of an export: every file of the archive explained in plain words, generated from
the map of personal data (kind, fields, purposes, legal basis, retention) and the glossary,
so a kind added to the map is explained the day it is exported."""

from __future__ import annotations

import textwrap
from datetime import datetime, timedelta

from accord.settings import PREFIX, Settings
from models.consent.purposes import LegalBasis
from models.rights import data_map
from models.rights.consent_proofs import KEYS, RECEIPTS, VERIFICATION
from models.rights.data_map import Export, PersonalData
from models.rights.glossary import field_meaning, kind_meaning

#: The legal bases in words (GDPR Art 6(1)).
BASES = {
    LegalBasis.CONSENT: "your consent, which you may withdraw at any time",
    LegalBasis.CONTRACT: "our contract with you: the service cannot run without it",
    LegalBasis.LEGAL_OBLIGATION: "a legal obligation we have",
    LegalBasis.LEGITIMATE_INTEREST: "our legitimate interest (keeping your account secure)",
    LegalBasis.VITAL_INTEREST: "protecting someone's vital interests",
    LegalBasis.PUBLIC_TASK: "a task in the public interest",
}
PICTURES = "pictures/"
README = "README.txt"
WIDTH = 88


def file_name(entry: PersonalData) -> str:
    return f"{entry.table}.json"


def exported_kinds() -> list[PersonalData]:
    return [entry for entry in data_map.DATA_MAP if entry.export == Export.EXPORT]


def readme(
    account_name: str,
    made_at: datetime,
    counts: dict[str, int],
    purposes: dict[str, str],
    settings: Settings,
) -> str:
    """The text; ``counts`` is each file's number of rows, ``purposes`` each purpose code's
    title."""
    parts = [
        _wrap(
            f"Your data at {settings.controller_name}, account {account_name}, as on "
            f"{made_at:%Y-%m-%d %H:%M} UTC (GDPR Articles 15 and 20)."
        ),
        _wrap(
            "Each .json file is one kind of data: a list of records, one per line, as "
            "standard JSON (UTF-8). Times are in UTC (RFC 3339); binary values are base64url; "
            "an empty value (null) means nothing is stored. The files and what each field "
            "means:"
        ),
    ]
    for entry in exported_kinds():
        parts.append(_kind(entry, counts.get(file_name(entry), 0), purposes, settings))
    parts += [
        _section(
            VERIFICATION,
            _count(counts.get(VERIFICATION, 0), "chain"),
            "Your consent history is kept as hash chains (one for your account, one for "
            "each device whose history from before you signed in on it is yours). This file "
            "says whether each chain verified when this export was made, and how to "
            "recompute every hash yourself from consent_event.json.",
        ),
        _section(
            RECEIPTS,
            _count(counts.get(RECEIPTS, 0), "receipt"),
            "A signed consent receipt (Kantara Consent Receipt v1.1, as a compact JWS signed "
            "with ES256) for each consent you granted or withdrew and each policy you "
            "accepted: proof you can keep of what you agreed to and when.",
        ),
        _section(
            KEYS,
            "1 key set",
            "The public key the receipts are signed with (a JSON Web Key Set), where we "
            "publish it, and how to verify a receipt.",
        ),
        _section(
            PICTURES,
            _count(counts.get(PICTURES, 0), "file"),
            "The pictures you uploaded, named by their id in picture.json.",
        ),
        _section(README, "", "This explanation."),
        _not_exported(),
        _wrap(
            f"Questions, or something wrong or missing: {settings.controller_contact}, "
            f"{settings.controller_email}. You may ask us to correct or erase your data."
        ),
    ]
    return "\n\n".join(parts) + "\n"


def _kind(entry: PersonalData, count: int, purposes: dict[str, str], settings: Settings) -> str:
    why = ", ".join(purposes.get(code, code) for code in entry.purposes)
    retention = entry.retention
    if entry.retention_setting is not None:
        value = _plain_value(getattr(settings, entry.retention_setting))
        retention += f" (here {PREFIX}{entry.retention_setting.upper()} is {value}.)"
    lines = [
        _wrap(kind_meaning(entry.kind, entry.model)),
        _wrap(f"Why we keep it: {why}; on the basis of {BASES[entry.legal_basis]}."),
        _wrap(f"How long: {retention}"),
        "Fields:",
        *(
            _wrap(f"{name}: {field_meaning(entry.kind, entry.model, name)}", indent="  - ")
            for name in entry.export_columns
        ),
    ]
    if entry.not_exported:
        lines.append(_wrap(f"Left out: {', '.join(entry.not_exported)}."))
    if entry.export_note:
        lines.append(_wrap(f"Note: {entry.export_note}."))
    return _section(file_name(entry), _count(count, "record"), "\n".join(lines), wrap=False)


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}" + ("" if number == 1 else "s")


def _plain_value(value: object) -> str:
    """A setting's value as a person reads it (a timedelta in days or hours, not 0:00:00)."""
    if isinstance(value, timedelta):
        seconds = int(value.total_seconds())
        for unit, size in (("day", 86_400), ("hour", 3600), ("minute", 60)):
            if seconds % size == 0:
                return _count(seconds // size, unit)
        return _count(seconds, "second")
    return str(value)


def _not_exported() -> str:
    left = [entry for entry in data_map.DATA_MAP if entry.export == Export.NOT_EXPORTED]
    lines = [
        _wrap(f"{entry.kind}: {entry.export_note}.", indent="  - ")
        for entry in left
        if entry.found_by
    ]
    return "What is not in this archive, and why:\n" + "\n".join(lines)


def _section(name: str, size: str, text: str, *, wrap: bool = True) -> str:
    title = f"{name}" + (f" ({size})" if size else "")
    return f"{title}\n{'-' * len(title)}\n" + (_wrap(text) if wrap else text)


def _wrap(text: str, indent: str = "") -> str:
    return textwrap.fill(text, WIDTH, initial_indent=indent, subsequent_indent=" " * len(indent))
