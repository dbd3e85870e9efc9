"""Inputs of the rights mutations: one ``<MutationName>Input`` each."""

from __future__ import annotations

import strawberry

from api.rights.types import DataRequestKind


@strawberry.input(
    description="For a user who cannot sign in: the account name and the e-mail address or "
    "phone number on file (one of the two). A code goes to the address on file; the answer "
    "is the same whether or not the account exists."
)
class FileDataRequestInput:
    kind: DataRequestKind
    account_name: str
    email: str | None = None
    phone: str | None = strawberry.field(
        default=None, description="In E.164, with its country code (`+33612345678`)."
    )
    note: str | None = strawberry.field(
        default=None,
        description="What to correct or erase, or anything staff should know (up to 2,000 "
        "characters).",
    )


@strawberry.input
class VerifyDataRequestInput:
    handle: str = strawberry.field(description="The `handle` fileDataRequest answered.")
    code: str = strawberry.field(description="The six digits sent to the address on file.")


@strawberry.input(
    description="Once per request, before its due date, by at most what the law of the "
    "account's region allows; the user is told the reason and the new date at once."
)
class ExtendDataRequestInput:
    id: strawberry.ID
    days: int
    reason: str = strawberry.field(description="Shown to the user, as it is written.")
