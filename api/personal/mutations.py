"""Mutation fields of the personal-data domain: favorites, feedback and pictures, support,
questionnaires, search and click records, devices and error reports. Thin calls into
``models``; who may call each is declared beside it with ``@payload``."""

from __future__ import annotations

import strawberry
from starlette.datastructures import UploadFile
from strawberry.types import Info

from api.context import Context
from api.nodes import key_of, row_id_of
from api.payloads import payload
from api.permissions import QUESTIONNAIRE_AUTHORS, SUPPORT_STAFF
from api.personal.inputs import (
    AddFavoriteInput,
    AnswerQuestionnaireInput,
    ClearDeviceDataInput,
    ContactSupportInput,
    DefineQuestionnaireInput,
    DeleteFeedbackInput,
    RecordClickInput,
    RecordSearchInput,
    RegisterDeviceInput,
    RemoveFavoriteInput,
    ReplyToSupportInput,
    ReportErrorInput,
    StaffReplyInput,
    SubmitFeedbackInput,
    UploadPictureInput,
)
from api.personal.types import (
    AddFavoritePayload,
    AnswerQuestionnairePayload,
    ClearDeviceDataPayload,
    ClearedDeviceData,
    ContactSupportPayload,
    DefineQuestionnairePayload,
    DeleteFeedbackPayload,
    Favorite,
    Feedback,
    PersonalDataError,
    Picture,
    Questionnaire,
    RecordClickPayload,
    RecordSearchPayload,
    RegisterDevicePayload,
    RemoveFavoritePayload,
    ReplyToSupportPayload,
    ReportErrorPayload,
    StaffReplyPayload,
    SubmitFeedbackPayload,
    SupportMessage,
    SupportThread,
    UploadPicturePayload,
)
from models.accounts.account import Account
from models.errors import DomainError
from models.personal import (
    activity,
    devices,
    error_reports,
    favorites,
    feedback,
    pictures,
    questionnaires,
    support,
)
from models.personal.errors import PersonalDataErrorCode


def _id(raw: strawberry.ID, type_name: str) -> int:
    row_id = row_id_of(raw, type_name)
    if row_id is None:
        raise DomainError(PersonalDataErrorCode.NOT_FOUND, "id", "no such item")
    return row_id


def _thread_id(raw: strawberry.ID) -> int:
    thread_id = row_id_of(raw, "SupportThread")
    if thread_id is None:
        raise DomainError(PersonalDataErrorCode.NOT_FOUND, "threadId", "no such thread")
    return thread_id


async def _actor(
    info: Info[Context, None], device_id: str | None
) -> tuple[Account | None, str | None]:
    """The signed-in account (if any) and the device, which must be one it may act for."""
    account = await info.context.viewer()
    return account, await devices.acting_device(device_id, account)


@strawberry.type
class PersonalDataMutations:
    @strawberry.mutation(description="Adding an item already kept returns the kept one.")
    @payload(PersonalDataError, signed_in=True)
    async def add_favorite(
        self, info: Info[Context, None], input: AddFavoriteInput
    ) -> AddFavoritePayload:
        account = await info.context.require_viewer()
        row = await favorites.add_favorite(account, input.item_type, input.item_id, input.note)
        return AddFavoritePayload(favorite=Favorite.of(row))

    @strawberry.mutation
    @payload(PersonalDataError, signed_in=True)
    async def remove_favorite(
        self, info: Info[Context, None], input: RemoveFavoriteInput
    ) -> RemoveFavoritePayload:
        account = await info.context.require_viewer()
        await favorites.remove_favorite(account, _id(input.id, "Favorite"))
        return RemoveFavoritePayload()

    @strawberry.mutation
    @payload(PersonalDataError, signed_in=True)
    async def submit_feedback(
        self, info: Info[Context, None], input: SubmitFeedbackInput
    ) -> SubmitFeedbackPayload:
        account = await info.context.require_viewer()
        row = await feedback.submit_feedback(
            account,
            kind=input.kind,
            subject=input.subject,
            body=input.body,
            rating=input.rating,
            picture_ids=[key_of(p, "Picture") or "" for p in input.picture_ids],
            visibility=input.visibility,
        )
        return SubmitFeedbackPayload(feedback=Feedback.of(row))

    @strawberry.mutation(description="Deletes the item and its pictures (files too).")
    @payload(PersonalDataError, signed_in=True)
    async def delete_feedback(
        self, info: Info[Context, None], input: DeleteFeedbackInput
    ) -> DeleteFeedbackPayload:
        account = await info.context.require_viewer()
        feedback_id = row_id_of(input.id, "Feedback")
        if feedback_id is None:
            raise DomainError(PersonalDataErrorCode.NOT_FOUND, "id", "no such feedback of yours")
        await feedback.delete_feedback(account, feedback_id, info.context.storage)
        return DeleteFeedbackPayload()

    @strawberry.mutation(
        description="Upload a PNG, JPEG or WebP (GraphQL multipart request). Metadata such as "
        "EXIF GPS positions is removed before the picture is stored."
    )
    @payload(PersonalDataError, signed_in=True)
    async def upload_picture(
        self, info: Info[Context, None], input: UploadPictureInput
    ) -> UploadPicturePayload:
        ctx = info.context
        account = await ctx.require_viewer()
        if not isinstance(input.file, UploadFile):  # e.g. a string in a plain JSON request
            raise DomainError(
                PersonalDataErrorCode.INVALID,
                "file",
                "send the file as a GraphQL multipart request",
            )
        data = await input.file.read(ctx.settings.picture_max_bytes + 1)
        row = await pictures.store_picture(
            account,
            data,
            ctx.storage,
            ctx.settings,
            max_bytes=ctx.settings.picture_max_bytes,
            max_pixels=ctx.settings.picture_max_pixels,
        )
        return UploadPicturePayload(picture=Picture.of(row))

    @strawberry.mutation
    @payload(PersonalDataError, signed_in=True)
    async def contact_support(
        self, info: Info[Context, None], input: ContactSupportInput
    ) -> ContactSupportPayload:
        account = await info.context.require_viewer()
        row = await support.contact_support(account, input.subject, input.message, input.order_ref)
        return ContactSupportPayload(thread=SupportThread.of(row))

    @strawberry.mutation
    @payload(PersonalDataError, signed_in=True)
    async def reply_to_support(
        self, info: Info[Context, None], input: ReplyToSupportInput
    ) -> ReplyToSupportPayload:
        account = await info.context.require_viewer()
        row = await support.reply_as_customer(account, _thread_id(input.thread_id), input.message)
        return ReplyToSupportPayload(message=SupportMessage.of(row))

    @strawberry.mutation(description="SUPPORT: answer a thread; an unassigned one becomes yours.")
    @payload(PersonalDataError, roles=SUPPORT_STAFF)
    async def staff_reply(
        self, info: Info[Context, None], input: StaffReplyInput
    ) -> StaffReplyPayload:
        staff = await info.context.require_viewer()
        row = await support.staff_reply(staff, _thread_id(input.thread_id), input.message)
        return StaffReplyPayload(message=SupportMessage.of(row))

    @strawberry.mutation(description="OPERATOR: define a questionnaire.")
    @payload(PersonalDataError, roles=QUESTIONNAIRE_AUTHORS)
    async def define_questionnaire(
        self, info: Info[Context, None], input: DefineQuestionnaireInput
    ) -> DefineQuestionnairePayload:
        if not isinstance(input.questions, list) or not all(
            isinstance(q, dict) for q in input.questions
        ):
            raise DomainError(PersonalDataErrorCode.INVALID, "questions", "a list of objects")
        row = await questionnaires.define_questionnaire(input.title, input.questions)
        return DefineQuestionnairePayload(questionnaire=Questionnaire.of(row))

    @strawberry.mutation(description="Answering again replaces your earlier answers.")
    @payload(PersonalDataError, signed_in=True)
    async def answer_questionnaire(
        self, info: Info[Context, None], input: AnswerQuestionnaireInput
    ) -> AnswerQuestionnairePayload:
        account = await info.context.require_viewer()
        questionnaire_id = row_id_of(input.questionnaire_id, "Questionnaire")
        if questionnaire_id is None:
            raise DomainError(
                PersonalDataErrorCode.NOT_FOUND, "questionnaireId", "no such questionnaire"
            )
        await questionnaires.answer_questionnaire(account, questionnaire_id, input.answers)
        return AnswerQuestionnairePayload()

    @strawberry.mutation(
        description="Kept only while you consent to the `activity_log` purpose: nothing is "
        "stored without it, and withdrawing it erases what was kept, at once."
    )
    @payload(PersonalDataError)
    async def record_search(
        self, info: Info[Context, None], input: RecordSearchInput
    ) -> RecordSearchPayload:
        account, device_id = await _actor(info, input.device_id)
        recorded = await activity.record_search(
            account,
            device_id,
            input.keywords,
            user_agent=info.context.user_agent,
            client_address=info.context.client_address,
        )
        return RecordSearchPayload(recorded=recorded)

    @strawberry.mutation(
        description="Kept only while you consent to the `activity_log` purpose: nothing is "
        "stored without it, and withdrawing it erases what was kept, at once."
    )
    @payload(PersonalDataError)
    async def record_click(
        self, info: Info[Context, None], input: RecordClickInput
    ) -> RecordClickPayload:
        account, device_id = await _actor(info, input.device_id)
        recorded = await activity.record_click(
            account,
            device_id,
            input.link,
            user_agent=info.context.user_agent,
            client_address=info.context.client_address,
        )
        return RecordClickPayload(recorded=recorded)

    @strawberry.mutation
    @payload(PersonalDataError)
    async def register_device(
        self, info: Info[Context, None], input: RegisterDeviceInput
    ) -> RegisterDevicePayload:
        await devices.register_device(
            input.device_id,
            await info.context.viewer(),
            platform=input.platform,
            model=input.model,
            os_version=input.os_version,
            app_version=input.app_version,
        )
        return RegisterDevicePayload(device_id=input.device_id)  # stored only as a reference

    @strawberry.mutation(
        description="Delete everything tied to a device or cookie identifier: its activity, "
        "error reports, anonymous consent history and the device itself."
    )
    @payload(PersonalDataError)
    async def clear_device_data(
        self, info: Info[Context, None], input: ClearDeviceDataInput
    ) -> ClearDeviceDataPayload:
        cleared = await devices.clear_device_data(input.device_id, await info.context.viewer())
        return ClearDeviceDataPayload(cleared=ClearedDeviceData(**vars(cleared)))

    @strawberry.mutation(description="Signed in, or anonymously with a deviceId.")
    @payload(PersonalDataError)
    async def report_error(
        self, info: Info[Context, None], input: ReportErrorInput
    ) -> ReportErrorPayload:
        account, device_id = await _actor(info, input.device_id)
        row = await error_reports.report_error(
            account,
            message=input.message,
            stack=input.stack,
            device_config=input.device_config,
            app_version=input.app_version,
            device_id=device_id,
            client_address=info.context.client_address,
            max_bytes=info.context.settings.error_report_max_bytes,
        )
        return ReportErrorPayload(id=strawberry.ID(str(row.id)))
