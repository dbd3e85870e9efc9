"""Children's information (the policy's section 1.1: "published only with the guardian's
consent"): which accounts are minors' and when they come of age.

An account is a minor's (``Account.minor``) when the birth year its user declared (at
registration or with ``updateProfile``; sealed like the profile) could make them younger
than the age of digital consent of their region (``ACCORD_AGE_OF_DIGITAL_CONSENT``, per
region ``ACCORD_AGE_OF_DIGITAL_CONSENT_BY_REGION``: GDPR Art 8 lets each state choose 13 to
16), or when a privacy officer says so (``markMinor``, audited). A year is not a birthday,
so the rule is conservative: whoever could still be younger counts. Born in 2012, with an
age of 14, a user is a minor throughout 2026 (13 until their birthday) and comes of age on
1 January 2027 (UTC), when no birthday can leave them under 14. No birth year, no judgement:
an account is not a minor's until someone says so.

A declared minor cannot leave the protection by declaring again: ``updateProfile`` may move
the year later (younger) or mark an account, never clear the flag; a privacy officer can
(``markMinor(minor: false)``). The flag set by a birth year is cleared by the sweeper
(``come_of_age``) once the sealed year and the account's current region say so; one set by
staff stays until staff clear it.

A minor's PUBLIC feedback, the pictures attached to it and the signature others see stay
private until a guardian consents (``models.consent.guardians``): ``hidden_authors`` is the
one query every such read excludes.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from tortoise.queryset import QuerySet
from tortoise.transactions import in_transaction

from accord.settings import Settings
from models import clock
from models.accounts.account import Account, MinorBasis
from models.accounts.errors import AccountErrorCode
from models.errors import DomainError
from models.rights import audit
from models.rights.data_requests import for_region

#: The earliest birth year taken (anything before is a typo).
BIRTH_YEAR_MIN = 1900
#: The (UTC) day of this process's last full ``come_of_age`` pass: one a day is enough, as
#: a year changes at midnight on 1 January (a region changed that day counts the next).
_last_pass: dict[str, date] = {}


def clean_birth_year(raw: int | None, field: str = "birthYear") -> int | None:
    """A four-digit year, not in the future; None when not given."""
    if raw is None:
        return None
    this_year = clock.now().year
    if not BIRTH_YEAR_MIN <= raw <= this_year:
        raise DomainError(
            AccountErrorCode.INVALID, field, f"must be a year from {BIRTH_YEAR_MIN} to {this_year}"
        )
    return raw


def age_of_consent(settings: Settings, region: str | None) -> int:
    """The age of digital consent where the account is: "US-CA" falls back to "US", then to
    ``ACCORD_AGE_OF_DIGITAL_CONSENT``."""
    return for_region(
        settings.age_of_digital_consent_by_region, region, settings.age_of_digital_consent
    )


def could_be_under_age(birth_year: int, region: str | None, settings: Settings) -> bool:
    """True while someone born in ``birth_year`` could be younger than the age (before
    this year's birthday they are ``this year - birth_year - 1``)."""
    return clock.now().year - birth_year - 1 < age_of_consent(settings, region)


def birth_year_of(account: Account) -> int | None:
    value = account.birth_year
    return int(value) if value and str(value).isdigit() else None


def profile_judgement(
    account: Account, birth_year: int | None, region: str | None, settings: Settings
) -> dict[str, Any]:
    """What a birth year (and region) given now changes on the account: the sealed year
    and, when it makes the user a minor, the flag. A birth-year minor may not declare an
    earlier year, or none (INVALID): only staff clear the flag early."""
    changes: dict[str, Any] = {"birth_year": None if birth_year is None else str(birth_year)}
    was = birth_year_of(account)
    if account.minor and account.minor_basis == MinorBasis.BIRTH_YEAR and was is not None:
        if birth_year is None or birth_year < was:
            raise DomainError(
                AccountErrorCode.INVALID,
                "birthYear",
                "a minor's birth year can only be corrected by the privacy office",
            )
    if birth_year is not None and could_be_under_age(birth_year, region, settings):
        if not account.minor:
            changes |= {"minor": True, "minor_basis": MinorBasis.BIRTH_YEAR}
    return changes


def minor_at_registration(
    birth_year: int | None, region: str | None, settings: Settings
) -> dict[str, Any]:
    """The fields a new account gets from its declared birth year."""
    if birth_year is None:
        return {}
    if could_be_under_age(birth_year, region, settings):
        return {"birth_year": str(birth_year), "minor": True, "minor_basis": MinorBasis.BIRTH_YEAR}
    return {"birth_year": str(birth_year)}


# --- what others see ------------------------------------------------------------------------


def hidden_authors() -> QuerySet[Account]:
    """Accounts whose public content others may not see: minors without a guardian's
    consent. Read on every public read (the columns are plain for this)."""
    return Account.filter(minor=True, guardian_consented_at=None)


def shown_to_others(account: Account) -> bool:
    """A minor's content is shown to others only once a guardian has consented."""
    return not account.minor or account.guardian_consented_at is not None


def public_signature(account: Account) -> str:
    """The signature as others see it: empty for a minor without a guardian's consent."""
    return account.signature if shown_to_others(account) else ""


# --- staff ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Marked:
    account: Account
    changed: bool


async def mark_minor(staff: Account, account_id: int, minor: bool, reason: str | None) -> Marked:
    """A privacy officer marks an account as a minor's, or clears the mark (after seeing
    proof of age, say); audited with the reason, in the same transaction."""
    async with in_transaction("default"):
        account = await Account.get_or_none(id=account_id)
        if account is None:
            raise DomainError(AccountErrorCode.NOT_FOUND, "accountId", "no such account")
        changed = account.minor != minor
        await Account.filter(id=account_id).update(minor=minor, minor_basis=MinorBasis.STAFF)
        await audit.record(
            staff,
            audit.StaffAction.MARK_MINOR if minor else audit.StaffAction.UNMARK_MINOR,
            subject_id=account_id,
            resource="Account",
            resource_id="minor",
            reason=reason,
        )
    account.minor, account.minor_basis = minor, MinorBasis.STAFF
    return Marked(account, changed)


# --- coming of age --------------------------------------------------------------------------


async def come_of_age(settings: Settings, batch_size: int, *, force: bool = False) -> int:
    """Clear the flag of every birth-year minor whose sealed year and current region no
    longer allow them to be under age; how many were cleared. Each birth year must be
    opened to know, so a process does it at its first sweep of each (UTC) day, not at every
    sweep; running it twice, or on two workers at once, clears nobody twice (the update
    is conditional)."""
    today = clock.now().date()
    if not force and _last_pass.get("day") == today:
        return 0
    cleared, after = 0, 0
    while True:
        rows = (
            await Account.filter(minor=True, minor_basis=MinorBasis.BIRTH_YEAR, id__gt=after)
            .order_by("id")
            .limit(batch_size)
        )
        if not rows:
            break
        after = rows[-1].id
        of_age = [
            row.id
            for row in rows
            if (year := birth_year_of(row)) is not None
            and not could_be_under_age(year, row.region, settings)
        ]
        if of_age:
            cleared += await Account.filter(
                id__in=of_age, minor=True, minor_basis=MinorBasis.BIRTH_YEAR
            ).update(minor=False)
    _last_pass["day"] = today
    return cleared
