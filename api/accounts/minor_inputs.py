"""Inputs of children's-information mutations: one ``<MutationName>Input`` each."""

from __future__ import annotations

import strawberry


@strawberry.input(description="PRIVACY_OFFICER: audited with the reason.")
class MarkMinorInput:
    account_id: strawberry.ID
    minor: bool = strawberry.field(
        description="true: the account is a minor's; false: it is not (after proof of age)."
    )
    reason: str


@strawberry.input
class RequestGuardianConsentInput:
    guardian_email: str = strawberry.field(
        description="Your parent's or guardian's address: a code is sent there."
    )


@strawberry.input(description="No sign-in: the code proves control of the guardian's address.")
class ConfirmGuardianConsentInput:
    request_id: str = strawberry.field(description="The request id the e-mail gave.")
    code: str = strawberry.field(description="The six digits the e-mail gave.")


@strawberry.input(
    description="No sign-in: the guardian quotes the request they confirmed; a code goes to "
    "the address that request's code went to."
)
class RequestGuardianWithdrawalCodeInput:
    request_id: str


@strawberry.input(
    description="Give nothing to withdraw your own guardian's consent (signed in); "
    "`requestId` and `code` as a guardian (the withdrawal code's e-mail); `accountId` and "
    "`reason` as PRIVACY_OFFICER (audited)."
)
class WithdrawGuardianConsentInput:
    request_id: str | None = None
    code: str | None = None
    account_id: strawberry.ID | None = None
    reason: str | None = None


@strawberry.input(
    description="PRIVACY_OFFICER: a guardian's consent verified otherwise than by the e-mail "
    "code (a signed form, a call); audited with the reason."
)
class VerifyGuardianConsentInput:
    account_id: strawberry.ID
    reason: str
