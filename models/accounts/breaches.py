"""Breached passwords: a new password found in a breach corpus is refused
(``BREACHED_PASSWORD``), whatever its zxcvbn score.

Two sources:

- **Always**: the 30,000 most common passwords that the ``zxcvbn`` package ships (its
  ``passwords`` frequency list, drawn from real breaches; lower-case). A password matches
  when its normalised form (NFKC, trimmed, case-folded) is on the list. Only its entries of
  10 characters or more (about 1,100) can match, as shorter passwords are refused for their
  length first. zxcvbn's score already falls below the default minimum for these; the list
  refuses them even where ``ACCORD_MIN_PASSWORD_SCORE`` is lowered, with a code that says why.
- **Where the deployment allows outbound calls** (``ACCORD_PWNED_PASSWORDS_URL``): Have I
  Been Pwned's range API, by k-anonymity: only the first 5 hex characters of the password's
  SHA-1 leave the server, with ``Add-Padding: true`` so the answer's size tells nothing; the
  suffixes are compared here. When the service fails or is slow
  (``ACCORD_PWNED_PASSWORDS_TIMEOUT``), the password is allowed and a warning logged: an
  outage must not stop people from signing up.

Checked only where a password is set (register, changePassword, resetPassword), never at
login.
"""

from __future__ import annotations

import functools
import hashlib
import unicodedata

import httpx
import structlog
from zxcvbn.frequency_lists import FREQUENCY_LISTS

from accord.settings import Settings
from models.accounts.errors import AccountErrorCode
from models.errors import DomainError

log = structlog.get_logger("accord.passwords")

#: Prefix of the SHA-1 the range API is asked for.
PREFIX_LENGTH = 5


@functools.cache
def _common() -> frozenset[str]:
    return frozenset(FREQUENCY_LISTS["passwords"])


def normalised(password: str) -> str:
    return unicodedata.normalize("NFKC", password).strip().casefold()


def is_common(password: str) -> bool:
    return normalised(password) in _common()


def _breached(field: str, where: str) -> DomainError:
    return DomainError(
        AccountErrorCode.BREACHED_PASSWORD,
        field,
        f"this password is {where}, so attackers try it first: choose another",
    )


async def times_pwned(password: str, settings: Settings) -> int | None:
    """How often the range API has seen ``password`` in breaches (0: never); None when it is
    off or did not answer."""
    if not settings.pwned_passwords_url:
        return None
    digest = hashlib.sha1(password.encode(), usedforsecurity=False).hexdigest().upper()
    prefix, suffix = digest[:PREFIX_LENGTH], digest[PREFIX_LENGTH:]
    try:
        async with httpx.AsyncClient(timeout=settings.pwned_passwords_timeout) as client:
            answer = await client.get(
                settings.pwned_passwords_url + prefix,
                headers={"Add-Padding": "true", "User-Agent": "Accord"},
            )
            answer.raise_for_status()
    except httpx.HTTPError as error:
        log.warning("breached-password check skipped: the range API failed", error=repr(error))
        return None
    for line in answer.text.splitlines():
        found, _, count = line.strip().partition(":")
        if found.upper() == suffix:
            # Padding lines carry a count of 0.
            return int(count) if count.strip().isdigit() else 0
    return 0


def refuse_common(password: str, field: str) -> None:
    if is_common(password):
        raise _breached(field, "one of the most common passwords")


async def refuse_pwned(password: str, settings: Settings, field: str) -> None:
    if await times_pwned(password, settings):
        raise _breached(field, "in known data breaches")
