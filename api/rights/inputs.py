"""Inputs of the rights mutations: one ``<MutationName>Input`` each."""

from __future__ import annotations

import strawberry

from api.rights.types import DataRequestDecision, DataRequestKind

PROOF = (
    "Confirm who you are with `password`, or `provider` and a fresh `idToken` of a bound "
    "provider (a session that signed in a few minutes ago also counts)."
)


@strawberry.input(
    description="Ask staff to correct a field you cannot change yourself (a support message, "
    "a feedback's text). " + PROOF
)
class RequestCorrectionInput:
    kind: str = strawberry.field(description="The kind of personal data, e.g. `Feedback`.")
    field: str = strawberry.field(description="The field to correct, e.g. `body`.")
    row_id: strawberry.ID | None = strawberry.field(
        default=None,
        description="The row: the object's id where it has a GraphQL type (a Feedback's "
        "id), else its row id. Omitted: your only row of the kind.",
    )
    requested_value: str = strawberry.field(description="What the field should say.")
    note: str | None = strawberry.field(default=None, description="Anything staff should know.")
    password: str | None = None
    provider: str | None = None
    id_token: str | None = None


@strawberry.input(
    description="Ask staff to erase some of your data, short of cancelling the account: a "
    "kind (every row of it), or rows (by their ids). " + PROOF
)
class RequestErasureInput:
    kind: str | None = strawberry.field(
        default=None, description="The kind of personal data, e.g. `SearchRecord`."
    )
    row_ids: list[strawberry.ID] | None = strawberry.field(
        default=None,
        description="Rows of `kind` (or, without `kind`, objects by their global ids); "
        "omitted: every row of `kind`. At most 100.",
    )
    note: str | None = strawberry.field(default=None, description="Anything staff should know.")
    password: str | None = None
    provider: str | None = None
    id_token: str | None = None


@strawberry.input(description="Fulfil or reject a correction or erasure request.")
class DecideDataRequestInput:
    id: strawberry.ID
    decision: DataRequestDecision
    reason: str | None = strawberry.field(
        default=None,
        description="Shown to the user and written to the staff audit log; required to REJECT.",
    )


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


@strawberry.input(
    description="Recent authentication: nothing if you signed in minutes ago; otherwise your "
    "password, or a bound provider with a fresh ID token."
)
class ExportMyDataInput:
    password: str | None = None
    provider: str | None = None
    id_token: str | None = None
