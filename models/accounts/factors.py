"""Which factors an account can prove, and so the strongest level its authentication can
reach: what a sensitive operation asks of a recent authentication (``models.accounts.step_up``)
and what a sign-in must complete (``models.accounts.sign_in_challenges``).

``second_factors`` is the one place that knows the kinds of second factor: a new kind adds
its line there, and two-step sign-in, step-up and the staff rule follow. A passkey is one
(and a first factor too: ``models.accounts.levels``). Adding the first second factor brings
recovery codes (``_new_second_factor``); removing the last one takes them
(``_remove_factor``), whichever kind it is.
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable

from tortoise.transactions import in_transaction

from accord.settings import Settings
from models.accounts import passkeys, recovery_codes, totp
from models.accounts.account import Account
from models.accounts.bindings import Binding
from models.accounts.errors import AccountErrorCode
from models.accounts.levels import AuthLevel, Factor
from models.accounts.recovery_codes import codes_left
from models.accounts.sessions import Session, revoke_all
from models.errors import DomainError
from models.placeholders import placeholders


async def second_factors(account_id: int) -> list[Factor]:
    """The second factors an account can prove now, in the order a client offers them.

    One SQL statement, built once per database: every sign-in asks, and three queries
    through the query builder were most of what this added to a login's CPU. A new kind of
    second factor adds its ``EXISTS`` to ``_second_factors_sql`` and its line here.
    Recovery codes count only beside another factor (they are its backup, made when it is
    confirmed and removed with the last one)."""
    db = Session._meta.db
    sql = _second_factors_sql(db.capabilities.dialect)
    row = (await db.execute_query_dict(sql, [account_id] * 3))[0]
    found: list[Factor] = []
    if row["passkey"]:
        found.append(Factor.PASSKEY)
    if row["totp"]:
        found.append(Factor.TOTP)
    if found and row["codes"]:
        found.append(Factor.RECOVERY_CODE)
    return found


@functools.cache
def _second_factors_sql(dialect: str) -> str:
    first, second, third = (placeholders(dialect, 1, start) for start in (1, 2, 3))
    passkey = passkeys.Passkey._meta.db_table
    totp_table = totp.TotpCredential._meta.db_table
    codes = recovery_codes.RecoveryCode._meta.db_table
    exists = (
        f'EXISTS (SELECT 1 FROM "{passkey}" WHERE "account_id" = {first}) AS "passkey"',  # noqa: S608
        f'EXISTS (SELECT 1 FROM "{totp_table}" WHERE "account_id" = {second} '  # noqa: S608
        'AND "confirmed_at" IS NOT NULL) AS "totp"',
        f'EXISTS (SELECT 1 FROM "{codes}" WHERE "account_id" = {third} '  # noqa: S608
        'AND "used_at" IS NULL) AS "codes"',
    )
    return "SELECT " + ", ".join(exists)


async def first_factors(account: Account) -> list[Factor]:
    """The first factors this account can prove: its password, its bound providers, its
    passkeys."""
    found: list[Factor] = []
    if account.password_hash is not None:
        found.append(Factor.PASSWORD)
    if await Binding.filter(account_id=account.id).exists():
        found.append(Factor.PROVIDER)
    if await passkeys.has_passkey(account.id):
        found.append(Factor.PASSKEY)
    return found


def strongest(second: list[Factor]) -> AuthLevel:
    """The strongest level an account with these second factors reaches."""
    return AuthLevel.MULTI_FACTOR if second else AuthLevel.SINGLE_FACTOR


async def strongest_level(account: Account) -> AuthLevel:
    """MULTI_FACTOR once the account has a second factor, SINGLE_FACTOR before."""
    return strongest(await second_factors(account.id))


async def _new_second_factor(session: Session, settings: Settings) -> list[str]:
    """A second factor was just added by this session, which showed it doing so: the
    session counts as multi-factor from now on (its ``authenticated_at`` stays). Returns
    ten recovery codes, to show once, when the account has no unused ones (its first
    second factor, or all used up); none otherwise."""
    await Session.filter(id=session.id).update(auth_level=AuthLevel.MULTI_FACTOR)
    session.auth_level = AuthLevel.MULTI_FACTOR
    if await codes_left(session.account_id):
        return []
    return await recovery_codes.issue(session.account_id, settings)


async def confirm_totp(session: Session, code: str, settings: Settings) -> list[str]:
    """Enable the pending authenticator of the session's account; returns the recovery
    codes made for it (``_new_second_factor``)."""
    await totp.confirm(session.account, code)
    return await _new_second_factor(session, settings)


async def add_passkey(
    session: Session, settings: Settings, challenge_id: str, credential: str, name: str
) -> tuple[passkeys.Passkey, list[str]]:
    """Keep the passkey the session's account registered (``passkeys.finish_registration``,
    user verification included); with it, the recovery codes ``_new_second_factor`` makes."""
    row = await passkeys.finish_registration(
        settings, challenge_id, credential, name, account=session.account
    )
    return row, await _new_second_factor(session, settings)


async def regenerate_recovery_codes(account: Account, settings: Settings) -> list[str]:
    """Ten new recovery codes; the old ones stop working."""
    if not await second_factors(account.id):
        raise DomainError(
            AccountErrorCode.NOT_FOUND, None, "recovery codes come with a second factor: add one"
        )
    return await recovery_codes.issue(account.id, settings)


async def _remove_factor(
    account: Account, session: Session, remove: Callable[[], Awaitable[None]]
) -> None:
    """Remove a factor (``remove`` does, or raises): every other session ends (one of them
    may be the attacker's the user is locking out); without a second factor left, the
    recovery codes go too and this session counts as single-factor from now on."""
    async with in_transaction("default"):
        await remove()
        await revoke_all(account.id, except_session=session.id)
        if not await second_factors(account.id):
            await recovery_codes.remove_all(account.id)
            await Session.filter(id=session.id).update(auth_level=AuthLevel.SINGLE_FACTOR)
            session.auth_level = AuthLevel.SINGLE_FACTOR


async def remove_totp(account: Account, session: Session) -> None:
    """Remove the authenticator, as ``_remove_factor`` says."""

    async def remove() -> None:
        if not await totp.remove(account.id):
            raise DomainError(AccountErrorCode.NOT_FOUND, None, "no authenticator is set up")

    await _remove_factor(account, session, remove)


async def remove_passkey(account: Account, session: Session, passkey_id: int | None) -> None:
    """Remove one of the account's passkeys (``passkeys.remove``: never the last way to
    sign in), as ``_remove_factor`` says."""
    await _remove_factor(account, session, lambda: passkeys.remove(account, passkey_id))
