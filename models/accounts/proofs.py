"""Proving a factor of an account that is already known (a signed-in session stepping up,
the second step of a sign-in): each check counts toward the login limits
(``models.accounts.login_limits``), so neither a stolen session nor a sign-in challenge is a
way to guess a password or a code faster than a login would."""

from __future__ import annotations

import time
from datetime import timedelta

from accord.settings import Settings
from models.accounts import passkeys, recovery_codes, totp
from models.accounts.account import Account
from models.accounts.authentication import check_current_password
from models.accounts.bindings import Binding, subject_index
from models.accounts.errors import AccountErrorCode
from models.accounts.levels import Factor
from models.accounts.login_limits import LoginLimits
from models.accounts.oidc import verify_id_token
from models.accounts.passwords import Passwords
from models.accounts.provider_keys import ProviderKeys
from models.errors import DomainError


async def prove_first_factor(
    passwords: Passwords,
    provider_keys: ProviderKeys,
    account: Account,
    *,
    password: str | None,
    provider: str | None,
    id_token: str | None,
    proof_field: str = "password",
    max_age: timedelta,
    limits: LoginLimits | None,
    client_address: str,
) -> Factor:
    """The account's password, or a fresh ID token of a provider bound to it.

    A provider token is fresh when the user authenticated to the provider (``auth_time``,
    else ``iat``) at most ``max_age`` ago: an unexpired but old token, kept by a client
    since sign-in, proves no more than the old session does."""
    if password:
        await check_current_password(
            passwords,
            account,
            password,
            field=proof_field,
            limits=limits,
            client_address=client_address,
        )
        return Factor.PASSWORD
    if not (provider and id_token):
        raise DomainError(
            AccountErrorCode.REQUIRED, "password", "give your password, or provider and idToken"
        )
    identity = await verify_id_token(provider_keys, provider, id_token)
    if time.time() - identity.authenticated_at > max_age.total_seconds():
        raise DomainError(
            AccountErrorCode.REAUTHENTICATION_REQUIRED,
            "idToken",
            "this identity token is not fresh: sign in to the provider again",
        )
    if not await Binding.filter(
        account_id=account.id,
        provider=identity.provider,
        subject_index=await subject_index(identity),
    ).exists():
        raise DomainError(
            AccountErrorCode.NOT_BOUND, "idToken", "this identity is not bound to you"
        )
    return Factor.PROVIDER


async def prove_second_factor(
    account: Account,
    settings: Settings,
    *,
    totp_code: str | None,
    recovery_code: str | None,
    passkey: passkeys.Assertion | None = None,
    limits: LoginLimits | None,
    client_address: str,
) -> Factor:
    """One of: a code of the account's authenticator (never one used before), one of its
    unused recovery codes (which is spent), or an answer of one of its passkeys (to a
    challenge of ``beginPasskeySignIn``, which counted the address already)."""
    given = [bool(totp_code), bool(recovery_code), passkey is not None].count(True)
    if not given:
        raise DomainError(
            AccountErrorCode.REQUIRED, "totpCode", "give totpCode, recoveryCode or passkey"
        )
    if given > 1:
        raise DomainError(
            AccountErrorCode.INVALID,
            None,
            "give one second factor: totpCode, recoveryCode or passkey",
        )
    if limits is not None:
        await limits.attempt(account.account_name, client_address, count_address=passkey is None)
    try:
        if passkey is not None:
            await passkeys.finish_authentication(
                settings, passkey.challenge_id, passkey.credential, account=account
            )
            factor = Factor.PASSKEY
        elif totp_code:
            await totp.verify(account.id, totp_code, field="totpCode")
            factor = Factor.TOTP
        elif recovery_code and await recovery_codes.use(account.id, recovery_code, settings):
            factor = Factor.RECOVERY_CODE
        else:
            raise DomainError(
                AccountErrorCode.INVALID_CREDENTIALS,
                "recoveryCode",
                "this recovery code is wrong or was used already",
            )
    except DomainError:
        if limits is not None:
            await limits.failed(account.account_name)
        raise
    if limits is not None:
        await limits.succeeded(account.account_name, client_address)
    return factor
