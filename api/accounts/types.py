"""GraphQL types of the accounts domain: the account and what hangs off it, the typed
error, the operators' view of pending deletions, and the mutations' payloads."""

from __future__ import annotations

import uuid
from datetime import datetime

import strawberry
from strawberry.types import Info
from tortoise.queryset import QuerySet

from api.consent.queries import AccountConsentFields
from api.context import Context
from api.nodes import AccordNode, global_id, row_keys
from api.notifications.queries import AccountNotificationFields
from api.payloads import error_code
from api.permissions import OPERATIONS, OWNER_OR_ADMIN, visible_to
from api.personal.queries import AccountPersonalFields
from models import clock
from models.accounts import account as model
from models.accounts import errors as account_errors
from models.accounts.bindings import Binding as BindingModel
from models.accounts.sessions import Session as SessionModel
from models.accounts.user_agents import device_label
from models.errors import DomainError
from models.rights import deletion

# ``strawberry.enum`` registers the models' enum itself; the names below are plain aliases,
# so a type checker sees the classes.
strawberry.enum(model.Gender, description="How the user describes themselves.")
strawberry.enum(model.AccountStatus)
strawberry.enum(model.Role, description="USER, or a staff role.")
#: The rules' own enum, so GraphQL lists exactly the codes they raise.
strawberry.enum(account_errors.AccountErrorCode)
strawberry.enum(deletion.DeletionStatus)
Gender = model.Gender
AccountStatus = model.AccountStatus
Role = model.Role
AccountErrorCode = account_errors.AccountErrorCode
DeletionStatus = deletion.DeletionStatus


@strawberry.type(description="A mistake the caller can fix; switch on `code`, not `message`.")
class AccountError:
    code: AccountErrorCode
    field: str | None
    message: str
    retry_after: int | None = strawberry.field(
        default=None, description="Seconds to wait, for RATE_LIMITED."
    )

    @classmethod
    def of(cls, error: DomainError) -> AccountError:
        return cls(
            code=error_code(AccountErrorCode, error.code),
            field=error.field,
            message=error.message,
            retry_after=error.retry_after,
        )


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
        return {
            ids[r.id]: cls.of(r, current)
            for r in rows
            if OWNER_OR_ADMIN.allows_account(viewer, r.account_id)
        }


def live_sessions(info: Info[Context, None]) -> QuerySet[SessionModel]:
    """Sessions neither expired nor idle too long."""
    moment = clock.now()
    return SessionModel.filter(
        expires_at__gt=moment,
        last_seen_at__gt=moment - info.context.settings.session_idle_timeout,
    )


@strawberry.type(description="An account: what the user gave at registration.")
class Account(AccordNode, AccountConsentFields, AccountPersonalFields, AccountNotificationFields):
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
    email: str | None
    phone: str | None

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
    def of(cls, row: deletion.DeletionRequest) -> PendingDeletion:
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
        rows = await deletion.DeletionRequest.filter(id__in=list(ids))
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
    token: str | None = None
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
    token: str | None = None
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
    errors: list[AccountError] = strawberry.field(default_factory=list)


@strawberry.type
class RestoreAccountPayload:
    account: Account | None = None
    token: str | None = None
    errors: list[AccountError] = strawberry.field(default_factory=list)
