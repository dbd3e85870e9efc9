"""Step-up: the signed-in user proves who they are again, and the session records when and
how strongly (``Session.authenticated_at``, ``Session.auth_level``), so the sensitive
operations of the next minutes (``models.accounts.reauthentication``) need nothing more.

An account with a second factor steps up with a first factor (password or a fresh provider
token) and a second (a TOTP code or a recovery code); one without, with a first factor.
Every proof counts toward the login limits.
"""

from __future__ import annotations

from dataclasses import dataclass

from accord.settings import Settings
from models.accounts.errors import AccountErrorCode
from models.accounts.factors import second_factors, strongest
from models.accounts.levels import AuthLevel, level_of
from models.accounts.login_limits import LoginLimits
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
    has_second = bool(proof.totp_code) or bool(proof.recovery_code)
    if not has_first or (required == AuthLevel.MULTI_FACTOR and not has_second):
        # Nothing is checked (and no recovery code spent) before the proof is complete.
        raise DomainError(
            AccountErrorCode.REAUTHENTICATION_REQUIRED,
            None,
            "give a first factor (password, or provider and idToken)"
            + (" and a second factor (totpCode or recoveryCode)" if second else ""),
            factors=await factors_to_step_up(account, second),
        )
    if has_second and not second:
        raise DomainError(AccountErrorCode.INVALID, "totpCode", "no second factor is set up")
    proven = {
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
    }
    if has_second:
        proven.add(
            await prove_second_factor(
                account,
                settings,
                totp_code=proof.totp_code,
                recovery_code=proof.recovery_code,
                limits=limits,
                client_address=client_address,
            )
        )
    level = level_of(proven)
    await authenticated_again(session, level)
    return level
