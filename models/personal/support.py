"""Support correspondence, and the need-to-know rule for staff.

The rule for staff (need-to-know): a SUPPORT staffer sees the *queue* of unassigned open
threads by subject only; a thread's messages and its customer become visible to the one
staffer working it, who takes it by replying first (``staff_reply``). Every time staff read
a thread, the staff audit log (``models.rights.audit``) records who read whose thread,
when and why.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from tortoise import fields
from tortoise.transactions import in_transaction

from models.accounts.account import Account
from models.errors import DomainError
from models.keys.data_keys import KEPT_CONTENT_SUBJECT, account_subject
from models.keys.sealed_fields import SealedField, SealedManager, SealedModel
from models.personal.errors import PersonalDataErrorCode
from models.rights import audit
from models.text import clean_text

SUBJECT_MAX = 200
MESSAGE_MAX = 5000
ORDER_REF_MAX = 64


class ThreadStatus(StrEnum):
    OPEN = "OPEN"
    CLOSED = "CLOSED"


class SupportThread(SealedModel):
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
    subject = SealedField(max_length=SUBJECT_MAX)
    order_ref = SealedField(max_length=ORDER_REF_MAX, default="")
    status = fields.CharEnumField(ThreadStatus, max_length=8, default=ThreadStatus.OPEN)
    created_at = fields.DatetimeField(auto_now_add=True)
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        manager = SealedManager()
        table = "support_thread"

    def sealed_subject(self) -> str | None:
        """The customer's key; once retained without them, the deployment's."""
        if self.account_id is None:
            return KEPT_CONTENT_SUBJECT
        return account_subject(self.account_id)


class SupportMessage(SealedModel):
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
    body = SealedField(max_length=MESSAGE_MAX)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        manager = SealedManager()
        table = "support_message"

    def sealed_subject(self) -> str | None:
        """The thread's (its customer's), known once the thread is loaded (``save`` loads
        it); a message read alone is checked by its key alone."""
        thread = self.__dict__.get("_thread")
        return thread.sealed_subject() if isinstance(thread, SupportThread) else None

    async def save(self, *args: Any, **kwargs: Any) -> None:
        if not isinstance(self.__dict__.get("_thread"), SupportThread):
            await self.fetch_related("thread")  # whose key seals the message
        await super().save(*args, **kwargs)


async def contact_support(
    account: Account, subject: str, message: str, order_ref: str | None
) -> SupportThread:
    subject = clean_text(subject, "subject", SUBJECT_MAX)
    body = clean_text(message, "message", MESSAGE_MAX, multiline=True)
    order_ref = clean_text(order_ref, "orderRef", ORDER_REF_MAX, required=False)
    async with in_transaction("default"):
        thread = await SupportThread.create(account=account, subject=subject, order_ref=order_ref)
        await SupportMessage.create(thread=thread, body=body)
    return thread


async def reply_as_customer(account: Account, thread_id: int, message: str) -> SupportMessage:
    body = clean_text(message, "message", MESSAGE_MAX, multiline=True)
    thread = await SupportThread.get_or_none(id=thread_id, account_id=account.id)
    if thread is None:
        raise DomainError(PersonalDataErrorCode.NOT_FOUND, "threadId", "no such thread of yours")
    async with in_transaction("default"):
        reply = await SupportMessage.create(thread=thread, body=body)
        await SupportThread.filter(id=thread.id).update(status=ThreadStatus.OPEN)
    return reply


async def staff_reply(staff: Account, thread_id: int, message: str) -> SupportMessage:
    """Reply to a thread; an unassigned thread becomes the replier's."""
    body = clean_text(message, "message", MESSAGE_MAX, multiline=True)
    async with in_transaction("default"):
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


#: Why a staffer reads a thread when they give no reason of their own: need-to-know is the
#: assignment itself.
WORKING_THE_THREAD = "works this support thread (assigned to them)"


async def thread_for_staff(
    staff: Account, thread_id: int, reason: str | None = None
) -> SupportThread | None:
    """The thread if this staffer works it, the read written to the staff audit log; else
    None."""
    thread = await SupportThread.get_or_none(id=thread_id, assignee_id=staff.id)
    if thread is not None:
        await audit.record(
            staff,
            audit.StaffAction.READ_SUPPORT_THREAD,
            subject_id=thread.account_id,
            resource="SupportThread",
            resource_id=str(thread.id),
            reason=(reason or "").strip() or WORKING_THE_THREAD,
        )
    return thread
