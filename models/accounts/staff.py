"""Staff accounts: created from the command line, never through the public API; and who
among them may act on what (``require_role``)."""

from __future__ import annotations

from models.accounts.account import (
    Account,
    AccountStatus,
    Role,
    account_name_index,
    check_password_shape,
    normalize_account_name,
)
from models.accounts.passwords import Passwords
from models.errors import DomainError, DomainErrors, SharedErrorCode

#: Who watches and steers deletions, campaigns and the job queue (and ADMIN, who holds
#: every role).
OPERATIONS = (Role.OPERATOR, Role.PRIVACY_OFFICER)


def require_role(staff: Account, *roles: Role) -> None:
    """The rules' own check, whoever calls them (the API, the console, the command line):
    FORBIDDEN unless ``staff`` is active and holds one of ``roles``."""
    if staff.status != AccountStatus.ACTIVE or not staff.holds_role(*roles):
        raise DomainError(SharedErrorCode.FORBIDDEN, None, "your role does not allow this")


async def staff_member(account_name: str, *roles: Role) -> Account:
    """The staff account named ``account_name`` that a command acts as (``--staff``):
    NOT_FOUND, or FORBIDDEN unless it holds one of ``roles``."""
    account = await Account.get_or_none(
        account_name_index=await account_name_index(normalize_account_name(account_name))
    )
    if account is None:
        raise DomainError(SharedErrorCode.NOT_FOUND, "staff", "no such account")
    require_role(account, *roles)
    return account


async def grant_role(
    passwords: Passwords, account_name: str, role: Role, password: str, nickname: str | None
) -> tuple[Account, bool]:
    """Give ``role`` to the named account, creating it with ``password`` if it is new."""
    name = normalize_account_name(account_name)
    account = await Account.get_or_none(account_name_index=await account_name_index(name))
    if account is not None:
        account.role = role
        await account.save(update_fields=["role", "updated_at"])
        return account, False
    check_password_shape(password, name)
    await passwords.check_strength(password, [name])
    account = await Account.create(
        account_name=name,
        nickname=(nickname or name)[:32],
        password_hash=await passwords.hash(password),
        role=role,
    )
    return account, True


async def create_staff(
    passwords: Passwords, account_name: str, role: str, password: str, nickname: str | None
) -> tuple[str, bool]:
    """Give the named staff ``role`` (a name, any case) to an account, as ``grant_role``;
    every refusal is a ``ValueError`` with one line to show the operator. The caller has the
    ORM started (``accord create-staff`` does)."""
    try:
        staff_role = Role(role.upper())
    except ValueError:
        raise ValueError(f"unknown role {role!r}") from None
    if staff_role == Role.USER:
        raise ValueError("USER is not a staff role")
    try:
        account, created = await grant_role(passwords, account_name, staff_role, password, nickname)
    except DomainErrors as errors:
        raise ValueError("; ".join(f"{e.field}: {e.message}" for e in errors.errors)) from None
    except DomainError as error:
        raise ValueError(f"{error.field or 'input'}: {error.message}") from None
    return account.account_name, created
