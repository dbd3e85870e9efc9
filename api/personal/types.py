"""GraphQL types of the personal-data domain: favorites, feedback and pictures, support
correspondence, questionnaires, cleared device data, the typed error, and the mutations'
payloads."""

from __future__ import annotations

from datetime import datetime

import strawberry
from strawberry.scalars import JSON
from strawberry.types import Info

from api.context import Context
from api.payloads import error_code
from models.errors import DomainError
from models.personal import errors as personal_errors
from models.personal import favorites, feedback, pictures, questionnaires, support

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
class Favorite:
    id: strawberry.ID
    item_type: str
    item_id: str
    note: str
    created_at: datetime

    @classmethod
    def of(cls, row: favorites.Favorite) -> Favorite:
        return cls(
            id=strawberry.ID(str(row.id)),
            item_type=row.item_type,
            item_id=row.item_id,
            note=row.note,
            created_at=row.created_at,
        )


@strawberry.type
class Picture:
    id: strawberry.ID
    url: str
    width: int
    height: int

    @classmethod
    def of(cls, row: pictures.Picture) -> Picture:
        return cls(
            id=strawberry.ID(str(row.id)),
            url=f"/pictures/{row.id}",
            width=row.width,
            height=row.height,
        )


@strawberry.type(description="Who wrote a public item: only what they show publicly.")
class Author:
    nickname: str
    avatar_url: str | None


@strawberry.type
class Feedback:
    id: strawberry.ID
    kind: FeedbackKind
    subject: str
    body: str
    rating: int | None
    visibility: Visibility
    created_at: datetime

    @classmethod
    def of(cls, row: feedback.Feedback) -> Feedback:
        return cls(
            id=strawberry.ID(str(row.id)),
            kind=row.kind,
            subject=row.subject,
            body=row.body,
            rating=row.rating,
            visibility=row.visibility,
            created_at=row.created_at,
        )

    @strawberry.field
    async def pictures(self, info: Info[Context, None]) -> list[Picture]:
        rows = await info.context.personal_loaders.pictures_of_feedback.load(int(self.id))
        return [Picture.of(r) for r in rows]


@strawberry.type(description="A PUBLIC item as anyone sees it.")
class PublicFeedback(Feedback):
    author: Author

    @classmethod
    def of(cls, row: feedback.Feedback) -> PublicFeedback:
        account = row.author
        author = (
            Author(nickname=account.nickname, avatar_url=account.avatar_url)
            if account is not None
            else Author(nickname=DELETED_USER, avatar_url=None)
        )
        return cls(**vars(Feedback.of(row)), author=author)


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
    async def messages(self, info: Info[Context, None]) -> list[SupportMessage]:
        rows = await info.context.personal_loaders.messages_of_thread.load(int(self.id))
        return [SupportMessage.of(r) for r in rows]


@strawberry.type(description="An unassigned thread in the staff queue: its subject only.")
class SupportQueueItem:
    id: strawberry.ID
    subject: str
    created_at: datetime


@strawberry.type
class Questionnaire:
    id: strawberry.ID
    title: str
    questions: JSON = strawberry.field(description='A list of {"id", "text"}.')

    @classmethod
    def of(cls, row: questionnaires.Questionnaire) -> Questionnaire:
        return cls(id=strawberry.ID(str(row.id)), title=row.title, questions=JSON(row.questions))


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
