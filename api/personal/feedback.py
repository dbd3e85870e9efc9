"""Feedback and pictures at the GraphQL edge, and the URL pictures are served from."""

from __future__ import annotations

import uuid
from datetime import datetime

import strawberry
from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import Response
from strawberry.file_uploads import Upload
from strawberry.types import Info

from api.pagination import (
    Connection,
    connection,
    fetch_page,
    parse_id,
)
from api.payloads import payload
from api.personal.errors import PersonalDataError
from models.accounts.sessions import session_for_token
from models.errors import DomainError
from models.personal import feedback, pictures
from models.personal.errors import PersonalDataErrorCode

# The models' own enums, which strawberry.enum registers in place: still types to mypy.
FeedbackKind = feedback.FeedbackKind
strawberry.enum(FeedbackKind)
Visibility = feedback.Visibility
strawberry.enum(Visibility)
DELETED_USER = "deleted user"


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
    async def pictures(self, info: Info) -> list[Picture]:
        rows = await info.context.personal_loaders.pictures_of_feedback.load(int(self.id))
        return [Picture.of(r) for r in rows]


@strawberry.type(description="A PUBLIC item as anyone sees it.")
class PublicFeedback(Feedback):
    author: Author


def _public(row: feedback.Feedback) -> PublicFeedback:
    base = Feedback.of(row)
    account = row.author
    author = (
        Author(nickname=account.nickname, avatar_url=account.avatar_url)
        if account is not None
        else Author(nickname=DELETED_USER, avatar_url=None)
    )
    return PublicFeedback(**vars(base), author=author)


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


async def feedback_page(account_id: int, first: int, after: str | None) -> Connection[Feedback]:
    rows, more = await fetch_page(feedback.Feedback.filter(author_id=account_id), first, after)
    return connection(rows, more, Feedback.of)


@strawberry.type
class FeedbackQueries:
    @strawberry.field(description="PUBLIC feedback about a subject, newest first; no sign-in.")
    async def public_feedback(
        self, subject: str, first: int = 20, after: str | None = None
    ) -> Connection[PublicFeedback]:
        query = feedback.Feedback.filter(
            subject=subject[: feedback.SUBJECT_MAX], visibility=feedback.Visibility.PUBLIC
        ).select_related("author")
        rows, more = await fetch_page(query, first, after)
        return connection(rows, more, _public)


@strawberry.type
class FeedbackMutations:
    @strawberry.mutation
    @payload(PersonalDataError, signed_in=True)
    async def submit_feedback(
        self, info: Info, input: SubmitFeedbackInput
    ) -> SubmitFeedbackPayload:
        account = await info.context.require_viewer()
        row = await feedback.submit_feedback(
            account,
            kind=input.kind,
            subject=input.subject,
            body=input.body,
            rating=input.rating,
            picture_ids=[str(p) for p in input.picture_ids],
            visibility=input.visibility,
        )
        return SubmitFeedbackPayload(feedback=Feedback.of(row))

    @strawberry.mutation(description="Deletes the item and its pictures (files too).")
    @payload(PersonalDataError, signed_in=True)
    async def delete_feedback(
        self, info: Info, input: DeleteFeedbackInput
    ) -> DeleteFeedbackPayload:
        account = await info.context.require_viewer()
        feedback_id = parse_id(input.id)
        if feedback_id is None:
            raise DomainError(PersonalDataErrorCode.NOT_FOUND, "id", "no such feedback of yours")
        await feedback.delete_feedback(account, feedback_id, info.context.storage)
        return DeleteFeedbackPayload()

    @strawberry.mutation(
        description="Upload a PNG, JPEG or WebP (GraphQL multipart request). Metadata such as "
        "EXIF GPS positions is removed before the picture is stored."
    )
    @payload(PersonalDataError, signed_in=True)
    async def upload_picture(self, info: Info, input: UploadPictureInput) -> UploadPicturePayload:
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
            max_bytes=ctx.settings.picture_max_bytes,
            max_pixels=ctx.settings.picture_max_pixels,
        )
        return UploadPicturePayload(picture=Picture.of(row))


async def serve_picture(request: Request) -> Response:
    """GET /pictures/{id}: the owner (bearer token) always, others only if it is public."""
    try:
        picture_id = uuid.UUID(request.path_params["picture_id"])
    except ValueError:
        return Response(status_code=404)
    row = await pictures.Picture.get_or_none(id=picture_id)
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    session = (
        await session_for_token(token.strip(), request.app.state.settings)
        if scheme.lower() == "bearer" and token.strip()
        else None
    )
    viewer = session.account if session else None
    if row is None or not await feedback.picture_readable_by(row, viewer):
        return Response(status_code=404)
    data = await request.app.state.storage.get(row.storage_key)
    if data is None:
        return Response(status_code=404)
    public = viewer is None or viewer.id != row.owner_id
    return Response(
        data,
        media_type=row.content_type,
        headers={
            "cache-control": "public, max-age=300" if public else "private, no-store",
            "x-content-type-options": "nosniff",
            "content-security-policy": "default-src 'none'",
        },
    )
