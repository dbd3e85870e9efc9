"""GraphQL types of the accounts domain: the account and what hangs off it, the typed
error, the operators' view of pending deletions, and the mutations' payloads."""

from __future__ import annotations

import uuid
from datetime import datetime

import strawberry
from strawberry.types import Info
from tortoise.queryset import QuerySet

from api.accounts.minor_types import AccountMinorFields
from api.consent.queries import AccountConsentFields
from api.context import Context
from api.nodes import AccordNode, global_id, row_keys
from api.notifications.queries import AccountNotificationFields
from api.payloads import error_code
from api.permissions import OPERATIONS, OWNER, OWNER_OR_ADMIN, visible_to
from api.personal.queries import AccountPersonalFields
from api.rights.queries import AccountRightsFields
from models import clock
from models.accounts import account as model
from models.accounts import contacts, levels
from models.accounts import errors as account_errors
from models.accounts import factors as account_factors
from models.accounts.bindings import Binding as BindingModel
from models.accounts.passkeys import Passkey as PasskeyModel
from models.accounts.recovery_codes import codes_left
from models.accounts.sessions import Session as SessionModel
from models.accounts.user_agents import device_label
from models.errors import DomainError
from models.rights import requests

# ``strawberry.enum`` registers the models' enum itself; the names below are plain aliases,
# so a type checker sees the classes.
strawberry.enum(model.Gender, description="How the user describes themselves.")
strawberry.enum(model.AccountStatus)
strawberry.enum(model.Role, description="USER, or a staff role.")
#: The rules' own enum, so GraphQL lists exactly the codes they raise.
strawberry.enum(account_errors.AccountErrorCode)
strawberry.enum(requests.DeletionStatus)
strawberry.enum(levels.Factor, description="A way to prove who you are.")
strawberry.enum(
    levels.AuthLevel, description="How strongly a session's sign-in (or last stepUp) was proven."
)
strawberry.enum(contacts.ContactChannel, description="Where a verified address reaches you.")
Gender = model.Gender
AccountStatus = model.AccountStatus
Role = model.Role
AccountErrorCode = account_errors.AccountErrorCode
DeletionStatus = requests.DeletionStatus
Factor = levels.Factor
AuthLevel = levels.AuthLevel
ContactChannel = contacts.ContactChannel


@strawberry.type(description="A mistake the caller can fix; switch on `code`, not `message`.")
class AccountError:
    code: AccountErrorCode
    field: str | None
    message: str
    retry_after: int | None = strawberry.field(
        default=None, description="Seconds to wait, for RATE_LIMITED."
    )
    factors: list[Factor] | None = strawberry.field(
        default=None,
        description="For REAUTHENTICATION_REQUIRED and SECOND_FACTOR_REQUIRED: the factors "
        "`stepUp` takes for this account (then one first and one second factor).",
    )

    @classmethod
    def of(cls, error: DomainError) -> AccountError:
        return cls(
            code=error_code(AccountErrorCode, error.code),
            field=error.field,
            message=error.message,
            retry_after=error.retry_after,
            factors=[Factor(f) for f in error.factors] or None,
        )


@strawberry.type(
    description="The first sign-in step succeeded; finish it with `completeSignIn` and one of "
    "`factors` before `expiresAt`."
)
class SecondFactorChallenge:
    challenge: str = strawberry.field(description="Opaque, single use: pass to completeSignIn.")
    expires_at: datetime
    factors: list[Factor]


@strawberry.type(description="A third-party identity bound to the account.")
class Binding(AccordNode):
    provider: str
    nickname: str | None
    avatar_url: str | None
    bound_at: datetime

    @classmethod
    def of(cls, row: BindingModel) -> Binding:
        return cls(
            id=global_id("Binding", row.id),
            provider=row.provider,
            nickname=row.nickname,
            avatar_url=row.avatar_url,
            bound_at=row.bound_at,
        )

    @classmethod
    async def visible(cls, info: Info[Context, None], keys: list[str]) -> dict[str, Binding]:
        """As ``Account.bindings``: the account itself, or an ADMIN."""
        ids = row_keys(keys)
        viewer = await info.context.viewer()
        rows = await BindingModel.filter(id__in=list(ids)) if viewer and ids else []
        staff = await info.context.may_read_subject_data()
        return {
            ids[r.id]: cls.of(r)
            for r in rows
            if OWNER_OR_ADMIN.allows_account(viewer, r.account_id, staff=staff)
        }


@strawberry.type(
    description="A new e-mail address or phone number waiting for the code sent to it "
    "(verifyContact); shown only to the account itself."
)
class ContactVerification:
    channel: ContactChannel
    address: str = strawberry.field(description="Normalised: E.164 for a phone number.")
    expires_at: datetime
    attempts_left: int = strawberry.field(description="Wrong codes still allowed.")

    @classmethod
    def of(cls, row: contacts.ContactVerification, max_attempts: int) -> ContactVerification:
        return cls(
            channel=row.channel,
            address=row.address,
            expires_at=row.expires_at,
            attempts_left=max(0, max_attempts - row.attempts),
        )


@strawberry.type(description="A passkey (WebAuthn credential) the account signs in with.")
class Passkey(AccordNode):
    name: str = strawberry.field(description="What the user calls it; renamePasskey changes it.")
    credential_id: str = strawberry.field(
        description="The credential's id, base64url: what `credential.id` says in the browser."
    )
    created_at: datetime
    last_used_at: datetime | None
    backup_eligible: bool = strawberry.field(
        description="The authenticator may sync it to the user's other devices."
    )
    backed_up: bool = strawberry.field(description="It is synced (as of its last use).")

    @classmethod
    def of(cls, row: PasskeyModel) -> Passkey:
        return cls(
            id=global_id("Passkey", row.id),
            name=row.name,
            credential_id=row.credential_id,
            created_at=row.created_at,
            last_used_at=row.last_used_at,
            backup_eligible=row.backup_eligible,
            backed_up=row.backed_up,
        )

    @classmethod
    async def visible(cls, info: Info[Context, None], keys: list[str]) -> dict[str, Passkey]:
        """As ``Account.passkeys``: the account itself, or an ADMIN."""
        ids = row_keys(keys)
        viewer = await info.context.viewer()
        rows = await PasskeyModel.filter(id__in=list(ids)) if viewer and ids else []
        return {
            ids[r.id]: cls.of(r)
            for r in rows
            if OWNER_OR_ADMIN.allows_account(viewer, r.account_id)
        }


@strawberry.type(description="A signed-in device or browser.")
class Session(AccordNode):
    created_at: datetime = strawberry.field(description="When it signed in.")
    last_seen_at: datetime = strawberry.field(
        description="When it was last used (written at most once a minute)."
    )
    user_agent: str
    device: str = strawberry.field(
        description='A label read from the user agent: "Chrome 131 on Windows", '
        '"Mobile Safari 17 on iOS (iPhone)"; "Unknown device" when none was sent.'
    )
    network: str | None = strawberry.field(
        description="The approximate place: the client network it signed in from, an IPv4 "
        "/24 or IPv6 /48 (`203.0.113.0/24`), never the full address; null when unknown."
    )
    current: bool = strawberry.field(description="It is the session making this request.")

    @classmethod
    def of(cls, row: SessionModel, current: SessionModel | None) -> Session:
        return cls(
            id=global_id("Session", row.id),
            created_at=row.created_at,
            last_seen_at=row.last_seen_at,
            user_agent=row.user_agent,
            device=device_label(row.user_agent),
            network=row.network or None,
            current=current is not None and row.id == current.id,
        )

    @classmethod
    async def visible(cls, info: Info[Context, None], keys: list[str]) -> dict[str, Session]:
        """As ``Account.sessions``: live sessions, to the account itself or an ADMIN."""
        viewer = await info.context.viewer()
        ids = {}
        for key in keys:
            try:
                ids[uuid.UUID(key)] = key
            except ValueError:
                continue
        if viewer is None or not ids:
            return {}
        current = await info.context.session()
        rows = await live_sessions(info).filter(id__in=list(ids))
        staff = await info.context.may_read_subject_data()
        return {
            ids[r.id]: cls.of(r, current)
            for r in rows
            if OWNER_OR_ADMIN.allows_account(viewer, r.account_id, staff=staff)
        }


async def _pending(
    info: Info[Context, None], account_id: int, channel: contacts.ContactChannel
) -> ContactVerification | None:
    row = await contacts.pending_verification(account_id, channel)
    limit = info.context.settings.contact_code_max_attempts
    return ContactVerification.of(row, limit) if row else None


def live_sessions(info: Info[Context, None]) -> QuerySet[SessionModel]:
    """Sessions neither expired nor idle too long."""
    moment = clock.now()
    return SessionModel.filter(
        expires_at__gt=moment,
        last_seen_at__gt=moment - info.context.settings.session_idle_timeout,
    )


@strawberry.type(description="An account: what the user gave at registration.")
class Account(
    AccordNode,
    AccountConsentFields,
    AccountPersonalFields,
    AccountNotificationFields,
    AccountRightsFields,
    AccountMinorFields,
):
    #: The row id, which the per-account fields (and ``visible_to``) read.
    pk: strawberry.Private[int]
    account_name: str
    nickname: str
    avatar_url: str | None
    gender: Gender
    region: str | None = strawberry.field(description="ISO 3166-1 alpha-2.")
    signature: str
    status: AccountStatus
    role: Role
    created_at: datetime
    has_password: bool
    email: str | None = strawberry.field(
        description="Verified only: where e-mail notices go. A new one waits in pendingEmail."
    )
    phone: str | None = strawberry.field(
        description="Verified only, E.164: where SMS notices go. A new one waits in pendingPhone."
    )

    @classmethod
    def of(cls, row: model.Account) -> Account:
        return cls(
            id=global_id("Account", row.id),
            pk=row.id,
            account_name=row.account_name,
            nickname=row.nickname,
            avatar_url=row.avatar_url,
            gender=row.gender,
            region=row.region,
            signature=row.signature,
            status=row.status,
            role=row.role,
            created_at=row.created_at,
            has_password=row.password_hash is not None,
            email=row.email,
            phone=row.phone,
        )

    @classmethod
    async def visible(cls, info: Info[Context, None], keys: list[str]) -> dict[str, Account]:
        """As ``viewer``: only your own account (no query reads another's)."""
        viewer = await info.context.viewer()
        mine = str(viewer.id) if viewer else None
        return {key: cls.of(viewer) for key in keys if viewer and key == mine}

    @strawberry.field
    @visible_to(OWNER_OR_ADMIN, otherwise=list)
    async def bindings(self, info: Info[Context, None]) -> list[Binding]:
        rows = await BindingModel.filter(account_id=self.pk).order_by("bound_at")
        return [Binding.of(r) for r in rows]

    @strawberry.field(
        description="Second factors set up (PASSKEY, TOTP, then RECOVERY_CODE while unused "
        "ones remain): with any, a password or provider sign-in takes two steps and "
        "sensitive operations want a recent sign-in with both factors (or a passkey)."
    )
    @visible_to(OWNER_OR_ADMIN, otherwise=list)
    async def second_factors(self, info: Info[Context, None]) -> list[Factor]:
        return await account_factors.second_factors(self.pk)

    @strawberry.field(description="Recovery codes not used yet (regenerateRecoveryCodes).")
    @visible_to(OWNER_OR_ADMIN, otherwise=int)
    async def recovery_codes_left(self, info: Info[Context, None]) -> int:
        return await codes_left(self.pk)

    @strawberry.field(description="An e-mail address waiting for its code, while it may be tried.")
    @visible_to(OWNER, otherwise=lambda: None)
    async def pending_email(self, info: Info[Context, None]) -> ContactVerification | None:
        return await _pending(info, self.pk, contacts.ContactChannel.EMAIL)

    @strawberry.field(description="A phone number waiting for its code, while it may be tried.")
    @visible_to(OWNER, otherwise=lambda: None)
    async def pending_phone(self, info: Info[Context, None]) -> ContactVerification | None:
        return await _pending(info, self.pk, contacts.ContactChannel.PHONE)

    @strawberry.field(description="Passkeys, oldest first.")
    @visible_to(OWNER_OR_ADMIN, otherwise=list)
    async def passkeys(self, info: Info[Context, None]) -> list[Passkey]:
        rows = await PasskeyModel.filter(account_id=self.pk).order_by("id")
        return [Passkey.of(r) for r in rows]

    @strawberry.field(description="Live sessions, newest first.")
    @visible_to(OWNER_OR_ADMIN, otherwise=list)
    async def sessions(self, info: Info[Context, None]) -> list[Session]:
        current = await info.context.session_reading(self.pk)
        rows = await live_sessions(info).filter(account_id=self.pk).order_by("-created_at")
        return [Session.of(r, current) for r in rows]


@strawberry.type(description="A cancellation waiting for its date, running, or failed.")
class PendingDeletion(AccordNode):
    account_id: strawberry.ID = strawberry.field(description="The account's global id.")
    status: DeletionStatus
    requested_at: datetime
    due_at: datetime
    next_attempt_at: datetime
    attempts: int
    step: str = strawberry.field(description="The last step finished.")
    last_error: str

    @classmethod
    def of(cls, row: requests.DeletionRequest) -> PendingDeletion:
        return cls(
            id=global_id("PendingDeletion", row.id),
            account_id=global_id("Account", row.account_id),
            status=row.status,
            requested_at=row.requested_at,
            due_at=row.due_at,
            next_attempt_at=row.next_attempt_at,
            attempts=row.attempts,
            step=row.step,
            last_error=row.last_error,
        )

    @classmethod
    async def visible(
        cls, info: Info[Context, None], keys: list[str]
    ) -> dict[str, PendingDeletion]:
        """As ``deletionQueue``: operators and the privacy office."""
        viewer = await info.context.viewer()
        ids = row_keys(keys)
        if viewer is None or not viewer.holds_role(*OPERATIONS) or not ids:
            return {}
        rows = await requests.DeletionRequest.filter(id__in=list(ids))
        return {ids[r.id]: cls.of(r) for r in rows}


# --- payloads ----------------------------------------------------------------------------


@strawberry.type
class RegisterPayload:
    account: Account | None = None
    token: str | None = None
    errors: list[AccountError] = strawberry.field(default_factory=list)


@strawberry.type
class LoginPayload:
    account: Account | None = None
    token: str | None = strawberry.field(
        default=None, description="Null when `secondFactor` asks for a second step."
    )
    second_factor: SecondFactorChallenge | None = strawberry.field(
        default=None,
        description="The account has a second factor: no session yet; completeSignIn opens it.",
    )
    errors: list[AccountError] = strawberry.field(default_factory=list)


@strawberry.type
class LogoutPayload:
    errors: list[AccountError] = strawberry.field(default_factory=list)


@strawberry.type
class RevokeSessionPayload:
    errors: list[AccountError] = strawberry.field(default_factory=list)


@strawberry.type
class SignOutOtherSessionsPayload:
    ended: int = strawberry.field(default=0, description="How many other sessions ended.")
    errors: list[AccountError] = strawberry.field(default_factory=list)


@strawberry.type
class DisownSignInPayload:
    session_ended: bool = strawberry.field(
        default=False,
        description="The session the notice named ended now; false when it had already "
        "ended (signed out, expired, or this link used before).",
    )
    errors: list[AccountError] = strawberry.field(default_factory=list)


@strawberry.type
class UpdateProfilePayload:
    account: Account | None = None
    errors: list[AccountError] = strawberry.field(default_factory=list)


@strawberry.type
class ChangePasswordPayload:
    errors: list[AccountError] = strawberry.field(default_factory=list)


@strawberry.type
class SignInWithProviderPayload:
    account: Account | None = None
    token: str | None = strawberry.field(
        default=None, description="Null when `secondFactor` asks for a second step."
    )
    second_factor: SecondFactorChallenge | None = strawberry.field(
        default=None,
        description="The account has a second factor: no session yet; completeSignIn opens it.",
    )
    created: bool = strawberry.field(
        default=False, description="A new account was made for this identity; false with `errors`."
    )
    errors: list[AccountError] = strawberry.field(default_factory=list)


@strawberry.type
class BindProviderPayload:
    binding: Binding | None = None
    errors: list[AccountError] = strawberry.field(default_factory=list)


@strawberry.type
class UnbindProviderPayload:
    errors: list[AccountError] = strawberry.field(default_factory=list)


@strawberry.type
class RecoverWithProviderPayload:
    reset_token: str | None = None
    errors: list[AccountError] = strawberry.field(default_factory=list)


@strawberry.type
class ResetPasswordPayload:
    errors: list[AccountError] = strawberry.field(default_factory=list)


@strawberry.type
class CancelAccountPayload:
    account: Account | None = None
    deletion_due_at: datetime | None = None
    erasure_receipt_id: strawberry.ID | None = strawberry.field(
        default=None,
        description="The pseudonymous id of this deletion request: with "
        "`erasureReceiptSecret`, fetches the signed erasure receipt (erasureReceipt) once "
        "the deletion has completed.",
    )
    erasure_receipt_secret: str | None = strawberry.field(
        default=None,
        description="Shown once, never stored in clear: keep it with the id.",
    )
    errors: list[AccountError] = strawberry.field(default_factory=list)


@strawberry.type
class RetryDeletionPayload:
    deletion: PendingDeletion | None = None
    errors: list[AccountError] = strawberry.field(default_factory=list)


@strawberry.type
class PostponeDeletionPayload:
    deletion: PendingDeletion | None = None
    errors: list[AccountError] = strawberry.field(default_factory=list)


@strawberry.type
class RestoreAccountPayload:
    account: Account | None = None
    token: str | None = strawberry.field(
        default=None, description="Null when `secondFactor` asks for a second step."
    )
    second_factor: SecondFactorChallenge | None = strawberry.field(
        default=None,
        description="The account has a second factor: no session yet; completeSignIn opens it.",
    )
    errors: list[AccountError] = strawberry.field(default_factory=list)


@strawberry.type
class CompleteSignInPayload:
    account: Account | None = None
    token: str | None = None
    errors: list[AccountError] = strawberry.field(default_factory=list)


@strawberry.type
class StepUpPayload:
    auth_level: AuthLevel | None = None
    authenticated_at: datetime | None = None
    errors: list[AccountError] = strawberry.field(default_factory=list)


@strawberry.type(description="Scan `qrCode` (or type `secret`), then confirmTotp with a code.")
class EnrollTotpPayload:
    secret: str | None = None
    provisioning_uri: str | None = strawberry.field(
        default=None, description="otpauth://totp/... as the QR code holds it."
    )
    qr_code: str | None = strawberry.field(
        default=None, description="The QR code as an SVG data: URI, for an <img src>."
    )
    errors: list[AccountError] = strawberry.field(default_factory=list)


@strawberry.type
class ConfirmTotpPayload:
    recovery_codes: list[str] = strawberry.field(
        default_factory=list,
        description="Ten single-use codes, shown this once: the user keeps them safe.",
    )
    account: Account | None = None
    errors: list[AccountError] = strawberry.field(default_factory=list)


@strawberry.type
class RemoveTotpPayload:
    account: Account | None = None
    errors: list[AccountError] = strawberry.field(default_factory=list)


@strawberry.type
class RegenerateRecoveryCodesPayload:
    recovery_codes: list[str] = strawberry.field(
        default_factory=list, description="Ten new codes, shown this once; the old ones stop."
    )
    errors: list[AccountError] = strawberry.field(default_factory=list)


@strawberry.type
class AddEmailPayload:
    verification: ContactVerification | None = strawberry.field(
        default=None, description="The code is on its way to this address."
    )
    errors: list[AccountError] = strawberry.field(default_factory=list)


@strawberry.type
class AddPhonePayload:
    verification: ContactVerification | None = strawberry.field(
        default=None, description="The code is on its way to this number."
    )
    errors: list[AccountError] = strawberry.field(default_factory=list)


@strawberry.type
class VerifyContactPayload:
    account: Account | None = None
    errors: list[AccountError] = strawberry.field(default_factory=list)


@strawberry.type
class RemoveContactPayload:
    account: Account | None = None
    errors: list[AccountError] = strawberry.field(default_factory=list)


# --- passkeys ------------------------------------------------------------------------------


@strawberry.type
class BeginPasskeyRegistrationPayload:
    challenge_id: str | None = strawberry.field(
        default=None, description="Give it back to finishPasskeyRegistration."
    )
    options: str | None = strawberry.field(
        default=None,
        description="PublicKeyCredentialCreationOptionsJSON: in a browser, "
        "`navigator.credentials.create({publicKey: "
        "PublicKeyCredential.parseCreationOptionsFromJSON(JSON.parse(options))})`.",
    )
    errors: list[AccountError] = strawberry.field(default_factory=list)


@strawberry.type
class FinishPasskeyRegistrationPayload:
    passkey: Passkey | None = None
    recovery_codes: list[str] = strawberry.field(
        default_factory=list,
        description="With the account's first second factor: ten single-use codes, shown "
        "this once (none when it has unused ones already).",
    )
    errors: list[AccountError] = strawberry.field(default_factory=list)


@strawberry.type
class RenamePasskeyPayload:
    passkey: Passkey | None = None
    errors: list[AccountError] = strawberry.field(default_factory=list)


@strawberry.type
class RemovePasskeyPayload:
    errors: list[AccountError] = strawberry.field(default_factory=list)


@strawberry.type
class BeginPasskeySignInPayload:
    challenge_id: str | None = strawberry.field(
        default=None, description="Give it back to finishPasskeySignIn."
    )
    options: str | None = strawberry.field(
        default=None,
        description="PublicKeyCredentialRequestOptionsJSON: in a browser, "
        "`navigator.credentials.get({publicKey: "
        "PublicKeyCredential.parseRequestOptionsFromJSON(JSON.parse(options))})`.",
    )
    errors: list[AccountError] = strawberry.field(default_factory=list)


@strawberry.type
class FinishPasskeySignInPayload:
    account: Account | None = None
    token: str | None = None
    errors: list[AccountError] = strawberry.field(default_factory=list)
