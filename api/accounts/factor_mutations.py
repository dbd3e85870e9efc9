"""Mutation fields for two-step sign-in, step-up and second factors (rules in
``models.accounts.factors``, ``step_up``, ``totp``, ``recovery_codes``)."""

from __future__ import annotations

import strawberry
from strawberry.types import Info

from api.accounts.inputs import CompleteSignInInput, ConfirmTotpInput, StepUpInput
from api.accounts.sign_in import link_device_of, send_notices, sign_in
from api.accounts.types import (
    Account,
    AccountError,
    CompleteSignInPayload,
    ConfirmTotpPayload,
    EnrollTotpPayload,
    RegenerateRecoveryCodesPayload,
    RemoveTotpPayload,
    StepUpPayload,
)
from api.context import Context
from api.live_streams import announce_sessions_changed
from api.payloads import payload
from models.accounts import factors, sign_in_challenges, totp
from models.accounts.errors import AccountErrorCode
from models.accounts.levels import AuthLevel
from models.accounts.step_up import Proof, renew_authentication
from models.consent.ledger import clean_device_id
from models.errors import DomainError
from models.rights import deletion


@strawberry.type
class SecondFactorMutations:
    """Two-step sign-in, step-up, and the account's second factors."""

    @strawberry.mutation(
        description="The second sign-in step, after login, signInWithProvider or "
        "restoreAccount answered `secondFactor`: opens the session (at MULTI_FACTOR)."
    )
    @payload(AccountError)
    async def complete_sign_in(
        self, info: Info[Context, None], input: CompleteSignInInput
    ) -> CompleteSignInPayload:
        ctx = info.context
        if input.device_id is not None:  # checked before anything is written
            clean_device_id(input.device_id)
        ctx.login_attempts += 1
        if ctx.login_attempts > 1:
            raise DomainError(AccountErrorCode.TOO_MANY_LOGINS, None, "one login per request")
        done = await sign_in_challenges.complete(
            input.challenge,
            ctx.settings,
            totp_code=input.totp_code,
            recovery_code=input.recovery_code,
            passkey=input.passkey.assertion() if input.passkey else None,
            limits=ctx.login_limits,
            client_address=ctx.client_address,
        )
        account = done.account
        if done.purpose == sign_in_challenges.Purpose.RESTORE:
            account = await deletion.restore_account(account)
            await send_notices(ctx)
        await link_device_of(ctx, input.device_id, account)
        token = await sign_in(ctx, account, AuthLevel.MULTI_FACTOR)
        return CompleteSignInPayload(account=Account.of(account), token=token)

    @strawberry.mutation(
        description="Prove who you are again, so that sensitive operations of the next "
        "minutes (ACCORD_RECENT_AUTH_WINDOW) go through; they answer "
        "REAUTHENTICATION_REQUIRED with the `factors` to give here."
    )
    @payload(AccountError, signed_in=True)
    async def step_up(self, info: Info[Context, None], input: StepUpInput) -> StepUpPayload:
        ctx = info.context
        session = await ctx.require_session()
        level = await renew_authentication(
            ctx.passwords,
            ctx.provider_keys,
            ctx.settings,
            session,
            Proof(
                password=input.password,
                provider=input.provider,
                id_token=input.id_token,
                totp_code=input.totp_code,
                recovery_code=input.recovery_code,
                passkey=input.passkey.assertion() if input.passkey else None,
            ),
            limits=ctx.login_limits,
            client_address=ctx.client_address,
        )
        return StepUpPayload(auth_level=level, authenticated_at=session.authenticated_at)

    @strawberry.mutation(
        description="Start setting up an authenticator app (TOTP); it is used only once "
        "confirmTotp has a first code from it. Needs a recent sign-in (stepUp)."
    )
    @payload(AccountError, signed_in=True)
    async def enroll_totp(self, info: Info[Context, None]) -> EnrollTotpPayload:
        ctx = info.context
        session = await ctx.reauthenticate()
        enrollment = await totp.enroll(session.account, ctx.settings)
        return EnrollTotpPayload(
            secret=enrollment.secret,
            provisioning_uri=enrollment.provisioning_uri,
            qr_code=enrollment.qr_code,
        )

    @strawberry.mutation(
        description="Turn the authenticator on with a first code; answers the ten recovery "
        "codes, once. From now on sign-in takes two steps."
    )
    @payload(AccountError, signed_in=True)
    async def confirm_totp(
        self, info: Info[Context, None], input: ConfirmTotpInput
    ) -> ConfirmTotpPayload:
        ctx = info.context
        session = await ctx.require_session()
        codes = await factors.confirm_totp(session, input.code, ctx.settings)
        return ConfirmTotpPayload(recovery_codes=codes, account=Account.of(session.account))

    @strawberry.mutation(
        description="Remove the authenticator (with the last second factor, the recovery "
        "codes go too); every other session ends. Needs a recent sign-in (stepUp)."
    )
    @payload(AccountError, signed_in=True)
    async def remove_totp(self, info: Info[Context, None]) -> RemoveTotpPayload:
        ctx = info.context
        session = await ctx.reauthenticate()
        await factors.remove_totp(session.account, session)
        await announce_sessions_changed(ctx, session.account_id)
        return RemoveTotpPayload(account=Account.of(session.account))

    @strawberry.mutation(
        description="Ten new recovery codes, shown once; the old ones stop working. Needs a "
        "recent sign-in (stepUp)."
    )
    @payload(AccountError, signed_in=True)
    async def regenerate_recovery_codes(
        self, info: Info[Context, None]
    ) -> RegenerateRecoveryCodesPayload:
        ctx = info.context
        session = await ctx.reauthenticate()
        codes = await factors.regenerate_recovery_codes(session.account, ctx.settings)
        return RegenerateRecoveryCodesPayload(recovery_codes=codes)
