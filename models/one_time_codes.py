"""One-time codes sent to an address: a new contact point to verify
(``models.accounts.contacts``), a data request filed by someone who cannot sign in
(``models.rights.identity``).

A code is six digits from ``secrets``, kept only as a keyed hash (``models.keyed_hashes``)
in the row that waits for it, good once, and tried a limited number of times: each attempt
is counted by a conditional update *before* the code is compared (in constant time), so
guesses sent at once cannot slip past the limit. Codes sent are limited per hour, counted
from the rows that sent them, so Accord cannot be used to flood someone's inbox.

The rows and the words of each refusal are the caller's; the rules here are the ones both
share.
"""

from __future__ import annotations

import hmac
import math
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from tortoise.expressions import F
from tortoise.queryset import QuerySet

from models import clock
from models.errors import DomainError, SharedErrorCode

CODE_DIGITS = 6
#: The window a per-hour sending limit counts in.
SENDING_WINDOW = timedelta(hours=1)


def new_code() -> str:
    return f"{secrets.randbelow(10**CODE_DIGITS):0{CODE_DIGITS}d}"


def offered(code: str) -> str:
    """The code as typed, white space dropped ("123 456" from a copied message)."""
    return "".join(code.split())


async def check_sending_limits(
    counted: Sequence[tuple[str, QuerySet[Any]]], limit: int, field: str | None
) -> None:
    """RATE_LIMITED, with when to try again, once ``limit`` codes were sent within the last
    hour by any of ``counted`` (who, the rows that count for them; each row has a
    ``created_at``)."""
    moment = clock.now()
    since = moment - SENDING_WINDOW
    for who, query in counted:
        sent = list(
            await query.filter(created_at__gt=since)
            .order_by("-created_at")
            .limit(limit)
            .values_list("created_at", flat=True)
        )
        if len(sent) >= limit:
            # The oldest of the last ``limit`` leaves the window first.
            frees_at: datetime = sent[-1] + SENDING_WINDOW  # type: ignore[operator]
            retry_after = max(1, math.ceil((frees_at - moment).total_seconds()))
            raise DomainError(
                SharedErrorCode.RATE_LIMITED,
                field,
                f"too many codes sent to {who}; try again in {retry_after} s",
                retry_after=retry_after,
            )


@dataclass(frozen=True)
class Attempt:
    #: False: the row was already out of attempts (or no longer waiting) before this one.
    counted: bool
    right: bool
    #: Wrong attempts still allowed after this one.
    left: int


async def attempt(
    waiting: QuerySet[Any], attempts_before: int, limit: int, expected_hash: str, offered_hash: str
) -> Attempt:
    """Count one attempt on the row ``waiting`` selects (it must select only a row still
    waiting for its code), then compare the hashes in constant time."""
    counted = await waiting.filter(attempts__lt=limit).update(attempts=F("attempts") + 1)
    if not counted:
        return Attempt(counted=False, right=False, left=0)
    right = hmac.compare_digest(offered_hash, expected_hash)
    return Attempt(counted=True, right=right, left=max(0, limit - (attempts_before + 1)))


def attempts_left_words(left: int) -> str:
    return f"{left} attempt{'s' if left != 1 else ''} left"
