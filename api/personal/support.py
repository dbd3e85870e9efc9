"""Support correspondence at the GraphQL edge: customers, and SUPPORT staff (need-to-know:
see ``models.personal.support``)."""

from __future__ import annotations

from datetime import datetime

import strawberry
from strawberry.types import Info

from api.errors import ClientError
from api.pagination import parse_id
from api.payloads import payload
from api.personal.errors import PersonalDataError
from models.accounts.account import Role
from models.errors import DomainError
from models.personal import support
from models.personal.errors import PersonalDataErrorCode

# The models' own enums, which strawberry.enum registers in place: still types to mypy.
ThreadStatus = support.ThreadStatus
strawberry.enum(ThreadStatus, name="SupportThreadStatus")
STAFF = (Role.SUPPORT,)


@strawberry.type
class SupportMessage:
    id: strawberry.ID
    from_staff: bool
    body: str
    created_at: datetime

    @classmethod
    def of(cls, row: support.SupportMessage) -> SupportMessage:
        return cls(
            id=strawberry.ID(str(row.id)),
            from_staff=row.from_staff,
            body=row.body,
            created_at=row.created_at,
        )


@strawberry.type
class SupportThread:
    id: strawberry.ID
    subject: str
    order_ref: str
    status: ThreadStatus
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, row: support.SupportThread) -> SupportThread:
        return cls(
            id=strawberry.ID(str(row.id)),
            subject=row.subject,
            order_ref=row.order_ref,
            status=row.status,
            created_at=row.created_at,
            updated_at=row.updated_at,
        )

    @strawberry.field
    async def messages(self, info: Info) -> list[SupportMessage]:
        rows = await info.context.personal_loaders.messages_of_thread.load(int(self.id))
        return [SupportMessage.of(r) for r in rows]


@strawberry.type(description="An unassigned thread in the staff queue: its subject only.")
class SupportQueueItem:
    id: strawberry.ID
    subject: str
    created_at: datetime


@strawberry.input
class ContactSupportInput:
    subject: str
    message: str
    order_ref: str | None = None


@strawberry.input
class ReplyToSupportInput:
    thread_id: strawberry.ID
    message: str


@strawberry.input
class StaffReplyInput:
    thread_id: strawberry.ID
    message: str


@strawberry.type
class ContactSupportPayload:
    thread: SupportThread | None = None
    errors: list[PersonalDataError] = strawberry.field(default_factory=list)


@strawberry.type
class ReplyToSupportPayload:
    message: SupportMessage | None = None
    errors: list[PersonalDataError] = strawberry.field(default_factory=list)


@strawberry.type
class StaffReplyPayload:
    message: SupportMessage | None = None
    errors: list[PersonalDataError] = strawberry.field(default_factory=list)


def _thread_id(raw: strawberry.ID) -> int:
    thread_id = parse_id(raw)
    if thread_id is None:
        raise DomainError(PersonalDataErrorCode.NOT_FOUND, "threadId", "no such thread")
    return thread_id


async def _staff(info: Info):
    try:
        return await info.context.require_role(*STAFF)
    except DomainError as error:
        raise ClientError(str(error.code), error.message) from None


@strawberry.type
class SupportQueries:
    @strawberry.field(description="SUPPORT: open threads nobody works yet (subjects only).")
    async def support_queue(self, info: Info) -> list[SupportQueueItem]:
        await _staff(info)
        rows = (
            await support.SupportThread.filter(assignee_id=None, status=support.ThreadStatus.OPEN)
            .order_by("id")
            .limit(100)
        )
        return [
            SupportQueueItem(
                id=strawberry.ID(str(r.id)), subject=r.subject, created_at=r.created_at
            )
            for r in rows
        ]

    @strawberry.field(description="SUPPORT: a thread you work, with its messages (logged).")
    async def support_thread(self, info: Info, id: strawberry.ID) -> SupportThread | None:
        staff = await _staff(info)
        thread_id = parse_id(id)
        if thread_id is None:
            return None
        row = await support.thread_for_staff(staff, thread_id)
        return SupportThread.of(row) if row else None


@strawberry.type
class SupportMutations:
    @strawberry.mutation
    @payload(PersonalDataError, signed_in=True)
    async def contact_support(
        self, info: Info, input: ContactSupportInput
    ) -> ContactSupportPayload:
        account = await info.context.require_viewer()
        row = await support.contact_support(account, input.subject, input.message, input.order_ref)
        return ContactSupportPayload(thread=SupportThread.of(row))

    @strawberry.mutation
    @payload(PersonalDataError, signed_in=True)
    async def reply_to_support(
        self, info: Info, input: ReplyToSupportInput
    ) -> ReplyToSupportPayload:
        account = await info.context.require_viewer()
        row = await support.reply_as_customer(account, _thread_id(input.thread_id), input.message)
        return ReplyToSupportPayload(message=SupportMessage.of(row))

    @strawberry.mutation(description="SUPPORT: answer a thread; an unassigned one becomes yours.")
    @payload(PersonalDataError, roles=STAFF)
    async def staff_reply(self, info: Info, input: StaffReplyInput) -> StaffReplyPayload:
        staff = await info.context.require_viewer()
        row = await support.staff_reply(staff, _thread_id(input.thread_id), input.message)
        return StaffReplyPayload(message=SupportMessage.of(row))
