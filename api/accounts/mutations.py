"""Mutation fields of the accounts domain: sign-up and sign-in, sessions, the profile,
passwords, bound providers, and cancelling and restoring an account. Thin calls into
``models``; who may call each is declared beside it with ``@payload``."""

from __future__ import annotations

import uuid

import strawberry
import structlog
from strawberry.types import Info

from api.accounts.inputs import (
    AddEmailInput,
    AddPhoneInput,
    BeginPasskeyRegistrationInput,
    BindProviderInput,
    CancelAccountInput,
    ChangePasswordInput,
    CompleteSignInInput,
    ConfirmTotpInput,
    DisownSignInInput,
    FinishPasskeyRegistrationInput,
    FinishPasskeySignInInput,
    LoginInput,
    RecoverWithProviderInput,
    RegisterInput,
    RemoveContactInput,
    RemovePasskeyInput,
    RenamePasskeyInput,
    ResetPasswordInput,
    RestoreAccountInput,
    RevokeSessionInput,
    SignInWithProviderInput,
    StepUpInput,
    UnbindProviderInput,
    UpdateProfileInput,
    VerifyContactInput,
)
from api.accounts.types import (
    Account,
    AccountError,
    AddEmailPayload,
    AddPhonePayload,
    BeginPasskeyRegistrationPayload,
    BeginPasskeySignInPayload,
    Binding,
    BindProviderPayload,
    CancelAccountPayload,
    ChangePasswordPayload,
    CompleteSignInPayload,
    ConfirmTotpPayload,
    DisownSignInPayload,
    EnrollTotpPayload,
    FinishPasskeyRegistrationPayload,
    FinishPasskeySignInPayload,
    LoginPayload,
    LogoutPayload,
    Passkey,
    RecoverWithProviderPayload,
    RegenerateRecoveryCodesPayload,
    RegisterPayload,
    RemoveContactPayload,
    RemovePasskeyPayload,
    RemoveTotpPayload,
    RenamePasskeyPayload,
    ResetPasswordPayload,
    RestoreAccountPayload,
    RevokeSessionPayload,
    SecondFactorChallenge,
    SignInWithProviderPayload,
    SignOutOtherSessionsPayload,
    StepUpPayload,
    UnbindProviderPayload,
    UpdateProfilePayload,
    VerifyContactPayload,
)
from api.accounts.types import ContactVerification as ContactVerificationType
from api.context import Context
from api.live_streams import announce_sessions_changed
from api.nodes import key_of, row_id_of
from api.payloads import payload
from models import jobs
from models.accounts import (
    authentication,
    bindings,
    contacts,
    factors,
    passkeys,
    sign_in_challenges,
    sign_ins,
    totp,
)
from models.accounts.account import Account as AccountRow
from models.accounts.errors import AccountErrorCode
from models.accounts.levels import AuthLevel, Factor
from models.accounts.oidc import verify_id_token
from models.accounts.sessions import Session, end_other_sessions, network_of, open_session
from models.accounts.step_up import Proof, renew_authentication
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


async def _sign_in(
    ctx: Context, account: AccountRow, level: AuthLevel = AuthLevel.SINGLE_FACTOR
) -> str:
    """Open a session for an account that just proved who it is; the account the payload
    returns is then read as that session reads it (``Context.signed_in``). Every way of
    signing in comes through here, so each one records its device and network and sends a
    sign-in notice when one is new (``models.accounts.sign_ins``)."""
    session_id, network = uuid.uuid4(), network_of(ctx.client_address)
    token = await open_session(
        account, ctx.settings, ctx.user_agent, level, network=network, session_id=session_id
    )
    if await sign_ins.note_sign_in(account, session_id, ctx.settings, ctx.user_agent, network):
        await _send_notices(ctx)
    ctx.signed_in(account.id, token)
    return token


async def _second_step(
    ctx: Context,
    account: AccountRow,
    first: Factor,
    purpose: sign_in_challenges.Purpose = sign_in_challenges.Purpose.SIGN_IN,
) -> SecondFactorChallenge | None:
    """An account with a second factor signs in in two steps: the first opens no session
    but a challenge for ``completeSignIn``. None for an account without one."""
    second = await factors.second_factors(account.id)
    if not second:
        return None
    challenge = await sign_in_challenges.issue(account, first, ctx.settings, purpose)
    return SecondFactorChallenge(
        challenge=challenge.token, expires_at=challenge.expires_at, factors=second
    )


async def _count_login(ctx: Context, account_name: str) -> None:
    """At most one sign-in step per HTTP request (aliases and batches included); the extra
    ones are still counted, so packing guesses into one request buys nothing."""
    ctx.login_attempts += 1
    if ctx.login_attempts > 1:
        await ctx.login_limits.attempt(account_name, ctx.client_address)
        raise DomainError(AccountErrorCode.TOO_MANY_LOGINS, None, "one login per request")


async def _send_notices(ctx: Context) -> None:
    """The notice rows are written; the worker sends them (the sweeper would, a minute on)."""
    try:
        await jobs.deliver_account_notices(ctx.queue)
    except Exception as error:  # the rows are the promise; the sweeper enqueues them
        log.warning("notices not enqueued; the sweeper will", error=repr(error))


async def _add_contact(
    ctx: Context,
    channel: contacts.ContactChannel,
    raw: str,
    proof: AddEmailInput | AddPhoneInput,
) -> ContactVerificationType:
    """Checked address, recent authentication, then the code goes out."""
    account = await ctx.require_viewer()
    contacts.clean_address(channel, raw, account, ctx.settings)  # a typo is told first
    session = await ctx.reauthenticate(
        password=proof.password, provider=proof.provider, id_token=proof.id_token
    )
    row = await contacts.start_verification(session.account, channel, raw, ctx.settings)
    await _send_notices(ctx)
    return ContactVerificationType.of(row, ctx.settings.contact_code_max_attempts)


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
        await _count_login(ctx, authentication.limit_key(input.account_name))
        account = await authentication.login(
            ctx.passwords,
            ctx.login_limits,
            account_name=input.account_name,
            password=input.password,
            client_address=ctx.client_address,
        )
        challenge = await _second_step(ctx, account, Factor.PASSWORD)
        if challenge is not None:
            return LoginPayload(second_factor=challenge)
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
        account = await authentication.update_profile(account, changes)
        for channel, address in planned:
            if address is None:
                account = await contacts.remove(account, channel)
            else:
                await contacts.start_verification(account, channel, address, ctx.settings)
        if planned:
            await _send_notices(ctx)
        return UpdateProfilePayload(account=Account.of(account))

    @strawberry.mutation(
        description="Send a code to a new e-mail address; it becomes `Account.email` once "
        "verifyContact gets the code back, and replaces an address still waiting."
    )
    @payload(AccountError, signed_in=True)
    async def add_email(self, info: Info[Context, None], input: AddEmailInput) -> AddEmailPayload:
        row = await _add_contact(info.context, contacts.ContactChannel.EMAIL, input.email, input)
        return AddEmailPayload(verification=row)

    @strawberry.mutation(
        description="Send a code by SMS to a new phone number; it becomes `Account.phone` "
        "once verifyContact gets the code back, and replaces a number still waiting."
    )
    @payload(AccountError, signed_in=True)
    async def add_phone(self, info: Info[Context, None], input: AddPhoneInput) -> AddPhonePayload:
        row = await _add_contact(info.context, contacts.ContactChannel.PHONE, input.phone, input)
        return AddPhonePayload(verification=row)

    @strawberry.mutation(
        description="The code sent to the channel's pending address: the address becomes "
        "the account's (a verified one it replaces is told). Codes are single-use and "
        "short-lived; too many wrong ones and the address must be added again."
    )
    @payload(AccountError, signed_in=True)
    async def verify_contact(
        self, info: Info[Context, None], input: VerifyContactInput
    ) -> VerifyContactPayload:
        ctx = info.context
        account = await ctx.require_viewer()
        old = contacts.verified_address(account, input.channel)
        account = await contacts.verify(account, input.channel, input.code, ctx.settings)
        if old is not None:  # the old address was told
            await _send_notices(ctx)
        return VerifyContactPayload(account=Account.of(account))

    @strawberry.mutation(
        description="Remove the channel's verified address (it is told) and any pending one."
    )
    @payload(AccountError, signed_in=True)
    async def remove_contact(
        self, info: Info[Context, None], input: RemoveContactInput
    ) -> RemoveContactPayload:
        ctx = info.context
        session = await ctx.reauthenticate(
            password=input.password, provider=input.provider, id_token=input.id_token
        )
        had = contacts.verified_address(session.account, input.channel)
        account = await contacts.remove(session.account, input.channel)
        if had is not None:
            await _send_notices(ctx)
        return RemoveContactPayload(account=Account.of(account))

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
        challenge = await _second_step(ctx, account, Factor.PROVIDER)
        if challenge is not None:
            return SignInWithProviderPayload(second_factor=challenge)
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
        challenge = await _second_step(ctx, account, first, sign_in_challenges.Purpose.RESTORE)
        if challenge is not None:  # restored by completeSignIn
            return RestoreAccountPayload(second_factor=challenge)
        account = await deletion.restore_account(account)
        await _send_notices(ctx)
        token = await _sign_in(ctx, account)
        return RestoreAccountPayload(account=Account.of(account), token=token)

    # --- passkeys ------------------------------------------------------------------------

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
        await _link_device(ctx, input.device_id, passkey.account)
        token = await _sign_in(ctx, passkey.account, AuthLevel.MULTI_FACTOR)
        return FinishPasskeySignInPayload(account=Account.of(passkey.account), token=token)


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
            await _send_notices(ctx)
        await _link_device(ctx, input.device_id, account)
        token = await _sign_in(ctx, account, AuthLevel.MULTI_FACTOR)
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
