"""Recent authentication: proof, just now, that the person at the keyboard owns the account.

Sensitive mutations (changing or recovering sign-in methods, cancelling the account,
exporting data) ask for it, so a stolen or forgotten-open session is not enough.
"""

from __future__ import annotations

from models.accounts import Account
from models.bindings import Binding
from models.errors import DomainError, ErrorCode
from models.oidc import verify_id_token
from models.passwords import Passwords


async def confirm_identity(
    passwords: Passwords,
    providers: dict,
    account: Account,
    session_is_recent: bool,
    *,
    password: str | None = None,
    provider: str | None = None,
    id_token: str | None = None,
) -> None:
    """Recent authentication for sensitive changes: the current password, a fresh token of
    a bound provider, or a session that signed in within the configured window."""
    if password:
        if account.password_hash and await passwords.verify(account.password_hash, password):
            return
        raise DomainError(ErrorCode.INVALID_CREDENTIALS, "password", "password is wrong")
    if provider and id_token:
        identity = verify_id_token(providers, provider, id_token)
        if await Binding.filter(
            account_id=account.id, provider=identity.provider, subject=identity.subject
        ).exists():
            return
        raise DomainError(ErrorCode.NOT_BOUND, "idToken", "this identity is not bound to you")
    if not session_is_recent:
        raise DomainError(
            ErrorCode.REAUTHENTICATION_REQUIRED,
            None,
            "confirm who you are: give your password or a fresh identity token",
        )
