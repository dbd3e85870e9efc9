"""Mutation fields of the accounts domain: sign-up and sign-in, sessions, the profile,
passwords, bound providers, and cancelling and restoring an account. Thin calls into
``models``; who may call each is declared beside it with ``@payload``."""

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
from models import jobs
from models.accounts import authentication, bindings, sign_ins
from models.accounts.account import Account as AccountRow
from models.accounts.errors import AccountErrorCode
from models.accounts.oidc import verify_id_token
from models.accounts.sessions import Session, end_other_sessions, network_of, open_session
from models.consent.decisions import link_device
from models.consent.ledger import Source, clean_device_id
from models.errors import DomainError
from models.rights import deletion

log = structlog.get_logger("accord.cancellation")


async def _link_device(ctx: Context, device_id: str | None, account: AccountRow) -> None:
    """A device that signs in brings its anonymous consent history to the account."""
    if device_id is None:
        return
    await link_device(
        clean_device_id(device_id),
        account,
        source=Source.API,
        user_agent=ctx.user_agent,
        client_address=ctx.client_address,
    )


async def _sign_in(ctx: Context, account: AccountRow) -> str:
    """Open a session for an account that just proved who it is; the account the payload
    returns is then read as that session reads it (``Context.signed_in``). Every way of
    signing in comes through here, so each one records its device and network and sends a
    sign-in notice when one is new (``models.accounts.sign_ins``)."""
    session_id, network = uuid.uuid4(), network_of(ctx.client_address)
    token = await open_session(
        account, ctx.settings, ctx.user_agent, network=network, session_id=session_id
    )
    if await sign_ins.note_sign_in(account, session_id, ctx.settings, ctx.user_agent, network):
        await _send_notices(ctx)
    ctx.signed_in(account.id, token)
    return token


async def _send_notices(ctx: Context) -> None:
    """The notice rows are written; the worker sends them (the sweeper would, a minute on)."""
    try:
        await jobs.deliver_account_notices(ctx.queue)
    except Exception as error:  # the rows are the promise; the sweeper enqueues them
        log.warning("notices not enqueued; the sweeper will", error=repr(error))


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
            ),
        )
        await _link_device(ctx, input.device_id, account)
        token = await _sign_in(ctx, account)
        return RegisterPayload(account=Account.of(account), token=token)

    @strawberry.mutation(description="At most one login per HTTP request.")
    @payload(AccountError)
    async def login(self, info: Info[Context, None], input: LoginInput) -> LoginPayload:
        ctx = info.context
        if input.device_id is not None:  # checked before anything is written
            clean_device_id(input.device_id)
        ctx.login_attempts += 1
        if ctx.login_attempts > 1:
            # Still counted, so packing guesses into one request buys nothing.
            await ctx.login_limits.attempt(
                authentication.limit_key(input.account_name), ctx.client_address
            )
            raise DomainError(AccountErrorCode.TOO_MANY_LOGINS, None, "one login per request")
        account = await authentication.login(
            ctx.passwords,
            ctx.login_limits,
            account_name=input.account_name,
            password=input.password,
            client_address=ctx.client_address,
        )
        await _link_device(ctx, input.device_id, account)
        token = await _sign_in(ctx, account)
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

    @strawberry.mutation
    @payload(AccountError, signed_in=True)
    async def update_profile(
        self, info: Info[Context, None], input: UpdateProfileInput
    ) -> UpdateProfilePayload:
        account = await info.context.require_viewer()
        given = {
            "nickname": input.nickname,
            "avatar_url": input.avatar_url,
            "gender": input.gender,
            "region": input.region,
            "signature": input.signature,
            "email": input.email,
            "phone": input.phone,
        }
        changes = {k: v for k, v in given.items() if v is not strawberry.UNSET}
        if changes.get("nickname", "") is None:
            raise DomainError(AccountErrorCode.REQUIRED, "nickname", "a nickname cannot be removed")
        account = await authentication.update_profile(account, changes)
        return UpdateProfilePayload(account=Account.of(account))

    @strawberry.mutation(description="Other sessions end; this one stays signed in.")
    @payload(AccountError, signed_in=True)
    async def change_password(
        self, info: Info[Context, None], input: ChangePasswordInput
    ) -> ChangePasswordPayload:
        ctx = info.context
        session = await ctx.require_session()
        await authentication.change_password(
            ctx.passwords,
            session.account,
            input.current_password,
            input.new_password,
            keep_session=session.id,
            limits=ctx.login_limits,
            client_address=ctx.client_address,
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
        await _link_device(ctx, input.device_id, account)
        token = await _sign_in(ctx, account)
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
        due = await deletion.cancel_account(session.account, ctx.settings, input.reason)
        await announce_sessions_changed(ctx, session.account_id)
        await _send_notices(ctx)
        return CancelAccountPayload(account=Account.of(session.account), deletion_due_at=due)

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
            account = bound
        elif input.account_name and input.password:
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
        account = await deletion.restore_account(account)
        await _send_notices(ctx)
        token = await _sign_in(ctx, account)
        return RestoreAccountPayload(account=Account.of(account), token=token)
