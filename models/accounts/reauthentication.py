"""Recent authentication: proof, just now, that the person at the keyboard owns the account,
as strongly as the account can prove it.

Sensitive operations (changing the password or a sign-in method, adding or removing a
factor, cancelling the account, staff reading a user's data) ask for it, so a stolen or
forgotten-open session is not enough. This is the one rule; the edge reaches it through
``Context.reauthenticate``, and ``stepUp`` (``models.accounts.step_up``) is how a session
meets it.
"""

from __future__ import annotations

from datetime import timedelta

from models.accounts.account import Account
from models.accounts.errors import AccountErrorCode
from models.accounts.factors import first_factors, second_factors, strongest
from models.accounts.levels import AuthLevel, Factor, at_least
from models.accounts.login_limits import LoginLimits
from models.accounts.passwords import Passwords
from models.accounts.proofs import prove_first_factor
from models.accounts.provider_keys import ProviderKeys
from models.accounts.sessions import Session
from models.errors import DomainError


async def factors_to_step_up(account: Account, second: list[Factor] | None = None) -> list[Factor]:
    """What ``stepUp`` takes for this account: its first factors, and its second factors
    when it has any (then one of each is needed, or a passkey, which is both and is listed
    once)."""
    if second is None:
        second = await second_factors(account.id)
    first = await first_factors(account)
    return [*first, *(f for f in second if f not in first)]


async def confirm_identity(
    passwords: Passwords,
    provider_keys: ProviderKeys,
    session: Session,
    session_is_recent: bool,
    *,
    password: str | None = None,
    provider: str | None = None,
    id_token: str | None = None,
    proof_field: str = "password",
    max_age: timedelta,
    limits: LoginLimits | None = None,
    client_address: str = "",
) -> None:
    """Recent authentication at the account's strongest level, else
    REAUTHENTICATION_REQUIRED naming the factors ``stepUp`` takes.

    - An account with a second factor needs a session that signed in (or stepped up) with
      one within ``max_age``: a password or provider token given here cannot reach that
      level (it is still checked if given).
    - An account without one needs a recent session, or its password, or a fresh token of
      a bound provider given with the request (as before second factors existed).
    """
    account = session.account
    second = await second_factors(account.id)
    required = strongest(second)
    inline = bool(password) or bool(provider and id_token)
    recent_enough = session_is_recent and at_least(session.auth_level, required)
    if required == AuthLevel.MULTI_FACTOR and not recent_enough:
        raise DomainError(
            AccountErrorCode.REAUTHENTICATION_REQUIRED,
            None,
            "confirm who you are with stepUp: a first factor and a second factor"
            + (", or a passkey" if Factor.PASSKEY in second else ""),
            factors=await factors_to_step_up(account, second),
        )
    if inline:
        await prove_first_factor(
            passwords,
            provider_keys,
            account,
            password=password,
            provider=provider,
            id_token=id_token,
            proof_field=proof_field,
            max_age=max_age,
            limits=limits,
            client_address=client_address,
        )
        return
    if not recent_enough:
        raise DomainError(
            AccountErrorCode.REAUTHENTICATION_REQUIRED,
            None,
            "confirm who you are: give your password or a fresh identity token, or stepUp",
            factors=await factors_to_step_up(account, second),
        )
