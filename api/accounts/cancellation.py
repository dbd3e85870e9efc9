"""Cancelling and restoring an account, and the operators' view of pending deletions."""

from __future__ import annotations

from datetime import datetime

import strawberry
import structlog
from strawberry.types import Info

from api.accounts.types import Account, AccountError
from api.errors import ClientError
from api.live_streams import announce_sessions_changed
from api.payloads import payload
from models import jobs
from models.accounts import authentication
from models.accounts.account import Role
from models.accounts.bindings import Binding
from models.accounts.errors import AccountErrorCode
from models.accounts.oidc import verify_id_token
from models.accounts.sessions import open_session
from models.errors import DomainError
from models.rights import deletion

log = structlog.get_logger("accord.cancellation")
DeletionStatus = strawberry.enum(deletion.DeletionStatus)
QUEUE_ROLES = (Role.OPERATOR, Role.PRIVACY_OFFICER)


@strawberry.input(
    description="Confirm who you are with your password, or a fresh identity token of a bound "
    "provider (a session that signed in a few minutes ago also counts)."
)
class CancelAccountInput:
    password: str | None = None
    provider: str | None = None
    id_token: str | None = None
    reason: str | None = None


@strawberry.input(description="Your account name and password, or a bound provider's token.")
class RestoreAccountInput:
    account_name: str | None = None
    password: str | None = None
    provider: str | None = None
    id_token: str | None = None


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


async def _send_notices(ctx) -> None:
    """The notice rows are written; the worker sends them (the sweeper would, a minute on)."""
    try:
        await jobs.deliver_account_notices(ctx.queue)
    except Exception as error:  # the rows are the promise; the sweeper enqueues them
        log.warning("notices not enqueued; the sweeper will", error=repr(error))


@strawberry.type
class CancellationMutations:
    @strawberry.mutation(
        description="Cancel your account: every session ends and the account is deleted "
        "after the grace period unless you restore it."
    )
    @payload(AccountError, signed_in=True)
    async def cancel_account(self, info: Info, input: CancelAccountInput) -> CancelAccountPayload:
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
        self, info: Info, input: RestoreAccountInput
    ) -> RestoreAccountPayload:
        ctx = info.context
        if input.provider and input.id_token:
            identity = verify_id_token(ctx.settings.oidc_providers, input.provider, input.id_token)
            binding = (
                await Binding.filter(provider=identity.provider, subject=identity.subject)
                .select_related("account")
                .first()
            )
            if binding is None:
                raise DomainError(
                    AccountErrorCode.NOT_BOUND, "idToken", "no account is bound to this identity"
                )
            account = binding.account
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
        token = await open_session(account, ctx.settings, ctx.user_agent)
        return RestoreAccountPayload(account=Account.of(account), token=token)


@strawberry.type
class DeletionQueries:
    @strawberry.field(
        description="OPERATOR, PRIVACY_OFFICER: cancellations waiting for their date, running "
        "and failed deletions (with their errors), soonest first. No personal data."
    )
    async def deletion_queue(self, info: Info, first: int = 100) -> list[PendingDeletion]:
        try:
            await info.context.require_role(*QUEUE_ROLES)
        except DomainError as error:
            raise ClientError(str(error.code), error.message) from None
        rows = (
            await deletion.DeletionRequest.filter(
                status__in=[
                    deletion.DeletionStatus.PENDING,
                    deletion.DeletionStatus.RUNNING,
                    deletion.DeletionStatus.FAILED,
                ]
            )
            .order_by("next_attempt_at", "id")
            .limit(max(1, min(first, 500)))
        )
        return [
            PendingDeletion(
                account_id=strawberry.ID(str(r.account_id)),
                status=r.status,
                requested_at=r.requested_at,
                due_at=r.due_at,
                next_attempt_at=r.next_attempt_at,
                attempts=r.attempts,
                step=r.step,
                last_error=r.last_error,
            )
            for r in rows
        ]
