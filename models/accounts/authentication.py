"""Registration, password login, profile and password changes: the rules, not the edge."""

from __future__ import annotations

import unicodedata
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from accord.settings import Settings
from models.accounts.account import (
    Account,
    AccountStatus,
    Gender,
    account_name_index,
    account_named,
    check_password_shape,
    clean_avatar_url,
    clean_email,
    clean_nickname,
    clean_phone,
    clean_region,
    clean_signature,
    normalize_account_name,
)
from models.accounts.errors import AccountErrorCode
from models.accounts.login_limits import LoginLimits
from models.accounts.minors import (
    birth_year_of,
    clean_birth_year,
    minor_at_registration,
    profile_judgement,
)
from models.accounts.passwords import Passwords
from models.accounts.quarantine import name_in_quarantine
from models.accounts.sessions import revoke_all
from models.errors import DomainError, DomainErrors


@dataclass
class Profile:
    nickname: str
    avatar_url: str | None = None
    gender: Gender = Gender.UNDISCLOSED
    region: str | None = None
    signature: str = ""
    #: Declared, to tell a minor's account (``models.accounts.minors``).
    birth_year: int | None = None


def _collect(*checks: Callable[[], Any]) -> list[Any]:
    """Run every field check and raise them together, so a form shows all its errors."""
    values: list[Any] = []
    errors: list[DomainError] = []
    for check in checks:
        try:
            values.append(check())
        except DomainError as error:
            errors.append(error)
            values.append(None)
    if errors:
        raise DomainErrors(errors)
    return values


def _taken() -> DomainError:
    return DomainError(AccountErrorCode.UNIQUE, "accountName", "this account name is taken")


async def register(
    passwords: Passwords,
    settings: Settings,
    *,
    account_name: str,
    password: str,
    profile: Profile,
) -> Account:
    name, nickname, avatar, region, signature, birth_year, _ = _collect(
        lambda: normalize_account_name(account_name),
        lambda: clean_nickname(profile.nickname),
        lambda: clean_avatar_url(profile.avatar_url),
        lambda: clean_region(profile.region),
        lambda: clean_signature(profile.signature),
        lambda: clean_birth_year(profile.birth_year),
        lambda: check_password_shape(password, account_name),
    )
    await passwords.check_strength(password, [name, nickname])
    if await Account.filter(account_name_index=await account_name_index(name)).exists():
        raise _taken()
    if await name_in_quarantine(settings, name):
        raise DomainError(
            AccountErrorCode.NAME_IN_QUARANTINE,
            "accountName",
            "this account name belonged to a deleted account and is not available yet",
        )
    password_hash = await passwords.hash(password)
    try:
        return await Account.create(
            account_name=name,
            nickname=nickname,
            avatar_url=avatar,
            gender=profile.gender,
            region=region,
            signature=signature,
            password_hash=password_hash,
            **minor_at_registration(birth_year, region, settings),
        )
    except IntegrityError:  # a concurrent registration won the race
        raise _taken() from None


def limit_key(account_name: str) -> str:
    """The name whose login attempts are counted: every spelling of one account counts
    against that account (NFKC, trimmed, lower-case), and a malformed name against itself."""
    try:
        return normalize_account_name(account_name)
    except DomainError:
        return unicodedata.normalize("NFKC", account_name[:64]).strip().lower()


async def login(
    passwords: Passwords,
    limits: LoginLimits,
    *,
    account_name: str,
    password: str,
    client_address: str,
    require_active: bool = True,
) -> Account:
    """The same error, after the same hash work, for an unknown name and a wrong password.

    ``require_active=False`` is for restoring a cancelled account: the same checks and
    limits, whatever the account's status.
    """
    refused = DomainError(
        AccountErrorCode.INVALID_CREDENTIALS, None, "account name or password is wrong"
    )
    try:
        name = normalize_account_name(account_name)
    except DomainError:
        name = None
    counted_as = limit_key(account_name)
    await limits.attempt(counted_as, client_address)
    if len(password) > 1024:
        await limits.failed(counted_as)
        raise refused
    account = await account_named(name) if name else None
    stored = account.password_hash if account else None
    if not await passwords.verify(stored, password) or account is None:
        await limits.failed(counted_as)
        raise refused
    if require_active and account.status != AccountStatus.ACTIVE:
        raise DomainError(AccountErrorCode.ACCOUNT_INACTIVE, None, "this account is not active")
    await limits.succeeded(counted_as, client_address)
    if account.password_hash is not None and passwords.needs_rehash(account.password_hash):
        account.password_hash = await passwords.hash(password)
        await account.save(update_fields=["password_hash"])
    return account


async def update_profile(
    account: Account, changes: Mapping[str, object], settings: Settings
) -> Account:
    """Apply only the fields given (``None`` clears optional ones). A birth year, or a new
    region with one on file, may make the account a minor's (``minors.profile_judgement``)."""
    cleaners: dict[str, Callable[[Any], object]] = {
        "birth_year": clean_birth_year,
        "nickname": clean_nickname,
        "avatar_url": clean_avatar_url,
        "region": clean_region,
        "signature": lambda v: clean_signature(v or ""),
        "gender": lambda v: v or Gender.UNDISCLOSED,
        "email": clean_email,
        "phone": clean_phone,
    }
    fields = list(changes)
    values = _collect(*(lambda f=f: cleaners[f](changes[f]) for f in fields))
    cleaned = dict(zip(fields, values, strict=True))
    if "birth_year" in cleaned or "region" in cleaned:
        year = cleaned.pop("birth_year", birth_year_of(account))
        region = cleaned["region"] if "region" in cleaned else account.region
        cleaned |= profile_judgement(account, year, region, settings)
        fields = list(cleaned)
    for field, value in cleaned.items():
        setattr(account, field, value)
    if fields:
        await account.save(update_fields=[*fields, "updated_at"])
    return account


async def set_password(
    passwords: Passwords,
    account: Account,
    new_password: str,
    *,
    keep_session: uuid.UUID | None = None,
) -> None:
    """Store a new password and end every other session (all, when none is kept)."""
    check_password_shape(new_password, account.account_name, field="newPassword")
    await passwords.check_strength(
        new_password, [account.account_name, account.nickname], field="newPassword"
    )
    new_hash = await passwords.hash(new_password)
    async with in_transaction("default"):
        await Account.filter(id=account.id).update(password_hash=new_hash)
        await revoke_all(account.id, except_session=keep_session)
    account.password_hash = new_hash


async def check_current_password(
    passwords: Passwords,
    account: Account,
    password: str,
    *,
    field: str,
    limits: LoginLimits | None = None,
    client_address: str = "",
) -> None:
    """The signed-in account's own password, checked like a login: the attempt counts
    toward the login limits, so a stolen session is no way to guess the password."""
    if limits is not None:
        await limits.attempt(account.account_name, client_address)
    if account.password_hash is None or not await passwords.verify(account.password_hash, password):
        if limits is not None:
            await limits.failed(account.account_name)
        raise DomainError(AccountErrorCode.INVALID_CREDENTIALS, field, "the password is wrong")
    if limits is not None:
        await limits.succeeded(account.account_name, client_address)


async def change_password(
    passwords: Passwords,
    account: Account,
    current: str,
    new: str,
    *,
    keep_session: uuid.UUID | None,
    limits: LoginLimits | None = None,
    client_address: str = "",
) -> None:
    await check_current_password(
        passwords,
        account,
        current,
        field="currentPassword",
        limits=limits,
        client_address=client_address,
    )
    await set_password(passwords, account, new, keep_session=keep_session)
