"""The rules for text clients send.

``refused_character`` is the one rule every string a client sends meets before any resolver
runs (see ``api.arguments``), whatever the field: no character a database column cannot hold
(NUL, which PostgreSQL refuses; a lone surrogate, which no driver can encode) and no control
character a reader would not see. Tab, newline and carriage return stay: they are part of
prose, a stack trace, a message typed on Windows.

``clean_text`` is the stricter rule for free text users and staff type: trimmed, within its
length, and on one line unless it is prose."""

from __future__ import annotations

import re
import unicodedata

from models.errors import DomainError, SharedErrorCode

#: Unicode's control characters (Cc: C0, DEL, C1) but tab, newline and carriage return, and
#: the surrogate range, which in a Python string can only be a lone surrogate.
_REFUSED = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")

REFUSED_MESSAGE = "must not contain control characters"


def refused_character(value: str) -> bool:
    """Whether ``value`` holds a character no input may carry (a regex, so a 500-event sync
    or a long message costs microseconds)."""
    return _REFUSED.search(value) is not None


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
        raise DomainError(SharedErrorCode.INVALID, field, REFUSED_MESSAGE)
    return value
