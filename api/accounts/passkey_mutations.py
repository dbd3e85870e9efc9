"""Mutation fields for passkeys (rules in ``models.accounts.passkeys``)."""

from __future__ import annotations

import strawberry
from strawberry.types import Info

from api.accounts.inputs import (
    BeginPasskeyRegistrationInput,
    FinishPasskeyRegistrationInput,
    FinishPasskeySignInInput,
    RemovePasskeyInput,
    RenamePasskeyInput,
)
from api.accounts.sign_in import link_device_of, sign_in
from api.accounts.types import (
    Account,
    AccountError,
    BeginPasskeyRegistrationPayload,
    BeginPasskeySignInPayload,
    FinishPasskeyRegistrationPayload,
    FinishPasskeySignInPayload,
    Passkey,
    RemovePasskeyPayload,
    RenamePasskeyPayload,
)
from api.context import Context
from api.live_streams import announce_sessions_changed
from api.nodes import row_id_of
from api.payloads import payload
from models.accounts import factors, passkeys
from models.accounts.levels import AuthLevel
from models.consent.ledger import clean_device_id


@strawberry.type
class PasskeyMutations:
    """Passkeys (WebAuthn): register, rename, remove, and sign in with one."""

    @strawberry.mutation(
        description="Start adding a passkey: the options for navigator.credentials.create()."
    )
    @payload(AccountError, signed_in=True)
    async def begin_passkey_registration(
        self, info: Info[Context, None], input: BeginPasskeyRegistrationInput
    ) -> BeginPasskeyRegistrationPayload:
        ctx = info.context
        session = await ctx.reauthenticate(
            password=input.password, provider=input.provider, id_token=input.id_token
        )
        challenge_id, options = await passkeys.begin_registration(ctx.settings, session.account)
        return BeginPasskeyRegistrationPayload(challenge_id=challenge_id, options=options)

    @strawberry.mutation(
        description="Keep the passkey the browser made: a second factor from now on (sign-in "
        "with a password takes two steps), and this session counts as multi-factor. The "
        "first one answers ten recovery codes, once."
    )
    @payload(AccountError, signed_in=True)
    async def finish_passkey_registration(
        self, info: Info[Context, None], input: FinishPasskeyRegistrationInput
    ) -> FinishPasskeyRegistrationPayload:
        ctx = info.context
        session = await ctx.require_session()
        row, codes = await factors.add_passkey(
            session, ctx.settings, input.challenge_id, input.credential, input.name
        )
        return FinishPasskeyRegistrationPayload(passkey=Passkey.of(row), recovery_codes=codes)

    @strawberry.mutation
    @payload(AccountError, signed_in=True)
    async def rename_passkey(
        self, info: Info[Context, None], input: RenamePasskeyInput
    ) -> RenamePasskeyPayload:
        account = await info.context.require_viewer()
        row = await passkeys.rename(account, row_id_of(input.id, "Passkey"), input.name)
        return RenamePasskeyPayload(passkey=Passkey.of(row))

    @strawberry.mutation(
        description="Every other session ends; this one stays signed in. With the last second "
        "factor, the recovery codes go too. Needs a recent sign-in (stepUp)."
    )
    @payload(AccountError, signed_in=True)
    async def remove_passkey(
        self, info: Info[Context, None], input: RemovePasskeyInput
    ) -> RemovePasskeyPayload:
        ctx = info.context
        session = await ctx.reauthenticate(
            password=input.password, provider=input.provider, id_token=input.id_token
        )
        await factors.remove_passkey(session.account, session, row_id_of(input.id, "Passkey"))
        await announce_sessions_changed(ctx, session.account_id)
        return RemovePasskeyPayload()

    @strawberry.mutation(
        description="Start signing in with a passkey: the options for "
        "navigator.credentials.get(), with no account named (the passkey names it)."
    )
    @payload(AccountError)
    async def begin_passkey_sign_in(self, info: Info[Context, None]) -> BeginPasskeySignInPayload:
        ctx = info.context
        await ctx.login_limits.attempt_from(ctx.client_address)
        challenge_id, options = await passkeys.begin_authentication(ctx.settings, None)
        return BeginPasskeySignInPayload(challenge_id=challenge_id, options=options)

    @strawberry.mutation(
        description="Sign in with the passkey the browser answered with: one step, the "
        "session is MULTI_FACTOR (the passkey is something you have, unlocked by the "
        "device's user verification)."
    )
    @payload(AccountError)
    async def finish_passkey_sign_in(
        self, info: Info[Context, None], input: FinishPasskeySignInInput
    ) -> FinishPasskeySignInPayload:
        ctx = info.context
        if input.device_id is not None:  # checked before anything is written
            clean_device_id(input.device_id)
        passkey = await passkeys.finish_authentication(
            ctx.settings,
            input.challenge_id,
            input.credential,
            account=None,
            limits=ctx.login_limits,
            client_address=ctx.client_address,
        )
        await link_device_of(ctx, input.device_id, passkey.account)
        token = await sign_in(ctx, passkey.account, AuthLevel.MULTI_FACTOR)
        return FinishPasskeySignInPayload(account=Account.of(passkey.account), token=token)
