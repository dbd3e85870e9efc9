"""The rows that record a data-subject request (today: the account deletion's)."""

from __future__ import annotations

from enum import StrEnum

from tortoise import fields
from tortoise.models import Model

from models.accounts.account import Account


class DeletionStatus(StrEnum):
    PENDING = "PENDING"
    RUNNING = "RUNNING"
    FAILED = "FAILED"
    DONE = "DONE"
    CANCELLED = "CANCELLED"


class DeletionRequest(Model):
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
    #: The user's own words, erased when the deletion completes.
    reason = fields.CharField(max_length=500, default="")

    class Meta:
        table = "deletion_request"
