"""Mutation fields of the accounts domain: sign-up and sign-in, sessions, the profile,
passwords, bound providers, and cancelling and restoring an account. Thin calls into
``models``; who may call each is declared beside it with ``@payload``. Contact points,
second factors and passkeys have their own modules beside this one."""

from __future__ import annotations

import uuid

import strawberry
import structlog
from strawberry.types import Info

from api.accounts.inputs import (
    BindProviderInput,
    CancelAccountInput,
    ChangePasswordInput,
    DisownSignInInput,
    LoginInput,
    RecoverWithProviderInput,
    RegisterInput,
    ResetPasswordInput,
    RestoreAccountInput,
    RevokeSessionInput,
    SignInWithProviderInput,
    UnbindProviderInput,
    UpdateProfileInput,
)
from api.accounts.sign_in import count_login, link_device_of, second_step, send_notices, sign_in
from api.accounts.types import (
    Account,
    AccountError,
    Binding,
    BindProviderPayload,
    CancelAccountPayload,
    ChangePasswordPayload,
    DisownSignInPayload,
    LoginPayload,
    LogoutPayload,
    RecoverWithProviderPayload,
    RegisterPayload,
    ResetPasswordPayload,
    RestoreAccountPayload,
    RevokeSessionPayload,
    SignInWithProviderPayload,
    SignOutOtherSessionsPayload,
    UnbindProviderPayload,
    UpdateProfilePayload,
)
from api.context import Context
from api.live_streams import announce_sessions_changed
from api.nodes import key_of
from api.payloads import payload
from models.accounts import authentication, bindings, contacts, sign_in_challenges, sign_ins
from models.accounts.errors import AccountErrorCode
from models.accounts.levels import Factor
from models.accounts.oidc import verify_id_token
from models.accounts.sessions import Session, end_other_sessions
from models.consent.ledger import clean_device_id
from models.errors import DomainError
from models.rights import deletion

log = structlog.get_logger("accord.cancellation")


@strawberry.type
class AccountMutations:
    @strawberry.mutation
    @payload(AccountError)
    async def register(self, info: Info[Context, None], input: RegisterInput) -> RegisterPayload:
        ctx = info.context
        if input.device_id is not None:  # checked before anything is written
            clean_device_id(input.device_id)
        account = await authentication.register(
            ctx.passwords,
            ctx.settings,
            account_name=input.account_name,
            password=input.password,
            profile=authentication.Profile(
                nickname=input.nickname,
                avatar_url=input.avatar_url,
                gender=input.gender,
                region=input.region,
                signature=input.signature,
                birth_year=input.birth_year,
            ),
        )
        await link_device_of(ctx, input.device_id, account)
        token = await sign_in(ctx, account)
        return RegisterPayload(account=Account.of(account), token=token)

    @strawberry.mutation(description="At most one login per HTTP request.")
    @payload(AccountError)
    async def login(self, info: Info[Context, None], input: LoginInput) -> LoginPayload:
        ctx = info.context
        if input.device_id is not None:  # checked before anything is written
            clean_device_id(input.device_id)
        await count_login(ctx, authentication.limit_key(input.account_name))
        account = await authentication.login(
            ctx.passwords,
            ctx.login_limits,
            account_name=input.account_name,
            password=input.password,
            client_address=ctx.client_address,
        )
        challenge = await second_step(ctx, account, Factor.PASSWORD)
        if challenge is not None:
            return LoginPayload(second_factor=challenge)
        await link_device_of(ctx, input.device_id, account)
        token = await sign_in(ctx, account)
        return LoginPayload(account=Account.of(account), token=token)

    @strawberry.mutation(description="End the current session.")
    @payload(AccountError, signed_in=True)
    async def logout(self, info: Info[Context, None]) -> LogoutPayload:
        session = await info.context.require_session()
        await Session.filter(id=session.id).delete()
        await announce_sessions_changed(info.context, session.account_id)
        return LogoutPayload()

    @strawberry.mutation(description="End one of your sessions, for example a lost phone's.")
    @payload(AccountError, signed_in=True)
    async def revoke_session(
        self, info: Info[Context, None], input: RevokeSessionInput
    ) -> RevokeSessionPayload:
        account = await info.context.require_viewer()
        try:
            session_id = uuid.UUID(key_of(input.id, "Session") or "")
        except ValueError:
            session_id = None
        deleted = (
            await Session.filter(id=session_id, account_id=account.id).delete() if session_id else 0
        )
        if not deleted:
            raise DomainError(AccountErrorCode.NOT_FOUND, "id", "no such session")
        await announce_sessions_changed(info.context, account.id)
        return RevokeSessionPayload()

    @strawberry.mutation(
        description="End every session of yours but this one; answers how many ended."
    )
    @payload(AccountError, signed_in=True)
    async def sign_out_other_sessions(
        self, info: Info[Context, None]
    ) -> SignOutOtherSessionsPayload:
        ctx = info.context
        session = await ctx.require_session()
        ended = await end_other_sessions(session, ctx.settings)
        await announce_sessions_changed(ctx, session.account_id)
        return SignOutOtherSessionsPayload(ended=ended)

    @strawberry.mutation(
        description='"This wasn\'t me": the token of a sign-in notice ends the session it '
        "reports, signed in or not. Using it again changes nothing and is no error."
    )
    @payload(AccountError)
    async def disown_sign_in(
        self, info: Info[Context, None], input: DisownSignInInput
    ) -> DisownSignInPayload:
        account_id, ended = await sign_ins.disown(input.token)
        if ended:
            await announce_sessions_changed(info.context, account_id)
        return DisownSignInPayload(session_ended=ended)

    @strawberry.mutation(
        description="A new email or phone is not stored as given: it starts the same "
        "verification as addEmail/addPhone (see UpdateProfileInput)."
    )
    @payload(AccountError, signed_in=True)
    async def update_profile(
        self, info: Info[Context, None], input: UpdateProfileInput
    ) -> UpdateProfilePayload:
        ctx = info.context
        account = await ctx.require_viewer()
        given = {
            "nickname": input.nickname,
            "avatar_url": input.avatar_url,
            "gender": input.gender,
            "region": input.region,
            "signature": input.signature,
            "birth_year": input.birth_year,
        }
        changes = {k: v for k, v in given.items() if v is not strawberry.UNSET}
        if changes.get("nickname", "") is None:
            raise DomainError(AccountErrorCode.REQUIRED, "nickname", "a nickname cannot be removed")
        addresses = {
            channel: value
            for channel, value in (
                (contacts.ContactChannel.EMAIL, input.email),
                (contacts.ContactChannel.PHONE, input.phone),
            )
            if value is not strawberry.UNSET
        }
        region = changes["region"] if "region" in changes else account.region
        planned = await contacts.profile_changes(
            account,
            addresses,
            ctx.settings,
            region=str(region).strip().upper() if region else None,
        )
        if planned:
            await ctx.reauthenticate(
                password=input.password, provider=input.provider, id_token=input.id_token
            )
        account = await authentication.update_profile(account, changes, ctx.settings)
        for channel, address in planned:
            if address is None:
                account = await contacts.remove(account, channel)
            else:
                await contacts.start_verification(account, channel, address, ctx.settings)
        if planned:
            await send_notices(ctx)
        return UpdateProfilePayload(account=Account.of(account))

    @strawberry.mutation(description="Other sessions end; this one stays signed in.")
    @payload(AccountError, signed_in=True)
    async def change_password(
        self, info: Info[Context, None], input: ChangePasswordInput
    ) -> ChangePasswordPayload:
        ctx = info.context
        session = await ctx.reauthenticate(
            password=input.current_password, proof_field="currentPassword"
        )
        await authentication.set_password(
            ctx.passwords, session.account, input.new_password, keep_session=session.id
        )
        await announce_sessions_changed(ctx, session.account_id)
        return ChangePasswordPayload()

    @strawberry.mutation(
        description="Sign in with an OpenID Connect ID token; the first sign-in of an unbound "
        "identity creates an account from its public nickname and picture only."
    )
    @payload(AccountError)
    async def sign_in_with_provider(
        self, info: Info[Context, None], input: SignInWithProviderInput
    ) -> SignInWithProviderPayload:
        ctx = info.context
        if input.device_id is not None:  # checked before anything is written
            clean_device_id(input.device_id)
        identity = await verify_id_token(
            ctx.provider_keys, input.provider, input.id_token, input.nonce
        )
        account, created = await bindings.sign_in(identity)
        challenge = await second_step(ctx, account, Factor.PROVIDER)
        if challenge is not None:
            return SignInWithProviderPayload(second_factor=challenge)
        await link_device_of(ctx, input.device_id, account)
        token = await sign_in(ctx, account)
        return SignInWithProviderPayload(account=Account.of(account), token=token, created=created)

    @strawberry.mutation
    @payload(AccountError, signed_in=True)
    async def bind_provider(
        self, info: Info[Context, None], input: BindProviderInput
    ) -> BindProviderPayload:
        ctx = info.context
        account = await ctx.require_viewer()
        identity = await verify_id_token(
            ctx.provider_keys, input.provider, input.id_token, input.nonce
        )
        binding = await bindings.bind(account, identity)
        return BindProviderPayload(binding=Binding.of(binding))

    @strawberry.mutation
    @payload(AccountError, signed_in=True)
    async def unbind_provider(
        self, info: Info[Context, None], input: UnbindProviderInput
    ) -> UnbindProviderPayload:
        ctx = info.context
        session = await ctx.reauthenticate(
            password=input.password, provider=input.provider, id_token=input.id_token
        )
        await bindings.unbind(session.account, input.provider)
        return UnbindProviderPayload()

    @strawberry.mutation(
        description="Prove a bound identity to get a one-time token for resetPassword."
    )
    @payload(AccountError)
    async def recover_with_provider(
        self, info: Info[Context, None], input: RecoverWithProviderInput
    ) -> RecoverWithProviderPayload:
        ctx = info.context
        identity = await verify_id_token(
            ctx.provider_keys, input.provider, input.id_token, input.nonce
        )
        reset_token = await bindings.grant_reset(identity, ctx.settings)
        return RecoverWithProviderPayload(reset_token=reset_token)

    @strawberry.mutation(description="Every session of the account ends.")
    @payload(AccountError)
    async def reset_password(
        self, info: Info[Context, None], input: ResetPasswordInput
    ) -> ResetPasswordPayload:
        account = await bindings.reset_password(
            info.context.passwords, input.reset_token, input.new_password
        )
        await announce_sessions_changed(info.context, account.id)
        return ResetPasswordPayload()

    @strawberry.mutation(
        description="Cancel your account: every session ends and the account is deleted "
        "after the grace period unless you restore it."
    )
    @payload(AccountError, signed_in=True)
    async def cancel_account(
        self, info: Info[Context, None], input: CancelAccountInput
    ) -> CancelAccountPayload:
        ctx = info.context
        session = await ctx.reauthenticate(
            password=input.password, provider=input.provider, id_token=input.id_token
        )
        cancelled = await deletion.cancel_account(session.account, ctx.settings, input.reason)
        await announce_sessions_changed(ctx, session.account_id)
        await send_notices(ctx)
        return CancelAccountPayload(
            account=Account.of(session.account),
            deletion_due_at=cancelled.due,
            erasure_receipt_id=strawberry.ID(cancelled.receipt_id),
            erasure_receipt_secret=cancelled.receipt_secret,
        )

    @strawberry.mutation(description="Within the grace period, undo cancelAccount.")
    @payload(AccountError)
    async def restore_account(
        self, info: Info[Context, None], input: RestoreAccountInput
    ) -> RestoreAccountPayload:
        ctx = info.context
        if input.provider and input.id_token:
            identity = await verify_id_token(ctx.provider_keys, input.provider, input.id_token)
            bound = await bindings.bound_account(identity)
            if bound is None:
                raise DomainError(
                    AccountErrorCode.NOT_BOUND, "idToken", "no account is bound to this identity"
                )
            account, first = bound, Factor.PROVIDER
        elif input.account_name and input.password:
            first = Factor.PASSWORD
            account = await authentication.login(
                ctx.passwords,
                ctx.login_limits,
                account_name=input.account_name,
                password=input.password,
                client_address=ctx.client_address,
                require_active=False,
            )
        else:
            raise DomainError(
                AccountErrorCode.REQUIRED,
                None,
                "give accountName and password, or provider and idToken",
            )
        challenge = await second_step(ctx, account, first, sign_in_challenges.Purpose.RESTORE)
        if challenge is not None:  # restored by completeSignIn
            return RestoreAccountPayload(second_factor=challenge)
        account = await deletion.restore_account(account)
        await send_notices(ctx)
        token = await sign_in(ctx, account)
        return RestoreAccountPayload(account=Account.of(account), token=token)
