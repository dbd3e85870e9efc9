"""GraphQL types of the personal-data domain: favorites, feedback and pictures, support
correspondence, questionnaires, cleared device data, the typed error, and the mutations'
payloads."""

from __future__ import annotations

import uuid
from datetime import datetime

import strawberry
from strawberry.scalars import JSON
from strawberry.types import Info

from api.context import Context
from api.nodes import AccordNode, global_id, row_keys
from api.payloads import error_code
from api.permissions import OWNER_OR_ADMIN, SUPPORT_STAFF
from models.accounts import minors
from models.errors import DomainError
from models.personal import errors as personal_errors
from models.personal import favorites, feedback, picture_links, pictures, questionnaires, support

# ``strawberry.enum`` registers the models' enum itself; the names below are plain aliases,
# so a type checker sees the classes.
#: The rules' own enum, so GraphQL lists exactly the codes they raise.
strawberry.enum(personal_errors.PersonalDataErrorCode)
strawberry.enum(feedback.FeedbackKind)
strawberry.enum(feedback.Visibility)
strawberry.enum(support.ThreadStatus, name="SupportThreadStatus")
PersonalDataErrorCode = personal_errors.PersonalDataErrorCode
FeedbackKind = feedback.FeedbackKind
Visibility = feedback.Visibility
ThreadStatus = support.ThreadStatus
DELETED_USER = "deleted user"


@strawberry.type(description="A mistake the caller can fix; switch on `code`, not `message`.")
class PersonalDataError:
    code: PersonalDataErrorCode
    field: str | None
    message: str

    @classmethod
    def of(cls, error: DomainError) -> PersonalDataError:
        return cls(
            code=error_code(PersonalDataErrorCode, error.code),
            field=error.field,
            message=error.message,
        )


@strawberry.type(description="An item the user keeps.")
class Favorite(AccordNode):
    item_type: str
    item_id: str
    note: str
    created_at: datetime

    @classmethod
    def of(cls, row: favorites.Favorite) -> Favorite:
        return cls(
            id=global_id("Favorite", row.id),
            item_type=row.item_type,
            item_id=row.item_id,
            note=row.note,
            created_at=row.created_at,
        )

    @classmethod
    async def visible(cls, info: Info[Context, None], keys: list[str]) -> dict[str, Favorite]:
        """As ``Account.favorites``: the account itself, or an ADMIN."""
        ids = row_keys(keys)
        viewer = await info.context.viewer()
        rows = await favorites.Favorite.filter(id__in=list(ids)) if viewer and ids else []
        staff = await info.context.may_read_subject_data()
        return {
            ids[r.id]: cls.of(r)
            for r in rows
            if OWNER_OR_ADMIN.allows_account(viewer, r.account_id, staff=staff)
        }


@strawberry.type
class Picture(AccordNode):
    width: int
    height: int
    key: strawberry.Private[str]

    @classmethod
    def of(cls, row: pictures.Picture) -> Picture:
        return cls(
            id=global_id("Picture", row.id),
            key=str(row.id),
            width=row.width,
            height=row.height,
        )

    @strawberry.field(
        description="The file, for an `<img src>` (relative to the API's origin): a link "
        "valid for 5 to 10 minutes that needs no Authorization header. Ask again for a "
        "fresh one."
    )
    def url(self, info: Info[Context, None]) -> str:
        return picture_links.signed_path(self.key, info.context.settings.secret())

    @classmethod
    async def visible(cls, info: Info[Context, None], keys: list[str]) -> dict[str, Picture]:
        """As ``GET /pictures/{id}``: the owner, or anyone if its feedback is PUBLIC."""
        ids = {}
        for key in keys:
            try:
                ids[uuid.UUID(key)] = key
            except ValueError:
                continue
        viewer = await info.context.viewer()
        rows = await pictures.Picture.filter(id__in=list(ids)) if ids else []
        return {ids[r.id]: cls.of(r) for r in rows if await feedback.picture_readable_by(r, viewer)}


@strawberry.type(description="Who wrote a public item: only what they show publicly.")
class Author:
    nickname: str
    avatar_url: str | None
    signature: str = strawberry.field(
        default="",
        description="The short text on their profile; empty for a minor's account until a "
        "guardian has consented.",
    )


@strawberry.type
class Feedback(AccordNode):
    #: The row id, which ``pictures`` reads.
    pk: strawberry.Private[int]
    kind: FeedbackKind
    subject: str
    body: str
    rating: int | None
    visibility: Visibility
    created_at: datetime

    @classmethod
    def of(cls, row: feedback.Feedback) -> Feedback:
        return cls(
            id=global_id("Feedback", row.id),
            pk=row.id,
            kind=row.kind,
            subject=row.subject,
            body=row.body,
            rating=row.rating,
            visibility=row.visibility,
            created_at=row.created_at,
        )

    @strawberry.field
    async def pictures(self, info: Info[Context, None]) -> list[Picture]:
        rows = await info.context.personal_loaders.pictures_of_feedback.load(self.pk)
        return [Picture.of(r) for r in rows]

    @classmethod
    async def visible(cls, info: Info[Context, None], keys: list[str]) -> dict[str, Feedback]:
        """As ``Account.feedback``: its author, or an ADMIN."""
        ids = row_keys(keys)
        viewer = await info.context.viewer()
        rows = await feedback.Feedback.filter(id__in=list(ids)) if viewer and ids else []
        staff = await info.context.may_read_subject_data()
        return {
            ids[r.id]: cls.of(r)
            for r in rows
            if r.author_id is not None
            and OWNER_OR_ADMIN.allows_account(viewer, r.author_id, staff=staff)
        }


@strawberry.type(description="A PUBLIC item as anyone sees it.")
class PublicFeedback(Feedback):
    author: Author

    @classmethod
    def of(cls, row: feedback.Feedback) -> PublicFeedback:
        account = row.author
        author = (
            Author(
                nickname=account.nickname,
                avatar_url=account.avatar_url,
                signature=minors.public_signature(account),
            )
            if account is not None
            else Author(nickname=DELETED_USER, avatar_url=None)
        )
        fields = vars(Feedback.of(row)) | {"id": global_id("PublicFeedback", row.id)}
        return cls(**fields, author=author)

    @classmethod
    async def visible(  # type: ignore[override]
        cls, info: Info[Context, None], keys: list[str]
    ) -> dict[str, PublicFeedback]:
        """As ``publicFeedback``: anyone, items shown publicly only."""
        ids = row_keys(keys)
        rows = (
            await feedback.Feedback.filter(
                feedback.shown_publicly(), id__in=list(ids)
            ).select_related("author")
            if ids
            else []
        )
        return {ids[r.id]: cls.of(r) for r in rows}


@strawberry.type
class SupportMessage(AccordNode):
    from_staff: bool
    body: str
    created_at: datetime

    @classmethod
    def of(cls, row: support.SupportMessage) -> SupportMessage:
        return cls(
            id=global_id("SupportMessage", row.id),
            from_staff=row.from_staff,
            body=row.body,
            created_at=row.created_at,
        )

    @classmethod
    async def visible(cls, info: Info[Context, None], keys: list[str]) -> dict[str, SupportMessage]:
        """As ``SupportThread.messages``: whoever may read the thread."""
        ids = row_keys(keys)
        rows = await support.SupportMessage.filter(id__in=list(ids)) if ids else []
        threads = await SupportThread.visible(info, [str(r.thread_id) for r in rows])
        return {ids[r.id]: cls.of(r) for r in rows if str(r.thread_id) in threads}


@strawberry.type
class SupportThread(AccordNode):
    #: The row id, which ``messages`` reads.
    pk: strawberry.Private[int]
    subject: str
    order_ref: str
    status: ThreadStatus
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, row: support.SupportThread) -> SupportThread:
        return cls(
            id=global_id("SupportThread", row.id),
            pk=row.id,
            subject=row.subject,
            order_ref=row.order_ref,
            status=row.status,
            created_at=row.created_at,
            updated_at=row.updated_at,
        )

    @strawberry.field
    async def messages(self, info: Info[Context, None]) -> list[SupportMessage]:
        rows = await info.context.personal_loaders.messages_of_thread.load(self.pk)
        return [SupportMessage.of(r) for r in rows]

    @classmethod
    async def visible(cls, info: Info[Context, None], keys: list[str]) -> dict[str, SupportThread]:
        """As ``Account.supportThreads`` (its customer, or an ADMIN) and ``supportThread``
        (the SUPPORT staffer working it, the read recorded)."""
        ids = row_keys(keys)
        viewer = await info.context.viewer()
        if viewer is None or not ids:
            return {}
        found = {}
        staff = await info.context.may_read_subject_data()
        for row in await support.SupportThread.filter(id__in=list(ids)):
            if row.account_id is not None and OWNER_OR_ADMIN.allows_account(
                viewer, row.account_id, staff=staff
            ):
                found[ids[row.id]] = cls.of(row)
            elif (
                staff
                and viewer.holds_role(*SUPPORT_STAFF)
                and (worked := await support.thread_for_staff(viewer, row.id))
            ):
                found[ids[row.id]] = cls.of(worked)
        return found


@strawberry.type(description="An unassigned thread in the staff queue: its subject only.")
class SupportQueueItem(AccordNode):
    subject: str
    created_at: datetime

    @classmethod
    def of(cls, row: support.SupportThread) -> SupportQueueItem:
        return cls(
            id=global_id("SupportQueueItem", row.id), subject=row.subject, created_at=row.created_at
        )

    @classmethod
    async def visible(
        cls, info: Info[Context, None], keys: list[str]
    ) -> dict[str, SupportQueueItem]:
        """As ``supportQueue``: SUPPORT staff, open threads nobody works yet."""
        ids = row_keys(keys)
        viewer = await info.context.viewer()
        if viewer is None or not viewer.holds_role(*SUPPORT_STAFF) or not ids:
            return {}
        rows = await support.SupportThread.filter(
            id__in=list(ids), assignee_id=None, status=support.ThreadStatus.OPEN
        )
        return {ids[r.id]: cls.of(r) for r in rows}


@strawberry.type
class Questionnaire(AccordNode):
    title: str
    questions: JSON = strawberry.field(description='A list of {"id", "text"}.')

    @classmethod
    def of(cls, row: questionnaires.Questionnaire) -> Questionnaire:
        return cls(
            id=global_id("Questionnaire", row.id), title=row.title, questions=JSON(row.questions)
        )

    @classmethod
    async def visible(cls, info: Info[Context, None], keys: list[str]) -> dict[str, Questionnaire]:
        """As ``questionnaires``: anyone, open ones only."""
        ids = row_keys(keys)
        rows = (
            await questionnaires.Questionnaire.filter(id__in=list(ids), active=True) if ids else []
        )
        return {ids[r.id]: cls.of(r) for r in rows}


@strawberry.type(description="How many records of each kind were deleted.")
class ClearedDeviceData:
    search_records: int
    click_records: int
    error_reports: int
    consent_events: int
    devices: int


# --- payloads ----------------------------------------------------------------------------


@strawberry.type
class AddFavoritePayload:
    favorite: Favorite | None = None
    errors: list[PersonalDataError] = strawberry.field(default_factory=list)


@strawberry.type
class RemoveFavoritePayload:
    errors: list[PersonalDataError] = strawberry.field(default_factory=list)


@strawberry.type
class SubmitFeedbackPayload:
    feedback: Feedback | None = None
    errors: list[PersonalDataError] = strawberry.field(default_factory=list)


@strawberry.type
class DeleteFeedbackPayload:
    errors: list[PersonalDataError] = strawberry.field(default_factory=list)


@strawberry.type
class UploadPicturePayload:
    picture: Picture | None = None
    errors: list[PersonalDataError] = strawberry.field(default_factory=list)


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


@strawberry.type
class DefineQuestionnairePayload:
    questionnaire: Questionnaire | None = None
    errors: list[PersonalDataError] = strawberry.field(default_factory=list)


@strawberry.type
class AnswerQuestionnairePayload:
    errors: list[PersonalDataError] = strawberry.field(default_factory=list)


@strawberry.type
class RecordSearchPayload:
    recorded: bool = strawberry.field(
        default=False,
        description="False when you do not consent to `activity_log` (or with `errors`).",
    )
    errors: list[PersonalDataError] = strawberry.field(default_factory=list)


@strawberry.type
class RecordClickPayload:
    recorded: bool = strawberry.field(
        default=False,
        description="False when you do not consent to `activity_log` (or with `errors`).",
    )
    errors: list[PersonalDataError] = strawberry.field(default_factory=list)


@strawberry.type
class RegisterDevicePayload:
    device_id: str | None = None
    errors: list[PersonalDataError] = strawberry.field(default_factory=list)


@strawberry.type
class ClearDeviceDataPayload:
    cleared: ClearedDeviceData | None = None
    errors: list[PersonalDataError] = strawberry.field(default_factory=list)


@strawberry.type
class ReportErrorPayload:
    id: strawberry.ID | None = None
    errors: list[PersonalDataError] = strawberry.field(default_factory=list)
