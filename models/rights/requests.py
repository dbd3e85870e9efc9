"""The rows that record a data-subject request: the account deletion's work, and every
right a user exercises (``DataRequest``, issue 16)."""

from __future__ import annotations

from enum import StrEnum

from tortoise import fields
from tortoise.indexes import Index
from tortoise.models import Model

from models.accounts.account import Account
from models.accounts.contacts import ContactChannel
from models.keys.data_keys import account_subject
from models.keys.sealed_fields import SealedField, SealedJSONField, SealedManager, SealedModel


class DeletionStatus(StrEnum):
    PENDING = "PENDING"
    RUNNING = "RUNNING"
    FAILED = "FAILED"
    DONE = "DONE"
    CANCELLED = "CANCELLED"


def request_subject(request_id: int) -> str:
    """Whose key seals what a data request that names no account asks."""
    return f"data-request:{request_id}"


def receipt_subject(request_id: int) -> str:
    """Whose key seals a deletion's receipt address."""
    return f"erasure-receipt:{request_id}"


class DeletionRequest(SealedModel):
    id = fields.BigIntField(primary_key=True)
    account: fields.OneToOneRelation[Account] = fields.OneToOneField(
        "models.Account", related_name="deletion_request", on_delete=fields.CASCADE
    )
    account_id: int  # set by the ORM
    status = fields.CharEnumField(DeletionStatus, max_length=16, default=DeletionStatus.PENDING)
    requested_at = fields.DatetimeField()
    due_at = fields.DatetimeField()
    #: When the sweeper may enqueue it next (due date, then backoff after a failure).
    next_attempt_at = fields.DatetimeField(db_index=True)
    #: The last step finished, for operators (the steps themselves need no bookmark).
    step = fields.CharField(max_length=32, default="")
    attempts = fields.IntField(default=0)
    last_error = fields.CharField(max_length=500, default="")
    lease_token = fields.CharField(max_length=32, null=True)
    lease_until = fields.DatetimeField(null=True)
    completed_at = fields.DatetimeField(null=True)
    #: When the account's data keys were destroyed (the deletion's first step): from then
    #: on nothing they encrypted can be read, in any copy (the erasure receipt states it).
    key_destroyed_at = fields.DatetimeField(null=True)
    #: The user's own words, sealed under the request's key, erased when the deletion
    #: completes.
    reason = SealedField(max_length=500, default="")
    #: The erasure receipt's pseudonymous request id (a random UUID, new at each cancellation).
    receipt_id = fields.CharField(max_length=36, null=True)
    #: The secret handed to the user at cancellation, only as a keyed hash.
    receipt_secret_hash = fields.CharField(max_length=64, null=True)
    #: The signed receipt (a compact JWS), written once when the deletion completes.
    receipt_token = fields.TextField(null=True)
    receipt_issued_at = fields.DatetimeField(null=True)
    #: Where the receipt goes: the account's e-mail, copied before the account's key is
    #: destroyed and sealed under a key of the request's own, destroyed once the receipt
    #: is owed to it (``models.rights.deletion``).
    receipt_address = SealedField(max_length=254, null=True)

    class Meta:
        table = "deletion_request"
        indexes = (Index(fields=("receipt_id",)),)
        manager = SealedManager()

    def sealed_subject(self) -> str | None:
        return None if self.id is None else receipt_subject(self.id)


class DataRequestKind(StrEnum):
    """The rights a user exercises (GDPR Art 15, 16, 17; the policy's section 3.1)."""

    ACCESS = "ACCESS"
    CORRECTION = "CORRECTION"
    ERASURE = "ERASURE"
    ACCOUNT_DELETION = "ACCOUNT_DELETION"

    @property
    def words(self) -> str:
        """What the user asked for, as a message to them says it."""
        return {
            DataRequestKind.ACCESS: "a copy of your data",
            DataRequestKind.CORRECTION: "a correction of your data",
            DataRequestKind.ERASURE: "the erasure of some of your data",
            DataRequestKind.ACCOUNT_DELETION: "the deletion of your account",
        }[self]


class DataRequestStatus(StrEnum):
    #: Filed, identity not yet verified: the clock has not started.
    RECEIVED = "RECEIVED"
    #: Identity verified: the clock runs (``due_at``).
    VERIFIED = "VERIFIED"
    IN_PROGRESS = "IN_PROGRESS"
    COMPLETED = "COMPLETED"
    REJECTED = "REJECTED"
    #: The user took it back (e.g. restored a cancelled account).
    WITHDRAWN = "WITHDRAWN"


#: A request in one of these is still owed an answer.
OPEN_STATUSES = (
    DataRequestStatus.RECEIVED,
    DataRequestStatus.VERIFIED,
    DataRequestStatus.IN_PROGRESS,
)


#: An open request whose clock runs: identity verified, not answered yet.
CLOCKED_STATUSES = (DataRequestStatus.VERIFIED, DataRequestStatus.IN_PROGRESS)


class ClockedIndex(Index):
    """An index of the requests whose clock runs only (a partial index, SQLite and
    PostgreSQL alike): the sweeper and the officers' list read them by due date, while the
    answered ones pile up for good."""

    def __init__(self, *, fields: tuple[str, ...] | list[str], name: str | None = None) -> None:
        super().__init__(fields=fields, name=name)
        statuses = ", ".join(f"'{status}'" for status in CLOCKED_STATUSES)
        self.extra = f" WHERE status IN ({statuses})"


class Urgency(StrEnum):
    """Where an open request stands against its due date (the sweeper keeps it)."""

    ON_TIME = "ON_TIME"
    #: Due within ``data_request_at_risk_days``.
    AT_RISK = "AT_RISK"
    OVERDUE = "OVERDUE"


class DataRequest(SealedModel):
    """One right exercised, from filing to answer: the row is the promise (and its clock).
    What it asks is sealed under the account's key (a request that names no account: its
    own, ``request_subject``)."""

    id = fields.BigIntField(primary_key=True)
    #: NULL only for an unverified request that named no account (it is answered alike).
    account: fields.ForeignKeyNullableRelation[Account] = fields.ForeignKeyField(
        "models.Account",
        null=True,
        related_name="data_requests",
        on_delete=fields.CASCADE,
        db_index=True,
    )
    account_id: int | None  # set by the ORM
    kind = fields.CharEnumField(DataRequestKind, max_length=24)
    status = fields.CharEnumField(
        DataRequestStatus, max_length=16, default=DataRequestStatus.RECEIVED
    )
    received_at = fields.DatetimeField()
    verified_at = fields.DatetimeField(null=True)
    #: ``verified_at`` + the period of the law that applies (``models.rights.data_requests``).
    due_at = fields.DatetimeField(null=True)
    completed_at = fields.DatetimeField(null=True)
    #: The region whose period set ``due_at`` (the account's region when filed).
    region = SealedField(max_length=8, null=True)
    urgency = fields.CharEnumField(Urgency, max_length=8, default=Urgency.ON_TIME)
    # What the request asks, by kind (a correction's field and value, an erasure's rows, a
    # note): the user's own words.
    details = SealedJSONField(default=dict, placeholders=("{}",))
    #: Why it was rejected, or what was done (staff's words, shown to the user).
    reason = fields.CharField(max_length=500, default="")
    decided_by: fields.ForeignKeyNullableRelation[Account] = fields.ForeignKeyField(
        "models.Account", null=True, related_name="decided_requests", on_delete=fields.SET_NULL
    )
    decided_by_id: int | None  # set by the ORM
    #: When a privacy officer extended the due date (once at most).
    extended_at = fields.DatetimeField(null=True)
    #: Why, in the officer's words: the user is told it with the new date.
    extension_reason = fields.CharField(max_length=500, default="")
    #: The urgency the privacy officers were last told of (``models.rights.deadlines``).
    urgency_notified = fields.CharEnumField(Urgency, max_length=8, default=Urgency.ON_TIME)

    class Meta:
        manager = SealedManager()
        table = "data_request"
        indexes = (ClockedIndex(fields=("due_at", "id"), name="data_request_clocked_due"),)

    def sealed_subject(self) -> str | None:
        if self.account_id is not None:
            return account_subject(self.account_id)
        return None if self.id is None else request_subject(self.id)


class IdentityCheck(Model):
    """The one-time code a signed-out data request waits for."""

    id = fields.BigIntField(primary_key=True)
    request: fields.OneToOneRelation[DataRequest] = fields.OneToOneField(
        "models.DataRequest", related_name="identity_check", on_delete=fields.CASCADE
    )
    request_id: int  # set by the ORM
    #: Keyed hash of the opaque handle the filer was given (found by its value).
    handle_hash = fields.CharField(max_length=64, unique=True)
    channel = fields.CharEnumField(ContactChannel, max_length=8)
    #: Keyed hash of the account name as given (the per-name limit counts it, account or not).
    name_hash = fields.CharField(max_length=64)
    #: Keyed hash of the address as given (the per-address limit counts it).
    address_hash = fields.CharField(max_length=64)
    #: Keyed hash of the code (``code_hash``).
    code_hash = fields.CharField(max_length=64)
    attempts = fields.SmallIntField(default=0)
    #: From ``clock.now()``, as the limits count it.
    created_at = fields.DatetimeField()
    expires_at = fields.DatetimeField()
    #: When its code verified the request: it works once.
    used_at = fields.DatetimeField(null=True)

    class Meta:
        table = "identity_check"
        manager = SealedManager()  # opens the request it is loaded with
        indexes = (
            Index(fields=("name_hash", "created_at")),
            Index(fields=("address_hash", "created_at")),
            Index(fields=("expires_at",)),
        )
