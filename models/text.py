"""The rule for free text users and staff type: trimmed, within its length, and nothing a
database column cannot hold or a reader would not see (control characters, lone
surrogates). Newlines and tabs are allowed where the text is prose."""

from __future__ import annotations

import unicodedata

from models.errors import DomainError, SharedErrorCode


def clean_text(
    raw: str | None, field: str, limit: int, *, required: bool = True, multiline: bool = False
) -> str:
    value = (raw or "").strip()
    if (required and not value) or len(value) > limit:
        lowest = 1 if required else 0
        raise DomainError(SharedErrorCode.INVALID, field, f"must be {lowest}-{limit} characters")
    allowed = "\n\t" if multiline else ""
    # Cc: control characters; Cs: lone surrogates, which no database column can hold.
    if any(unicodedata.category(c) in ("Cc", "Cs") and c not in allowed for c in value):
        raise DomainError(SharedErrorCode.INVALID, field, "must not contain control characters")
    return value
