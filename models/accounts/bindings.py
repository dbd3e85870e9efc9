"""Bindings: a third-party (OpenID Connect) identity tied to one account.

The policy lets a user sign in with a third-party account, which shares only its public
nickname and picture, and says a binding "can help you retrieve your account".
"""

from __future__ import annotations

import secrets

from tortoise import fields
from tortoise.exceptions import IntegrityError
from tortoise.models import Model
from tortoise.transactions import in_transaction

from accord.settings import Settings
from models import clock
from models.accounts.account import (
    NICKNAME_MAX,
    Account,
    AccountStatus,
    account_name_index,
    check_password_shape,
    clean_avatar_url,
    clean_nickname,
)
from models.accounts.authentication import set_password
from models.accounts.errors import AccountErrorCode
from models.accounts.oidc import Identity
from models.accounts.passkeys import Passkey
from models.accounts.passwords import Passwords
from models.accounts.sessions import hash_token
from models.errors import DomainError
from models.keys.blind_indexes import blind_index
from models.keys.data_keys import account_subject
from models.keys.sealed_fields import SealedField, SealedManager, SealedModel

#: The blind index's purpose for a provider's subject (``models.keys.blind_indexes``).
PROVIDER_SUBJECT_INDEX = "provider subject"


class Binding(SealedModel):
    """A third-party identity bound to an account. What the provider says of the person is
    sealed under the account's key; the subject is found by its blind index."""

    id = fields.BigIntField(primary_key=True)
    account: fields.ForeignKeyRelation[Account] = fields.ForeignKeyField(
        "models.Account", related_name="bindings", on_delete=fields.CASCADE
    )
    account_id: int  # set by the ORM
    provider = fields.CharField(max_length=64)
    #: The provider's ``sub`` claim: stable and unique per provider.
    subject = SealedField(max_length=255, blind_index=("subject_index", PROVIDER_SUBJECT_INDEX))
    subject_index = fields.CharField(max_length=32, null=True)
    nickname = SealedField(max_length=64, null=True)
    avatar_url = SealedField(max_length=2048, null=True)
    bound_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "binding"
        manager = SealedManager()  # opens the account it is loaded with
        unique_together = (("provider", "subject_index"), ("account", "provider"))

    def sealed_subject(self) -> str | None:
        return account_subject(self.account_id)


async def subject_index(identity: Identity) -> str:
    """The blind index a provider's subject is found by."""
    return await blind_index(PROVIDER_SUBJECT_INDEX, identity.subject)


class PasswordReset(Model):
    """A one-time reset granted after proving a bound identity. Only its hash is stored."""

    id = fields.BigIntField(primary_key=True)
    account: fields.ForeignKeyRelation[Account] = fields.ForeignKeyField(
        "models.Account", related_name="password_resets", on_delete=fields.CASCADE, db_index=True
    )
    account_id: int  # set by the ORM
    token_hash = fields.CharField(max_length=64, unique=True)
    created_at = fields.DatetimeField(auto_now_add=True)
    expires_at = fields.DatetimeField()

    class Meta:
        manager = SealedManager()
        table = "password_reset"


# --- rules -------------------------------------------------------------------------------


def _public_nickname(identity: Identity) -> str:
    try:
        return clean_nickname((identity.nickname or "")[:NICKNAME_MAX])
    except DomainError:
        return "user"


def _public_picture(identity: Identity) -> str | None:
    try:
        return clean_avatar_url(identity.picture)
    except DomainError:
        return None


async def _free_account_name(identity: Identity) -> str:
    """A generated, unused account name for an account made by a third-party sign-in."""
    for _ in range(10):
        name = f"{identity.provider[:12]}-{secrets.token_hex(5)}".lower()
        name = "".join(ch if ch.isalnum() or ch in "._-" else "-" for ch in name)
        if not await Account.filter(account_name_index=await account_name_index(name)).exists():
            return name
    raise RuntimeError("could not find a free account name")


async def bound_account(identity: Identity) -> Account | None:
    """The account this proven identity is bound to, whatever its status: signing in,
    recovering and restoring a cancelled account all find it this one way."""
    binding = (
        await Binding.filter(
            provider=identity.provider, subject_index=await subject_index(identity)
        )
        .select_related("account")
        .first()
    )
    return binding.account if binding is not None else None


async def sign_in(identity: Identity) -> tuple[Account, bool]:
    """The account bound to this identity, or a new one made only from its public claims."""
    bound = await bound_account(identity)
    if bound is not None:
        if bound.status != AccountStatus.ACTIVE:
            raise DomainError(AccountErrorCode.ACCOUNT_INACTIVE, None, "this account is not active")
        return bound, False
    nickname, picture = _public_nickname(identity), _public_picture(identity)
    try:
        async with in_transaction("default"):
            account = await Account.create(
                account_name=await _free_account_name(identity),
                nickname=nickname,
                avatar_url=picture,
            )
            await Binding.create(
                account=account,
                provider=identity.provider,
                subject=identity.subject,
                nickname=nickname,
                avatar_url=picture,
            )
    except IntegrityError:  # the same identity signed in twice at once: use the winner
        binding = await Binding.get(
            provider=identity.provider, subject_index=await subject_index(identity)
        )
        return await Account.get(id=binding.account_id), False
    return account, True


async def bind(account: Account, identity: Identity) -> Binding:
    existing = await Binding.filter(
        provider=identity.provider, subject_index=await subject_index(identity)
    ).first()
    if existing is not None:
        if existing.account_id == account.id:
            return existing
        raise DomainError(
            AccountErrorCode.ALREADY_BOUND, "idToken", "this identity is bound to another account"
        )
    if await Binding.filter(account_id=account.id, provider=identity.provider).exists():
        raise DomainError(
            AccountErrorCode.ALREADY_BOUND,
            "provider",
            "an identity of this provider is already bound",
        )
    try:
        return await Binding.create(
            account=account,
            provider=identity.provider,
            subject=identity.subject,
            nickname=_public_nickname(identity),
            avatar_url=_public_picture(identity),
        )
    except IntegrityError:
        raise DomainError(
            AccountErrorCode.ALREADY_BOUND, "idToken", "this identity is bound to another account"
        ) from None


async def unbind(account: Account, provider: str) -> None:
    """Refused when it would leave no way to sign in (no password, no other binding, no
    passkey)."""
    async with in_transaction("default"):
        binding = await Binding.filter(account_id=account.id, provider=provider).first()
        if binding is None:
            raise DomainError(
                AccountErrorCode.NOT_BOUND, "provider", "no identity of this provider is bound"
            )
        others = await Binding.filter(account_id=account.id).exclude(id=binding.id).count()
        fresh = await Account.get(id=account.id)
        passkeys = await Passkey.filter(account_id=account.id).exists()
        if fresh.password_hash is None and others == 0 and not passkeys:
            raise DomainError(
                AccountErrorCode.LAST_SIGN_IN_METHOD,
                "provider",
                "set a password, bind another identity or add a passkey before unbinding "
                "the last one",
            )
        await binding.delete()


async def grant_reset(identity: Identity, settings: Settings) -> str:
    """A one-time password-reset token for the account bound to a proven identity."""
    bound = await bound_account(identity)
    if bound is None or bound.status != AccountStatus.ACTIVE:
        raise DomainError(
            AccountErrorCode.NOT_BOUND, "idToken", "no active account is bound to this identity"
        )
    token = secrets.token_urlsafe(32)
    await PasswordReset.create(
        account_id=bound.id,
        token_hash=hash_token(token),
        expires_at=clock.now() + settings.password_reset_ttl,
    )
    return token


async def reset_password(passwords: Passwords, token: str, new_password: str) -> Account:
    """Spend a reset token exactly once: set the password and end every session.

    The new password is checked before the token is spent, so a weak choice does not cost
    the user their recovery.
    """
    invalid = DomainError(
        AccountErrorCode.INVALID_TOKEN, "resetToken", "this reset token is not valid"
    )
    if not token or len(token) > 128:
        raise invalid
    reset = await PasswordReset.filter(token_hash=hash_token(token)).first()
    if reset is None or reset.expires_at <= clock.now():
        raise invalid
    account = await Account.get(id=reset.account_id)
    if account.status != AccountStatus.ACTIVE:
        raise invalid
    check_password_shape(new_password, account.account_name, field="newPassword")
    await passwords.check_strength(
        new_password, [account.account_name, account.nickname], field="newPassword"
    )
    if not await PasswordReset.filter(id=reset.id).delete():
        raise invalid  # spent by a concurrent request
    await set_password(passwords, account, new_password)
    # A recovery ends every other outstanding recovery of the account too.
    await PasswordReset.filter(account_id=account.id).delete()
    return account
