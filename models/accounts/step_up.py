"""Step-up: the signed-in user proves who they are again, and the session records when and
how strongly (``Session.authenticated_at``, ``Session.auth_level``), so the sensitive
operations of the next minutes (``models.accounts.reauthentication``) need nothing more.

An account with a second factor steps up with a first factor (password or a fresh provider
token) and a second (a TOTP code or a recovery code), or with one of its passkeys, which is
both (``models.accounts.levels``); one without, with a first factor. Every proof counts
toward the login limits.
"""

from __future__ import annotations

from dataclasses import dataclass

from accord.settings import Settings
from models.accounts.errors import AccountErrorCode
from models.accounts.factors import second_factors, strongest
from models.accounts.levels import AuthLevel, Factor, level_of
from models.accounts.login_limits import LoginLimits
from models.accounts.passkeys import Assertion
from models.accounts.passwords import Passwords
from models.accounts.proofs import prove_first_factor, prove_second_factor
from models.accounts.provider_keys import ProviderKeys
from models.accounts.reauthentication import factors_to_step_up
from models.accounts.sessions import Session, authenticated_again
from models.errors import DomainError


@dataclass(frozen=True)
class Proof:
    password: str | None = None
    provider: str | None = None
    id_token: str | None = None
    totp_code: str | None = None
    recovery_code: str | None = None
    passkey: Assertion | None = None


#: The stepUp input field of each second factor given beside a first factor.
_SECOND_FACTOR_FIELDS = {Factor.TOTP: "totpCode", Factor.RECOVERY_CODE: "recoveryCode"}


def _what_to_give(second: list[Factor]) -> str:
    fields = " or ".join(_SECOND_FACTOR_FIELDS[f] for f in second if f in _SECOND_FACTOR_FIELDS)
    return (
        "give a first factor (password, or provider and idToken)"
        + (f" and a second factor ({fields})" if fields else "")
        + (", or a passkey" if Factor.PASSKEY in second else "")
    )


async def renew_authentication(
    passwords: Passwords,
    provider_keys: ProviderKeys,
    settings: Settings,
    session: Session,
    proof: Proof,
    *,
    limits: LoginLimits | None,
    client_address: str,
) -> AuthLevel:
    """Check the proof against the session's account and renew the session's
    authentication at the level it reached; returns that level."""
    account = session.account
    second = await second_factors(account.id)
    required = strongest(second)
    has_first = bool(proof.password) or bool(proof.provider and proof.id_token)
    has_second = bool(proof.totp_code) or bool(proof.recovery_code) or proof.passkey is not None
    # A passkey is both factors; anything else needs a first factor, and a second one
    # where the account has one.
    complete = proof.passkey is not None or (
        has_first and (required == AuthLevel.SINGLE_FACTOR or has_second)
    )
    if not complete:
        # Nothing is checked (and no recovery code spent) before the proof is complete.
        raise DomainError(
            AccountErrorCode.REAUTHENTICATION_REQUIRED,
            None,
            _what_to_give(second),
            factors=await factors_to_step_up(account, second),
        )
    if (proof.totp_code or proof.recovery_code) and not second:
        raise DomainError(AccountErrorCode.INVALID, "totpCode", "no second factor is set up")
    proven: set[Factor] = set()
    if has_first:
        proven.add(
            await prove_first_factor(
                passwords,
                provider_keys,
                account,
                password=proof.password,
                provider=proof.provider,
                id_token=proof.id_token,
                max_age=settings.recent_auth_window,
                limits=limits,
                client_address=client_address,
            )
        )
    if has_second:
        proven.add(
            await prove_second_factor(
                account,
                settings,
                totp_code=proof.totp_code,
                recovery_code=proof.recovery_code,
                passkey=proof.passkey,
                limits=limits,
                client_address=client_address,
            )
        )
    level = level_of(proven)
    await authenticated_again(session, level)
    return level
