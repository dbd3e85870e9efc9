"""Feedback, comments, suggestions, complaints, ratings and error reports users publish.

PUBLIC items appear in ``publicFeedback`` with the author's nickname and avatar; PRIVATE
ones only to their author. A minor's PUBLIC items (and their pictures) are shown to others
only once a guardian has consented (``shown_publicly``, ``models.accounts.minors``).
Pictures attach to at most one item, and only their owner's.
"""

from __future__ import annotations

import uuid
from enum import StrEnum

from tortoise import fields
from tortoise.expressions import Q, Subquery
from tortoise.indexes import Index
from tortoise.queryset import QuerySet
from tortoise.transactions import in_transaction

from models.accounts.account import Account
from models.accounts.minors import hidden_authors
from models.errors import DomainError
from models.keys.blind_indexes import blind_index
from models.keys.data_keys import KEPT_CONTENT_SUBJECT, account_subject
from models.keys.sealed_fields import SealedField, SealedManager, SealedModel
from models.personal.errors import PersonalDataErrorCode
from models.personal.pictures import Picture, delete_picture
from models.personal.storage import Storage
from models.text import clean_text

SUBJECT_MAX = 200
#: The blind index's purpose for what an item is about (``models.keys.blind_indexes``):
#: ``publicFeedback(subject:)`` finds items by it.
SUBJECT_INDEX = "feedback subject"
BODY_MAX = 5000
PICTURES_MAX = 9


class FeedbackKind(StrEnum):
    FEEDBACK = "FEEDBACK"
    COMMENT = "COMMENT"
    SUGGESTION = "SUGGESTION"
    COMPLAINT = "COMPLAINT"
    RATING = "RATING"
    ERROR_REPORT = "ERROR_REPORT"


class Visibility(StrEnum):
    PUBLIC = "PUBLIC"
    PRIVATE = "PRIVATE"


class Feedback(SealedModel):
    id = fields.BigIntField(primary_key=True)
    #: Null once the author's account is deleted and the item was kept anonymised.
    author: fields.ForeignKeyNullableRelation[Account] = fields.ForeignKeyField(
        "models.Account",
        null=True,
        related_name="feedback",
        on_delete=fields.SET_NULL,
        db_index=True,
    )
    author_id: int | None  # set by the ORM
    kind = fields.CharEnumField(FeedbackKind, max_length=16)
    subject = SealedField(max_length=SUBJECT_MAX, blind_index=("subject_index", SUBJECT_INDEX))
    subject_index = fields.CharField(max_length=32, null=True)
    body = SealedField()
    rating = fields.SmallIntField(null=True)
    visibility = fields.CharEnumField(Visibility, max_length=8, default=Visibility.PRIVATE)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        manager = SealedManager()
        table = "feedback"
        indexes = (Index(fields=("subject_index", "visibility")),)

    def sealed_subject(self) -> str | None:
        """The author's key; once kept anonymised, the deployment's (``keep_anonymised``)."""
        if self.author_id is None:
            return KEPT_CONTENT_SUBJECT
        return account_subject(self.author_id)


async def submit_feedback(
    author: Account,
    *,
    kind: FeedbackKind,
    subject: str,
    body: str,
    rating: int | None,
    picture_ids: list[str],
    visibility: Visibility,
) -> Feedback:
    subject = clean_text(subject, "subject", SUBJECT_MAX, multiline=False)
    body = clean_text(body, "body", BODY_MAX, multiline=True)
    if kind == FeedbackKind.RATING:
        if rating is None or not 1 <= rating <= 5:
            raise DomainError(PersonalDataErrorCode.INVALID, "rating", "a rating is 1 to 5")
    elif rating is not None:
        raise DomainError(
            PersonalDataErrorCode.INVALID, "rating", "only RATING feedback has a rating"
        )
    if len(picture_ids) > PICTURES_MAX:
        raise DomainError(
            PersonalDataErrorCode.INVALID, "pictureIds", f"at most {PICTURES_MAX} pictures"
        )
    ids = []
    for raw in picture_ids:
        try:
            ids.append(uuid.UUID(raw))
        except ValueError:
            raise DomainError(
                PersonalDataErrorCode.NOT_FOUND, "pictureIds", "no such picture"
            ) from None
    async with in_transaction("default"):
        pictures = await Picture.filter(id__in=ids, owner_id=author.id, feedback_id=None)
        if len(pictures) != len(set(ids)):
            raise DomainError(
                PersonalDataErrorCode.NOT_FOUND,
                "pictureIds",
                "no such picture of yours, or already attached",
            )
        item = await Feedback.create(
            author=author,
            kind=kind,
            subject=subject,
            body=body,
            rating=rating,
            visibility=visibility,
        )
        if ids:
            # Conditional, so that of two submissions racing for one picture only one wins;
            # the other's UPDATE finds it attached and the whole submission rolls back.
            attached = await Picture.filter(
                id__in=ids, owner_id=author.id, feedback_id=None
            ).update(feedback_id=item.id)
            if attached != len(set(ids)):
                raise DomainError(
                    PersonalDataErrorCode.NOT_FOUND,
                    "pictureIds",
                    "no such picture of yours, or already attached",
                )
    return item


async def delete_feedback(author: Account, feedback_id: int, storage: Storage) -> None:
    item = await Feedback.get_or_none(id=feedback_id, author_id=author.id)
    if item is None:
        raise DomainError(PersonalDataErrorCode.NOT_FOUND, "id", "no such feedback of yours")
    for picture in await Picture.filter(feedback_id=item.id):
        await delete_picture(picture, storage)
    await item.delete()


def shown_publicly() -> Q:
    """What others may see: PUBLIC items, but not those of a minor without a guardian's
    consent (read at every public read, so a withdrawal hides them at once)."""
    return Q(visibility=Visibility.PUBLIC) & (
        Q(author_id__isnull=True) | ~Q(author_id__in=Subquery(hidden_authors().values("id")))
    )


async def picture_readable_by(picture: Picture, account: Account | None) -> bool:
    """The owner always; anyone else only when it is attached to feedback shown publicly."""
    if account is not None and account.id == picture.owner_id:
        return True
    if picture.feedback_id is None:
        return False
    return await Feedback.filter(shown_publicly(), id=picture.feedback_id).exists()


async def public_about(subject: str) -> QuerySet[Feedback]:
    """Items shown publicly about ``subject``, found by its blind index (the column is
    sealed)."""
    index = await blind_index(SUBJECT_INDEX, subject[:SUBJECT_MAX])
    return Feedback.filter(shown_publicly(), subject_index=index)
