"""Recent authentication: proof, just now, that the person at the keyboard owns the account.

Sensitive mutations (changing or recovering sign-in methods, cancelling the account,
exporting data) ask for it, so a stolen or forgotten-open session is not enough.
"""

from __future__ import annotations

import time
from datetime import timedelta
from typing import Any

from models.accounts.account import Account
from models.accounts.authentication import check_current_password
from models.accounts.bindings import Binding
from models.accounts.errors import AccountErrorCode
from models.accounts.login_limits import LoginLimits
from models.accounts.oidc import verify_id_token
from models.accounts.passwords import Passwords
from models.errors import DomainError

#: For callers that do not pass the configured ``recent_auth_window``.
DEFAULT_MAX_AGE = timedelta(minutes=10)


async def confirm_identity(
    passwords: Passwords,
    providers: dict[str, dict[str, Any]],
    account: Account,
    session_is_recent: bool,
    *,
    password: str | None = None,
    provider: str | None = None,
    id_token: str | None = None,
    max_age: timedelta = DEFAULT_MAX_AGE,
    limits: LoginLimits | None = None,
    client_address: str = "",
) -> None:
    """Recent authentication for sensitive changes: the current password, a fresh token of
    a bound provider, or a session that signed in within the configured window.

    A provider token is fresh when the user authenticated to the provider (``auth_time``,
    else ``iat``) at most ``max_age`` ago: an unexpired but old token, kept by a client
    since sign-in, proves no more than the old session does."""
    if password:
        await check_current_password(
            passwords,
            account,
            password,
            field="password",
            limits=limits,
            client_address=client_address,
        )
        return
    if provider and id_token:
        identity = verify_id_token(providers, provider, id_token)
        if time.time() - identity.authenticated_at > max_age.total_seconds():
            raise DomainError(
                AccountErrorCode.REAUTHENTICATION_REQUIRED,
                "idToken",
                "this identity token is not fresh: sign in to the provider again",
            )
        if await Binding.filter(
            account_id=account.id, provider=identity.provider, subject=identity.subject
        ).exists():
            return
        raise DomainError(
            AccountErrorCode.NOT_BOUND, "idToken", "this identity is not bound to you"
        )
    if not session_is_recent:
        raise DomainError(
            AccountErrorCode.REAUTHENTICATION_REQUIRED,
            None,
            "confirm who you are: give your password or a fresh identity token",
        )
