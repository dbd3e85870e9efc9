"""Accounts: what the policy says a user provides at registration, and the rules on it."""

from __future__ import annotations

import functools
import re
import unicodedata
from enum import StrEnum
from urllib.parse import urlsplit

import email_validator
import phonenumbers
import pycountry
from tortoise import fields
from tortoise.indexes import Index

from models.accounts.errors import AccountErrorCode
from models.errors import DomainError
from models.keys.blind_indexes import blind_index
from models.keys.data_keys import account_subject
from models.keys.sealed_fields import (
    SealedEnumField,
    SealedField,
    SealedManager,
    SealedModel,
    open_rows,
)

ACCOUNT_NAME_RE = re.compile(r"[a-z0-9._-]{3,32}")
NICKNAME_MAX = 32
SIGNATURE_MAX = 200
AVATAR_URL_MAX = 2048
PASSWORD_MIN, PASSWORD_MAX = 10, 128


class Gender(StrEnum):
    FEMALE = "FEMALE"
    MALE = "MALE"
    OTHER = "OTHER"
    UNDISCLOSED = "UNDISCLOSED"


class AccountStatus(StrEnum):
    ACTIVE = "ACTIVE"
    PENDING_DELETION = "PENDING_DELETION"
    DELETED = "DELETED"


class MinorBasis(StrEnum):
    """Why an account is (or was last judged) a minor's (``models.accounts.minors``)."""

    #: The birth year the user declared could make them younger than their region's age of
    #: digital consent; the sweeper clears the flag once it no longer can.
    BIRTH_YEAR = "BIRTH_YEAR"
    #: A privacy officer said so (``markMinor``); only staff change it.
    STAFF = "STAFF"


class Role(StrEnum):
    USER = "USER"
    SUPPORT = "SUPPORT"
    PRIVACY_OFFICER = "PRIVACY_OFFICER"
    OPERATOR = "OPERATOR"
    ADMIN = "ADMIN"


#: The blind indexes' purposes (``models.keys.blind_indexes``).
ACCOUNT_NAME_INDEX = "account name"
EMAIL_INDEX = "e-mail address"
PHONE_INDEX = "phone number"


class Account(SealedModel):
    """Its personal fields are sealed under the account's own data key
    (``models.keys.sealed_fields``); the name, e-mail and phone are found by their blind
    indexes, the name's unique."""

    id = fields.BigIntField(primary_key=True)
    account_name = SealedField(
        max_length=32, blind_index=("account_name_index", ACCOUNT_NAME_INDEX)
    )
    account_name_index = fields.CharField(max_length=32, null=True, unique=True)
    nickname = SealedField(max_length=NICKNAME_MAX)
    avatar_url = SealedField(max_length=AVATAR_URL_MAX, null=True)
    gender = SealedEnumField(Gender, default=Gender.UNDISCLOSED)
    region = SealedField(max_length=2, null=True)
    signature = SealedField(max_length=SIGNATURE_MAX, default="")
    #: The year of birth the user declared (four digits), if any: sealed like the profile.
    birth_year = SealedField(max_length=4, null=True)
    #: A minor's account (``models.accounts.minors``). Plain, unlike the profile: the reads
    #: of public content filter by it (``publicFeedback`` leaves out a minor's items without
    #: opening anyone's sealed fields), and it says no more than that the account is a minor's.
    minor = fields.BooleanField(default=False, db_default=False)
    #: Why ``minor`` holds what it holds (None for an account never judged a minor's).
    minor_basis = fields.CharEnumField(MinorBasis, max_length=16, null=True)
    #: When a guardian's consent to publish the minor's content was recorded (None without
    #: one: never given, or withdrawn). Derived from the consent ledger's GUARDIAN_CONSENTED
    #: and GUARDIAN_WITHDRAWN events and written in the same transaction as each
    #: (``models.consent.guardians``), so the read path checks one column.
    guardian_consented_at = fields.DatetimeField(null=True)
    #: Where e-mail and SMS notifications go. Unset: in-app only.
    email = SealedField(max_length=254, null=True, blind_index=("email_index", EMAIL_INDEX))
    email_index = fields.CharField(max_length=32, null=True)
    phone = SealedField(max_length=16, null=True, blind_index=("phone_index", PHONE_INDEX))
    phone_index = fields.CharField(max_length=32, null=True)
    #: None for an account created by a third-party sign-in that never set a password.
    password_hash = fields.CharField(max_length=255, null=True)
    role = fields.CharEnumField(Role, max_length=24, default=Role.USER)
    status = fields.CharEnumField(AccountStatus, max_length=24, default=AccountStatus.ACTIVE)
    created_at = fields.DatetimeField(auto_now_add=True)
    updated_at = fields.DatetimeField(auto_now=True)
    #: Set by cancellation: the account is deleted by the worker once this has passed.
    deletion_due_at = fields.DatetimeField(null=True)
    deleted_at = fields.DatetimeField(null=True)

    class Meta:
        table = "account"
        manager = SealedManager()
        # Declared here, not as db_index=True: a migration adding a field ignores that flag.
        indexes = (
            Index(fields=("deletion_due_at",)),
            Index(fields=("email_index",)),
            Index(fields=("phone_index",)),
            Index(fields=("minor",)),
        )

    def sealed_subject(self) -> str | None:
        return None if self.id is None else account_subject(self.id)

    def holds_role(self, *roles: Role) -> bool:
        """ADMIN holds every role; anyone else only their own."""
        return self.role == Role.ADMIN or self.role in roles


async def account_name_index(name: str) -> str:
    """The blind index an (already normalised) account name is found by."""
    return await blind_index(ACCOUNT_NAME_INDEX, name)


async def account_named(name: str) -> Account | None:
    """The account with this (already normalised) name: every password login asks.

    The SQL is Tortoise's own, built once per database rather than at every call (building
    it was two thirds of the lookup's CPU); the row becomes a model as in Tortoise's own
    select, and is opened as a query's rows are.
    """
    db = Account._meta.db
    index = await account_name_index(name)
    rows = await db.execute_query_dict(_account_named_sql(db.capabilities.dialect), [index, 1])
    if not rows:
        return None
    account = Account._init_from_db(**rows[0])
    await open_rows([account])
    return account


@functools.cache
def _account_named_sql(dialect: str) -> str:
    return Account.filter(account_name_index="").limit(1).sql()


# --- validation: every rule raises DomainError naming the field --------------------------


def _no_controls(value: str, field: str) -> None:
    if any(unicodedata.category(ch) in ("Cc", "Cf", "Cs", "Co", "Cn") for ch in value):
        raise DomainError(AccountErrorCode.INVALID, field, "must not contain control characters")


def normalize_account_name(raw: str, field: str = "accountName") -> str:
    """NFKC, lower-case, then 3-32 characters of ``[a-z0-9._-]``."""
    if len(raw) > 256:
        raise DomainError(AccountErrorCode.INVALID, field, "is too long")
    name = unicodedata.normalize("NFKC", raw).strip().lower()
    if not ACCOUNT_NAME_RE.fullmatch(name):
        raise DomainError(
            AccountErrorCode.INVALID, field, "must be 3-32 characters of a-z, 0-9, '.', '_' or '-'"
        )
    return name


def clean_nickname(raw: str, field: str = "nickname") -> str:
    value = unicodedata.normalize("NFC", raw).strip()
    if not 1 <= len(value) <= NICKNAME_MAX:
        raise DomainError(AccountErrorCode.INVALID, field, f"must be 1-{NICKNAME_MAX} characters")
    _no_controls(value, field)
    return value


def clean_signature(raw: str, field: str = "signature") -> str:
    value = unicodedata.normalize("NFC", raw).strip()
    if len(value) > SIGNATURE_MAX:
        raise DomainError(
            AccountErrorCode.INVALID, field, f"must be at most {SIGNATURE_MAX} characters"
        )
    _no_controls(value, field)  # the issue: "no control characters", newlines included
    return value


def clean_avatar_url(raw: str | None, field: str = "avatarUrl") -> str | None:
    if raw is None or raw == "":
        return None
    if len(raw) > AVATAR_URL_MAX:
        raise DomainError(
            AccountErrorCode.INVALID, field, f"must be at most {AVATAR_URL_MAX} characters"
        )
    try:
        parts = urlsplit(raw)
    except ValueError:
        parts = None
    if parts is None or parts.scheme != "https" or not parts.hostname:
        raise DomainError(AccountErrorCode.INVALID, field, "must be an https URL")
    _no_controls(raw, field)
    return raw


def clean_region(raw: str | None, field: str = "region") -> str | None:
    if raw is None or raw == "":
        return None
    code = raw.strip().upper()
    if len(code) != 2 or pycountry.countries.get(alpha_2=code) is None:
        raise DomainError(AccountErrorCode.INVALID, field, "must be an ISO 3166-1 alpha-2 code")
    return code


def check_password_shape(password: str, account_name: str | None, field: str = "password") -> None:
    """Length and not-the-name; strength (zxcvbn) is checked in ``models.accounts.passwords``."""
    if not PASSWORD_MIN <= len(password) <= PASSWORD_MAX:
        raise DomainError(
            AccountErrorCode.INVALID, field, f"must be {PASSWORD_MIN}-{PASSWORD_MAX} characters"
        )
    if account_name and _folded(password) == _folded(account_name):
        raise DomainError(AccountErrorCode.WEAK_PASSWORD, field, "must not be the account name")


def _folded(value: str) -> str:
    """What two strings that look the same compare as: NFKC, trimmed, case-folded."""
    return unicodedata.normalize("NFKC", value).strip().casefold()


EMAIL_MAX = 254
PHONE_INPUT_MAX = 64


def clean_email(
    raw: str | None, field: str = "email", *, check_deliverability: bool = False
) -> str | None:
    """email-validator's syntax check and normalised form (the domain lower-cased and in
    Unicode, the local part as given); compare two with ``email_key``. DNS is asked whether
    the domain takes mail only when ``check_deliverability``."""
    if raw is None or raw.strip() == "":
        return None
    value = raw.strip()
    if len(value) > EMAIL_MAX:
        raise DomainError(
            AccountErrorCode.INVALID, field, f"must be at most {EMAIL_MAX} characters"
        )
    _no_controls(value, field)
    try:
        checked = email_validator.validate_email(value, check_deliverability=check_deliverability)
    except email_validator.EmailNotValidError as error:
        raise DomainError(
            AccountErrorCode.INVALID, field, f"must be an e-mail address: {error}"
        ) from None
    if len(checked.normalized) > EMAIL_MAX:
        raise DomainError(
            AccountErrorCode.INVALID, field, f"must be at most {EMAIL_MAX} characters"
        )
    return str(checked.normalized)


def email_key(address: str) -> str:
    """What two e-mail addresses compare as: the normalised form, case-folded (mail servers
    treat the local part case-insensitively in practice)."""
    return address.casefold()


def clean_phone(raw: str | None, field: str = "phone", *, region: str | None = None) -> str | None:
    """A number ``phonenumbers`` finds valid, stored as E.164 (``+33612345678``). Without a
    leading ``+`` it is read as a number of ``region`` (the account's)."""
    if raw is None or raw.strip() == "":
        return None
    value = raw.strip()
    if len(value) > PHONE_INPUT_MAX:
        raise DomainError(AccountErrorCode.INVALID, field, "is too long for a phone number")
    _no_controls(value, field)
    try:
        number = phonenumbers.parse(value, None if value.startswith("+") else region)
    except phonenumbers.NumberParseException:
        number = None
    if number is None or not phonenumbers.is_valid_number(number):
        hint = "" if region or value.startswith("+") else " (start with + and the country code)"
        raise DomainError(
            AccountErrorCode.INVALID, field, f"must be a valid phone number like +33612345678{hint}"
        )
    return str(phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164))
