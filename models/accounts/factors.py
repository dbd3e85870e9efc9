"""Which factors an account can prove, and so the strongest level its authentication can
reach: what a sensitive operation asks of a recent authentication (``models.accounts.step_up``)
and what a sign-in must complete (``models.accounts.sign_in_challenges``).

``second_factors`` is the one place that knows the kinds of second factor: a new kind (a
passkey) adds its line there, and two-step sign-in, step-up and the staff rule follow.
"""

from __future__ import annotations

from tortoise.transactions import in_transaction

from accord.settings import Settings
from models.accounts import recovery_codes, totp
from models.accounts.account import Account
from models.accounts.bindings import Binding
from models.accounts.errors import AccountErrorCode
from models.accounts.levels import AuthLevel, Factor
from models.accounts.recovery_codes import codes_left
from models.accounts.sessions import Session, revoke_all
from models.accounts.totp import has_totp
from models.errors import DomainError


async def second_factors(account_id: int) -> list[Factor]:
    """The second factors an account can prove now, in the order a client offers them."""
    found: list[Factor] = []
    if await has_totp(account_id):
        found.append(Factor.TOTP)
    # New kinds of second factor go above this line. Recovery codes count only beside one
    # (they are its backup, made when it is confirmed and removed with the last one).
    if found and await codes_left(account_id):
        found.append(Factor.RECOVERY_CODE)
    return found


async def first_factors(account: Account) -> list[Factor]:
    """The first factors this account can prove: its password, its bound providers."""
    found: list[Factor] = []
    if account.password_hash is not None:
        found.append(Factor.PASSWORD)
    if await Binding.filter(account_id=account.id).exists():
        found.append(Factor.PROVIDER)
    return found


def strongest(second: list[Factor]) -> AuthLevel:
    """The strongest level an account with these second factors reaches."""
    return AuthLevel.MULTI_FACTOR if second else AuthLevel.SINGLE_FACTOR


async def strongest_level(account: Account) -> AuthLevel:
    """MULTI_FACTOR once the account has a second factor, SINGLE_FACTOR before."""
    return strongest(await second_factors(account.id))


async def confirm_totp(session: Session, code: str, settings: Settings) -> list[str]:
    """Enable the pending authenticator of the session's account; returns the ten recovery
    codes made for it (none when the account still has unused ones from another second
    factor). The session has now shown a second factor too: it counts as multi-factor
    (its ``authenticated_at`` stays)."""
    account = session.account
    await totp.confirm(account, code)
    await Session.filter(id=session.id).update(auth_level=AuthLevel.MULTI_FACTOR)
    session.auth_level = AuthLevel.MULTI_FACTOR
    if await codes_left(account.id):
        return []
    return await recovery_codes.issue(account.id, settings)


async def regenerate_recovery_codes(account: Account, settings: Settings) -> list[str]:
    """Ten new recovery codes; the old ones stop working."""
    if not await second_factors(account.id):
        raise DomainError(
            AccountErrorCode.NOT_FOUND, None, "recovery codes come with a second factor: add one"
        )
    return await recovery_codes.issue(account.id, settings)


async def remove_totp(account: Account, session: Session) -> None:
    """Remove the authenticator. Every other session ends (one of them may be the
    attacker's the user is locking out); without a second factor left, the recovery codes
    go too and this session counts as single-factor from now on."""
    async with in_transaction():
        if not await totp.remove(account.id):
            raise DomainError(AccountErrorCode.NOT_FOUND, None, "no authenticator is set up")
        await revoke_all(account.id, except_session=session.id)
        if not await second_factors(account.id):
            await recovery_codes.remove_all(account.id)
            await Session.filter(id=session.id).update(auth_level=AuthLevel.SINGLE_FACTOR)
            session.auth_level = AuthLevel.SINGLE_FACTOR
