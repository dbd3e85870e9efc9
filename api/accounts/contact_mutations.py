"""Mutation fields for the account's contact points: addEmail, addPhone, verifyContact,
removeContact (rules in ``models.accounts.contacts``)."""

from __future__ import annotations

import strawberry
from strawberry.types import Info

from api.accounts.inputs import AddEmailInput, AddPhoneInput, RemoveContactInput, VerifyContactInput
from api.accounts.sign_in import send_notices
from api.accounts.types import (
    Account,
    AccountError,
    AddEmailPayload,
    AddPhonePayload,
    RemoveContactPayload,
    VerifyContactPayload,
)
from api.accounts.types import ContactVerification as ContactVerificationType
from api.context import Context
from api.payloads import payload
from models.accounts import contacts


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
    await send_notices(ctx)
    return ContactVerificationType.of(row, ctx.settings.contact_code_max_attempts)


@strawberry.type
class ContactMutations:
    """Verified e-mail and phone: an address becomes the account's when its code comes back."""

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
            await send_notices(ctx)
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
            await send_notices(ctx)
        return RemoveContactPayload(account=Account.of(account))
