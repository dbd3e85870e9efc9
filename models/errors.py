"""The error a caller can act on: a code from a fixed list, the field at fault, a message.

Rules raise ``DomainError``; the GraphQL edge turns it into ``errors: [...]`` on the payload.
Anything else that escapes a resolver is a bug and is masked.

Each domain lists the codes its rules raise in its own enum, next to its rules
(``models/account_errors.py``, ``consent_errors.py``, ``personal_errors.py``,
``notification_errors.py``), and its GraphQL error enum is that same enum, so the two cannot
drift. A rule may also run inside another domain's mutation (a sign-in guard, a text check, a
device check): it raises one of the ``SharedErrorCode`` codes, which every domain's enum
includes. ``tests/test_error_codes.py`` follows the calls from every mutation to the rules and
fails if one could raise a code its payload's enum does not list.
"""

from __future__ import annotations

from collections.abc import Sequence
from enum import StrEnum
from typing import TypeVar

E = TypeVar("E", bound=type[StrEnum])


class SharedErrorCode(StrEnum):
    """Codes any domain's mutation may receive, from rules every domain calls."""

    INVALID = "INVALID"
    REQUIRED = "REQUIRED"
    NOT_FOUND = "NOT_FOUND"
    CONFLICT = "CONFLICT"
    NOT_AUTHENTICATED = "NOT_AUTHENTICATED"
    FORBIDDEN = "FORBIDDEN"
    RATE_LIMITED = "RATE_LIMITED"
    #: A staff role acts only from a session signed in with a second factor (when the
    #: deployment says so: ``ACCORD_STAFF_SECOND_FACTOR``).
    SECOND_FACTOR_REQUIRED = "SECOND_FACTOR_REQUIRED"


#: What the edge answers for a code a domain's enum lacks (a bug the tests should have caught):
#: the request was refused, and the rule's own message and field still say why.
FALLBACK_CODE = SharedErrorCode.INVALID


def domain_codes(enum: E) -> E:
    """Checks, at import, that a domain's enum lists every shared code under its own value."""
    missing = [c.value for c in SharedErrorCode if c.value not in {m.value for m in enum}]
    misnamed = [m.name for m in enum if m.name != m.value]
    if missing or misnamed:
        raise TypeError(f"{enum.__name__}: lacks shared {missing}, name != value {misnamed}")
    return enum


class DomainError(Exception):
    def __init__(
        self,
        code: StrEnum,
        field: str | None,
        message: str,
        *,
        retry_after: int | None = None,
        factors: Sequence[str] = (),
    ) -> None:
        super().__init__(message)
        self.code = code
        self.field = field
        self.message = message
        self.retry_after = retry_after
        #: What would satisfy the rule, for REAUTHENTICATION_REQUIRED and the like: the
        #: authentication factors the caller may prove (``models.accounts.factors.Factor``).
        self.factors = tuple(factors)


class DomainErrors(Exception):
    """Several field errors found at once, so a form can show them all together."""

    def __init__(self, errors: list[DomainError]) -> None:
        super().__init__("; ".join(e.message for e in errors))
        self.errors = errors
