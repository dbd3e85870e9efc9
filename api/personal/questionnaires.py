"""Questionnaires: staff define them, users answer them."""

from __future__ import annotations

import strawberry
from strawberry.scalars import JSON
from strawberry.types import Info

from api.pagination import parse_id
from api.payloads import payload
from api.personal.errors import PersonalDataError
from models.accounts.account import Role
from models.errors import DomainError
from models.personal import questionnaires
from models.personal.errors import PersonalDataErrorCode

AUTHORS = (Role.OPERATOR,)


@strawberry.type
class Questionnaire:
    id: strawberry.ID
    title: str
    questions: JSON = strawberry.field(description='A list of {"id", "text"}.')

    @classmethod
    def of(cls, row: questionnaires.Questionnaire) -> Questionnaire:
        return cls(id=strawberry.ID(str(row.id)), title=row.title, questions=JSON(row.questions))


@strawberry.input
class DefineQuestionnaireInput:
    title: str
    questions: JSON = strawberry.field(description='A list of {"id": String, "text": String}.')


@strawberry.input
class AnswerQuestionnaireInput:
    questionnaire_id: strawberry.ID
    answers: JSON = strawberry.field(description="An object keyed by question id.")


@strawberry.type
class DefineQuestionnairePayload:
    questionnaire: Questionnaire | None = None
    errors: list[PersonalDataError] = strawberry.field(default_factory=list)


@strawberry.type
class AnswerQuestionnairePayload:
    errors: list[PersonalDataError] = strawberry.field(default_factory=list)


@strawberry.type
class QuestionnaireQueries:
    @strawberry.field(description="Questionnaires open for answers.")
    async def questionnaires(self) -> list[Questionnaire]:
        rows = await questionnaires.Questionnaire.filter(active=True).order_by("-id").limit(100)
        return [Questionnaire.of(r) for r in rows]


@strawberry.type
class QuestionnaireMutations:
    @strawberry.mutation(description="OPERATOR: define a questionnaire.")
    @payload(PersonalDataError, roles=AUTHORS)
    async def define_questionnaire(
        self, info: Info, input: DefineQuestionnaireInput
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
        self, info: Info, input: AnswerQuestionnaireInput
    ) -> AnswerQuestionnairePayload:
        account = await info.context.require_viewer()
        questionnaire_id = parse_id(input.questionnaire_id)
        if questionnaire_id is None:
            raise DomainError(
                PersonalDataErrorCode.NOT_FOUND, "questionnaireId", "no such questionnaire"
            )
        await questionnaires.answer_questionnaire(account, questionnaire_id, input.answers)
        return AnswerQuestionnairePayload()
