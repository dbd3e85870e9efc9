"""Two-step sign-in: when an account has a second factor, the first step (password, provider
token) opens no session but a short-lived challenge, and ``complete`` opens one only with a
second factor proven against it.

The challenge is a row first: an opaque token (stored as its SHA-256 only, like a session's),
the account, the first factor it stands for, and what the sign-in was for (a plain sign-in,
or restoring a cancelled account). It is single use, dies ``ACCORD_SIGN_IN_CHALLENGE_TTL``
after the first step and after ``MAX_ATTEMPTS`` wrong codes; every code tried also counts
toward the login limits, as a password would. (A passkey, a first factor too, signs in in
one step by itself: ``finishPasskeySignIn``; here it completes a password or provider
sign-in.)
"""

from __future__ import annotations

import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from tortoise import fields
from tortoise.expressions import F, Q
from tortoise.indexes import Index
from tortoise.models import Model

from accord.settings import Settings
from models import clock
from models.accounts.account import Account, AccountStatus
from models.accounts.errors import AccountErrorCode
from models.accounts.levels import Factor
from models.accounts.login_limits import LoginLimits
from models.accounts.passkeys import Assertion
from models.accounts.proofs import prove_second_factor
from models.accounts.sessions import TOKEN_BYTES, hash_token
from models.batches import delete_in_batches
from models.errors import DomainError
from models.keys.sealed_fields import SealedManager

#: Wrong codes a challenge takes before it dies.
MAX_ATTEMPTS = 5


class Purpose(StrEnum):
    """What completing the challenge does besides opening a session."""

    SIGN_IN = "SIGN_IN"
    #: ``restoreAccount``: the cancelled account is restored once the second step succeeds.
    RESTORE = "RESTORE"


class SignInChallenge(Model):
    id = fields.UUIDField(primary_key=True, default=uuid.uuid4)
    token_hash = fields.CharField(max_length=64, unique=True)
    account: fields.ForeignKeyRelation[Account] = fields.ForeignKeyField(
        "models.Account", related_name="sign_in_challenges", on_delete=fields.CASCADE
    )
    account_id: int  # set by the ORM
    first_factor = fields.CharEnumField(Factor, max_length=16)
    purpose = fields.CharEnumField(Purpose, max_length=16, default=Purpose.SIGN_IN)
    created_at = fields.DatetimeField(auto_now_add=True)
    expires_at = fields.DatetimeField()
    #: Wrong second factors tried against it.
    attempts = fields.IntField(default=0)
    consumed_at = fields.DatetimeField(null=True)

    class Meta:
        table = "sign_in_challenge"
        manager = SealedManager()  # opens the account it is loaded with
        indexes = (Index(fields=("account_id",)), Index(fields=("expires_at",)))


@dataclass(frozen=True)
class Challenge:
    token: str
    expires_at: datetime


@dataclass(frozen=True)
class Completed:
    account: Account
    first_factor: Factor
    second_factor: Factor
    purpose: Purpose


async def issue(
    account: Account, first_factor: Factor, settings: Settings, purpose: Purpose = Purpose.SIGN_IN
) -> Challenge:
    token = secrets.token_urlsafe(TOKEN_BYTES)
    expires_at = clock.now() + settings.sign_in_challenge_ttl
    await SignInChallenge.create(
        token_hash=hash_token(token),
        account_id=account.id,
        first_factor=first_factor,
        purpose=purpose,
        expires_at=expires_at,
    )
    return Challenge(token=token, expires_at=expires_at)


def _live() -> Q:
    return Q(consumed_at__isnull=True, expires_at__gt=clock.now(), attempts__lt=MAX_ATTEMPTS)


def _dead() -> DomainError:
    return DomainError(
        AccountErrorCode.INVALID_CHALLENGE,
        "challenge",
        "this sign-in expired, was completed already or saw too many wrong codes: sign in again",
    )


async def complete(
    token: str,
    settings: Settings,
    *,
    totp_code: str | None,
    recovery_code: str | None,
    passkey: Assertion | None = None,
    limits: LoginLimits,
    client_address: str,
) -> Completed:
    """The second step: a second factor of the challenge's account (a TOTP code, a
    recovery code, a passkey's answer), once per challenge."""
    if not token or len(token) > 128:
        raise _dead()
    challenge = (
        await SignInChallenge.filter(_live(), token_hash=hash_token(token))
        .select_related("account")
        .first()
    )
    if challenge is None:
        raise _dead()
    account = challenge.account
    if challenge.purpose == Purpose.SIGN_IN and account.status != AccountStatus.ACTIVE:
        raise DomainError(AccountErrorCode.ACCOUNT_INACTIVE, None, "this account is not active")
    try:
        second = await prove_second_factor(
            account,
            settings,
            totp_code=totp_code,
            recovery_code=recovery_code,
            passkey=passkey,
            limits=limits,
            client_address=client_address,
        )
    except DomainError as error:
        if error.code == AccountErrorCode.INVALID_CREDENTIALS:
            await SignInChallenge.filter(id=challenge.id).update(attempts=F("attempts") + 1)
        raise
    # Single use: of two requests racing with good codes, one completes.
    if not await SignInChallenge.filter(_live(), id=challenge.id).update(consumed_at=clock.now()):
        raise _dead()
    return Completed(
        account=account,
        first_factor=challenge.first_factor,
        second_factor=second,
        purpose=challenge.purpose,
    )


async def purge_spent(batch_size: int) -> int:
    """Challenges past their expiry (completed or not) are no longer needed."""
    return await delete_in_batches(SignInChallenge, Q(expires_at__lte=clock.now()), batch_size)
