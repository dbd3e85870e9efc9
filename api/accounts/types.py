"""GraphQL types of the accounts domain."""

from __future__ import annotations

from datetime import datetime

import strawberry
from strawberry.types import Info

from api.consent.viewer import AccountConsentFields
from api.notifications.viewer import AccountNotificationFields
from api.payloads import error_code
from api.personal.viewer import AccountPersonalFields
from models import clock
from models.accounts import account as model
from models.accounts import errors as account_errors
from models.accounts.bindings import Binding as BindingModel
from models.accounts.sessions import Session as SessionModel
from models.errors import DomainError

Gender = strawberry.enum(model.Gender, description="How the user describes themselves.")
AccountStatus = strawberry.enum(model.AccountStatus)
Role = strawberry.enum(model.Role, description="USER, or a staff role.")
#: The rules' own enum, so GraphQL lists exactly the codes they raise.
AccountErrorCode = strawberry.enum(account_errors.AccountErrorCode)


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


async def _own(info: Info, account_id: int) -> bool:
    """Only the account itself (or an admin) may list its sessions and bindings."""
    viewer = await info.context.viewer()
    return viewer is not None and (viewer.id == account_id or viewer.role == model.Role.ADMIN)


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
    async def bindings(self, info: Info) -> list[Binding]:
        if not await _own(info, int(self.id)):
            return []
        rows = await BindingModel.filter(account_id=int(self.id)).order_by("bound_at")
        return [Binding.of(r) for r in rows]

    @strawberry.field(description="Live sessions, newest first.")
    async def sessions(self, info: Info) -> list[Session]:
        if not await _own(info, int(self.id)):
            return []
        current = await info.context.session()
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
