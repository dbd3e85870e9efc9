"""Questionnaires staff define, and the answers users give (personal data, like the rest)."""

from __future__ import annotations

import json
import unicodedata
from typing import Any

from tortoise import fields
from tortoise.models import Model

from models.accounts.account import Account
from models.errors import DomainError
from models.keys.data_keys import account_subject
from models.keys.sealed_fields import SealedJSONField, SealedManager, SealedModel
from models.personal.errors import PersonalDataErrorCode
from models.stored_json import storable_json

ANSWERS_MAX_BYTES = 16_384
QUESTIONS_MAX = 50
QUESTION_ID_MAX = 64
QUESTION_TEXT_MAX = 1000


class Questionnaire(Model):
    id = fields.BigIntField(primary_key=True)
    title = fields.CharField(max_length=200)
    #: A list of {"id": str, "text": str}.
    questions: fields.JSONField[list[dict[str, Any]]] = fields.JSONField()
    active = fields.BooleanField(default=True)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "questionnaire"


class QuestionnaireAnswer(SealedModel):
    id = fields.BigIntField(primary_key=True)
    questionnaire: fields.ForeignKeyRelation[Questionnaire] = fields.ForeignKeyField(
        "models.Questionnaire", related_name="answers", on_delete=fields.CASCADE
    )
    questionnaire_id: int  # set by the ORM
    account: fields.ForeignKeyRelation[Account] = fields.ForeignKeyField(
        "models.Account",
        related_name="questionnaire_answers",
        on_delete=fields.CASCADE,
        db_index=True,
    )
    account_id: int  # set by the ORM
    answers = SealedJSONField()
    answered_at = fields.DatetimeField(auto_now=True)

    class Meta:
        manager = SealedManager()
        table = "questionnaire_answer"
        unique_together = (("questionnaire", "account"),)

    def sealed_subject(self) -> str | None:
        return account_subject(self.account_id)


def _printable(value: object, limit: int) -> bool:
    """A string of 1-``limit`` characters without control characters or lone surrogates."""
    return (
        isinstance(value, str)
        and 1 <= len(value) <= limit
        and not any(unicodedata.category(c) in ("Cc", "Cs") for c in value)
    )


#: How deeply answers or a question may nest.
JSON_DEPTH_MAX = 16


async def define_questionnaire(title: str, questions: list[dict[str, Any]]) -> Questionnaire:
    title = title.strip()
    if not _printable(title, 200):
        raise DomainError(
            PersonalDataErrorCode.INVALID, "title", "must be 1-200 printable characters"
        )
    if not 1 <= len(questions) <= QUESTIONS_MAX:
        raise DomainError(
            PersonalDataErrorCode.INVALID, "questions", f"give 1-{QUESTIONS_MAX} questions"
        )
    ids = [q.get("id") for q in questions]
    if any(not _printable(i, QUESTION_ID_MAX) for i in ids) or len(set(ids)) != len(ids):
        raise DomainError(
            PersonalDataErrorCode.INVALID, "questions", "each question needs a unique id"
        )
    if any(not _printable(q.get("text"), QUESTION_TEXT_MAX) for q in questions):
        raise DomainError(
            PersonalDataErrorCode.INVALID,
            "questions",
            f"each question needs a text of 1-{QUESTION_TEXT_MAX}",
        )
    if not storable_json(questions, JSON_DEPTH_MAX):
        raise DomainError(
            PersonalDataErrorCode.INVALID,
            "questions",
            f"must nest at most {JSON_DEPTH_MAX} levels, without NUL or non-finite numbers",
        )
    return await Questionnaire.create(title=title, questions=questions)


async def answer_questionnaire(
    account: Account, questionnaire_id: int, answers: object
) -> QuestionnaireAnswer:
    questionnaire = await Questionnaire.get_or_none(id=questionnaire_id, active=True)
    if questionnaire is None:
        raise DomainError(
            PersonalDataErrorCode.NOT_FOUND, "questionnaireId", "no such questionnaire"
        )
    if not isinstance(answers, dict) or not answers:
        raise DomainError(
            PersonalDataErrorCode.INVALID, "answers", "answers are an object keyed by question id"
        )
    if not storable_json(answers, JSON_DEPTH_MAX):
        raise DomainError(
            PersonalDataErrorCode.INVALID,
            "answers",
            f"must nest at most {JSON_DEPTH_MAX} levels, without NUL or non-finite numbers",
        )
    if len(json.dumps(answers).encode()) > ANSWERS_MAX_BYTES:
        raise DomainError(
            PersonalDataErrorCode.TOO_LARGE, "answers", f"at most {ANSWERS_MAX_BYTES} bytes"
        )
    known = {q["id"] for q in questionnaire.questions}
    unknown = set(answers) - known
    if unknown:
        raise DomainError(
            PersonalDataErrorCode.INVALID, "answers", f"unknown questions: {sorted(unknown)}"
        )
    row, created = await QuestionnaireAnswer.get_or_create(
        questionnaire=questionnaire, account=account, defaults={"answers": answers}
    )
    if not created:
        row.answers = answers
        await row.save(update_fields=["answers", "answered_at"])
    return row
