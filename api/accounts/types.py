"""GraphQL types of the accounts domain: the account and what hangs off it, the typed
error, the operators' view of pending deletions, and the mutations' payloads."""

from __future__ import annotations

from datetime import datetime

import strawberry
from strawberry.types import Info

from api.consent.queries import AccountConsentFields
from api.context import Context
from api.notifications.queries import AccountNotificationFields
from api.payloads import error_code
from api.permissions import OWNER_OR_ADMIN, visible_to
from api.personal.queries import AccountPersonalFields
from models import clock
from models.accounts import account as model
from models.accounts import errors as account_errors
from models.accounts.bindings import Binding as BindingModel
from models.accounts.sessions import Session as SessionModel
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
class Binding:
    provider: str
    nickname: str | None
    avatar_url: str | None
    bound_at: datetime

    @classmethod
    def of(cls, row: BindingModel) -> Binding:
        return cls(
            provider=row.provider,
            nickname=row.nickname,
            avatar_url=row.avatar_url,
            bound_at=row.bound_at,
        )


@strawberry.type(description="A signed-in device or browser.")
class Session:
    id: strawberry.ID
    created_at: datetime
    last_seen_at: datetime
    user_agent: str
    current: bool


@strawberry.type(description="An account: what the user gave at registration.")
class Account(AccountConsentFields, AccountPersonalFields, AccountNotificationFields):
    id: strawberry.ID
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
            id=strawberry.ID(str(row.id)),
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

    @strawberry.field
    @visible_to(OWNER_OR_ADMIN, otherwise=list)
    async def bindings(self, info: Info[Context, None]) -> list[Binding]:
        rows = await BindingModel.filter(account_id=int(self.id)).order_by("bound_at")
        return [Binding.of(r) for r in rows]

    @strawberry.field(description="Live sessions, newest first.")
    @visible_to(OWNER_OR_ADMIN, otherwise=list)
    async def sessions(self, info: Info[Context, None]) -> list[Session]:
        current = await info.context.session_reading(int(self.id))
        moment = clock.now()
        rows = await SessionModel.filter(
            account_id=int(self.id),
            expires_at__gt=moment,
            last_seen_at__gt=moment - info.context.settings.session_idle_timeout,
        ).order_by("-created_at")
        return [
            Session(
                id=strawberry.ID(str(r.id)),
                created_at=r.created_at,
                last_seen_at=r.last_seen_at,
                user_agent=r.user_agent,
                current=current is not None and r.id == current.id,
            )
            for r in rows
        ]


@strawberry.type(description="A cancellation waiting for its date, running, or failed.")
class PendingDeletion:
    account_id: strawberry.ID
    status: DeletionStatus
    requested_at: datetime
    due_at: datetime
    next_attempt_at: datetime
    attempts: int
    step: str = strawberry.field(description="The last step finished.")
    last_error: str


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
