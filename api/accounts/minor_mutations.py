"""Mutation fields of children's information: markMinor, requestGuardianConsent,
confirmGuardianConsent, requestGuardianWithdrawalCode, withdrawGuardianConsent,
verifyGuardianConsent (rules in ``models.accounts.minors`` and ``models.consent.guardians``)."""

from __future__ import annotations

from datetime import datetime

import strawberry
from strawberry.types import Info

from api.accounts.minor_inputs import (
    ConfirmGuardianConsentInput,
    MarkMinorInput,
    RequestGuardianConsentInput,
    RequestGuardianWithdrawalCodeInput,
    VerifyGuardianConsentInput,
    WithdrawGuardianConsentInput,
)
from api.accounts.minor_types import GuardianConsent
from api.accounts.sign_in import send_notices
from api.accounts.types import AccountError
from api.context import Context
from api.nodes import global_id, row_id_of
from api.payloads import payload
from api.permissions import PRIVACY_OFFICE
from models.accounts import minors
from models.accounts.errors import AccountErrorCode
from models.consent import guardians
from models.errors import DomainError


def _account_id(raw: strawberry.ID) -> int:
    account_id = row_id_of(raw, "Account")
    if account_id is None:
        raise DomainError(AccountErrorCode.NOT_FOUND, "accountId", "no such account")
    return account_id


@strawberry.type
class MarkMinorPayload:
    account_id: strawberry.ID | None = None
    minor: bool | None = None
    errors: list[AccountError] = strawberry.field(default_factory=list)


@strawberry.type
class RequestGuardianConsentPayload:
    guardian_consent: GuardianConsent | None = None
    errors: list[AccountError] = strawberry.field(default_factory=list)


@strawberry.type
class ConfirmGuardianConsentPayload:
    confirmed: bool = False
    errors: list[AccountError] = strawberry.field(default_factory=list)


@strawberry.type
class RequestGuardianWithdrawalCodePayload:
    request_id: str | None = strawberry.field(
        default=None,
        description="The withdrawal's own request id, which withdrawGuardianConsent quotes "
        "with the code (the e-mail gives both; the code alone is the secret).",
    )
    expires_at: datetime | None = strawberry.field(
        default=None, description="When the code sent to the guardian expires."
    )
    errors: list[AccountError] = strawberry.field(default_factory=list)


@strawberry.type
class WithdrawGuardianConsentPayload:
    withdrawn: bool = False
    errors: list[AccountError] = strawberry.field(default_factory=list)


@strawberry.type
class VerifyGuardianConsentPayload:
    account_id: strawberry.ID | None = None
    confirmed_at: datetime | None = None
    errors: list[AccountError] = strawberry.field(default_factory=list)


@strawberry.type
class MinorMutations:
    """A minor's public content waits for a guardian's consent (the policy's section 1.1)."""

    @strawberry.mutation(
        description="PRIVACY_OFFICER: mark an account as a minor's, or clear the mark; "
        "audited with the reason. A mark set here stays until staff clear it."
    )
    @payload(AccountError, roles=PRIVACY_OFFICE)
    async def mark_minor(
        self, info: Info[Context, None], input: MarkMinorInput
    ) -> MarkMinorPayload:
        staff = await info.context.require_viewer()
        marked = await minors.mark_minor(
            staff, _account_id(input.account_id), input.minor, input.reason
        )
        return MarkMinorPayload(
            account_id=global_id("Account", marked.account.id), minor=marked.account.minor
        )

    @strawberry.mutation(
        description="A minor asks their guardian to consent to publishing their content: a "
        "code goes to the guardian's address (which replaces one still waiting)."
    )
    @payload(AccountError, signed_in=True)
    async def request_guardian_consent(
        self, info: Info[Context, None], input: RequestGuardianConsentInput
    ) -> RequestGuardianConsentPayload:
        ctx = info.context
        account = await ctx.require_viewer()
        await guardians.request_consent(account, input.guardian_email, ctx.settings)
        await send_notices(ctx)
        state = await guardians.consent_of(account)
        return RequestGuardianConsentPayload(
            guardian_consent=GuardianConsent.of(state, ctx.settings.contact_code_max_attempts)
        )

    @strawberry.mutation(
        description="The guardian's code: the consent is recorded in the minor's consent "
        "ledger and their public content is shown. No sign-in."
    )
    @payload(AccountError)
    async def confirm_guardian_consent(
        self, info: Info[Context, None], input: ConfirmGuardianConsentInput
    ) -> ConfirmGuardianConsentPayload:
        await guardians.confirm(input.request_id, input.code, info.context.settings)
        return ConfirmGuardianConsentPayload(confirmed=True)

    @strawberry.mutation(
        description="The guardian asks for a code to withdraw the consent they gave. No sign-in."
    )
    @payload(AccountError)
    async def request_guardian_withdrawal_code(
        self, info: Info[Context, None], input: RequestGuardianWithdrawalCodeInput
    ) -> RequestGuardianWithdrawalCodePayload:
        ctx = info.context
        row = await guardians.request_withdrawal_code(input.request_id, ctx.settings)
        await send_notices(ctx)
        return RequestGuardianWithdrawalCodePayload(
            request_id=str(row.id), expires_at=row.expires_at
        )

    @strawberry.mutation(
        description="Withdraw a guardian's consent: the minor's public content is private "
        "again at once. By the minor (signed in), the guardian (with a withdrawal code) or "
        "PRIVACY_OFFICER (audited)."
    )
    @payload(AccountError)
    async def withdraw_guardian_consent(
        self, info: Info[Context, None], input: WithdrawGuardianConsentInput
    ) -> WithdrawGuardianConsentPayload:
        ctx = info.context
        if input.request_id is not None or input.code is not None:
            await guardians.withdraw_by_code(input.request_id or "", input.code or "", ctx.settings)
        elif input.account_id is not None:
            staff = await ctx.require_role(*PRIVACY_OFFICE)
            await guardians.withdraw_by_staff(staff, _account_id(input.account_id), input.reason)
        else:
            await guardians.withdraw_by_minor(await ctx.require_viewer())
        return WithdrawGuardianConsentPayload(withdrawn=True)

    @strawberry.mutation(
        description="PRIVACY_OFFICER: record a guardian's consent verified otherwise than by "
        "the e-mail code; audited with the reason."
    )
    @payload(AccountError, roles=PRIVACY_OFFICE)
    async def verify_guardian_consent(
        self, info: Info[Context, None], input: VerifyGuardianConsentInput
    ) -> VerifyGuardianConsentPayload:
        staff = await info.context.require_viewer()
        account = await guardians.verify_by_staff(
            staff, _account_id(input.account_id), input.reason
        )
        return VerifyGuardianConsentPayload(
            account_id=global_id("Account", account.id),
            confirmed_at=account.guardian_consented_at,
        )
