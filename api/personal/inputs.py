"""Inputs of the personal-data mutations: one ``<MutationName>Input`` each."""

from __future__ import annotations

import strawberry
from strawberry.file_uploads import Upload
from strawberry.scalars import JSON

from api.personal.types import FeedbackKind, Visibility


@strawberry.input
class AddFavoriteInput:
    item_type: str
    item_id: str
    note: str | None = None


@strawberry.input
class RemoveFavoriteInput:
    id: strawberry.ID


@strawberry.input
class SubmitFeedbackInput:
    kind: FeedbackKind
    subject: str = strawberry.field(description="What it is about, e.g. a product id.")
    body: str
    rating: int | None = strawberry.field(default=None, description="1-5, RATING only.")
    picture_ids: list[strawberry.ID] = strawberry.field(default_factory=list)
    visibility: Visibility = Visibility.PRIVATE


@strawberry.input
class DeleteFeedbackInput:
    id: strawberry.ID


@strawberry.input
class UploadPictureInput:
    file: Upload


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


@strawberry.input
class DefineQuestionnaireInput:
    title: str
    questions: JSON = strawberry.field(description='A list of {"id": String, "text": String}.')


@strawberry.input
class AnswerQuestionnaireInput:
    questionnaire_id: strawberry.ID
    answers: JSON = strawberry.field(description="An object keyed by question id.")


@strawberry.input
class RecordSearchInput:
    keywords: str
    device_id: str | None = None


@strawberry.input
class RecordClickInput:
    link: str
    device_id: str | None = None


@strawberry.input
class RegisterDeviceInput:
    device_id: str
    platform: str | None = None
    model: str | None = None
    os_version: str | None = None
    app_version: str | None = None


@strawberry.input
class ClearDeviceDataInput:
    device_id: str


@strawberry.input
class ReportErrorInput:
    message: str
    stack: str | None = None
    device_config: JSON | None = None
    app_version: str | None = None
    device_id: str | None = None
