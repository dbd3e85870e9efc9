"""Support correspondence, and the log of every staff read of it.

The rule for staff (need-to-know): a SUPPORT staffer sees the *queue* of unassigned open
threads by subject only; a thread's messages and its customer become visible to the one
staffer working it, who takes it by replying first (``staff_reply``). Every time staff read
a thread, a ``StaffAccess`` row records who read what, when.
"""

from __future__ import annotations

from enum import StrEnum

from tortoise import fields
from tortoise.models import Model
from tortoise.transactions import in_transaction

from models.accounts.account import Account
from models.errors import DomainError
from models.personal.errors import PersonalDataErrorCode
from models.text import clean_text

SUBJECT_MAX = 200
MESSAGE_MAX = 5000
ORDER_REF_MAX = 64


class ThreadStatus(StrEnum):
    OPEN = "OPEN"
    CLOSED = "CLOSED"


class SupportThread(Model):
    id = fields.BigIntField(primary_key=True)
    #: Null only for a thread retained (stripped) after its customer's account was deleted.
    account: fields.ForeignKeyNullableRelation[Account] = fields.ForeignKeyField(
        "models.Account",
        null=True,
        related_name="support_threads",
        on_delete=fields.CASCADE,
        db_index=True,
    )
    account_id: int | None  # set by the ORM
    assignee: fields.ForeignKeyNullableRelation[Account] = fields.ForeignKeyField(
        "models.Account",
        null=True,
        related_name="assigned_threads",
        on_delete=fields.SET_NULL,
        db_index=True,
    )
    assignee_id: int | None  # set by the ORM
    subject = fields.CharField(max_length=SUBJECT_MAX)
    order_ref = fields.CharField(max_length=ORDER_REF_MAX, default="")
    status = fields.CharEnumField(ThreadStatus, max_length=8, default=ThreadStatus.OPEN)
    created_at = fields.DatetimeField(auto_now_add=True)
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "support_thread"


class SupportMessage(Model):
    id = fields.BigIntField(primary_key=True)
    thread: fields.ForeignKeyRelation[SupportThread] = fields.ForeignKeyField(
        "models.SupportThread", related_name="messages", on_delete=fields.CASCADE, db_index=True
    )
    thread_id: int  # set by the ORM
    from_staff = fields.BooleanField(default=False)
    #: The staffer who wrote it (null for the customer's own messages).
    staff: fields.ForeignKeyNullableRelation[Account] = fields.ForeignKeyField(
        "models.Account",
        null=True,
        related_name="support_replies",
        on_delete=fields.SET_NULL,
        db_index=True,
    )
    staff_id: int | None  # set by the ORM
    body = fields.TextField()
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "support_message"


class StaffAccess(Model):
    """Who among staff read whose personal data, and when."""

    id = fields.BigIntField(primary_key=True)
    staff: fields.ForeignKeyNullableRelation[Account] = fields.ForeignKeyField(
        "models.Account",
        null=True,
        related_name="staff_reads",
        on_delete=fields.SET_NULL,
        db_index=True,
    )
    staff_id: int | None  # set by the ORM
    subject_account: fields.ForeignKeyNullableRelation[Account] = fields.ForeignKeyField(
        "models.Account",
        null=True,
        related_name="read_by_staff",
        on_delete=fields.CASCADE,
        db_index=True,
    )
    subject_account_id: int | None  # set by the ORM
    resource = fields.CharField(max_length=64)
    resource_id = fields.CharField(max_length=64)
    at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "staff_access"


async def contact_support(
    account: Account, subject: str, message: str, order_ref: str | None
) -> SupportThread:
    subject = clean_text(subject, "subject", SUBJECT_MAX)
    body = clean_text(message, "message", MESSAGE_MAX, multiline=True)
    order_ref = clean_text(order_ref, "orderRef", ORDER_REF_MAX, required=False)
    async with in_transaction():
        thread = await SupportThread.create(account=account, subject=subject, order_ref=order_ref)
        await SupportMessage.create(thread=thread, body=body)
    return thread


async def reply_as_customer(account: Account, thread_id: int, message: str) -> SupportMessage:
    body = clean_text(message, "message", MESSAGE_MAX, multiline=True)
    thread = await SupportThread.get_or_none(id=thread_id, account_id=account.id)
    if thread is None:
        raise DomainError(PersonalDataErrorCode.NOT_FOUND, "threadId", "no such thread of yours")
    async with in_transaction():
        reply = await SupportMessage.create(thread=thread, body=body)
        await SupportThread.filter(id=thread.id).update(status=ThreadStatus.OPEN)
    return reply


async def staff_reply(staff: Account, thread_id: int, message: str) -> SupportMessage:
    """Reply to a thread; an unassigned thread becomes the replier's."""
    body = clean_text(message, "message", MESSAGE_MAX, multiline=True)
    async with in_transaction():
        thread = await SupportThread.get_or_none(id=thread_id)
        if thread is None:
            raise DomainError(PersonalDataErrorCode.NOT_FOUND, "threadId", "no such thread")
        if thread.assignee_id is None:
            claimed = await SupportThread.filter(id=thread.id, assignee_id=None).update(
                assignee_id=staff.id
            )
            if not claimed:
                raise DomainError(
                    PersonalDataErrorCode.CONFLICT, "threadId", "another staffer took it"
                )
        elif thread.assignee_id != staff.id:
            raise DomainError(
                PersonalDataErrorCode.FORBIDDEN, "threadId", "another staffer works this thread"
            )
        return await SupportMessage.create(thread=thread, body=body, from_staff=True, staff=staff)


async def thread_for_staff(staff: Account, thread_id: int) -> SupportThread | None:
    """The thread if this staffer works it, the read recorded; else None."""
    thread = await SupportThread.get_or_none(id=thread_id, assignee_id=staff.id)
    if thread is not None:
        await StaffAccess.create(
            staff=staff,
            subject_account_id=thread.account_id,
            resource="support_thread",
            resource_id=str(thread.id),
        )
    return thread
