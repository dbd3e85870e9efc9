"""Questionnaires: OPERATOR staff define them, anyone lists them, users answer (validated;
answering again replaces the earlier answers)."""

from __future__ import annotations

import json

import pytest

from models.accounts.account import Role
from models.personal.questionnaires import Questionnaire, QuestionnaireAnswer
from tests.ids import pk
from tests.personal_helpers import (
    ANSWER_QUESTIONNAIRE,
    DEFINE_QUESTIONNAIRE,
    QUESTIONNAIRES,
    codes,
    register,
)

QUESTIONS = [{"id": "q1", "text": "How did you hear of us?"}, {"id": "q2", "text": "Rate us"}]


async def define(gql, token, title="Survey", questions=QUESTIONS):
    body = await gql(
        DEFINE_QUESTIONNAIRE, {"input": {"title": title, "questions": questions}}, token=token
    )
    return body["data"]["defineQuestionnaire"]


async def defined(gql, token, **kw):
    result = await define(gql, token, **kw)
    assert result["errors"] == [], result
    return result["questionnaire"]


async def answer(gql, token, questionnaire_id, answers):
    body = await gql(
        ANSWER_QUESTIONNAIRE,
        {"input": {"questionnaireId": questionnaire_id, "answers": answers}},
        token=token,
    )
    return body["data"]["answerQuestionnaire"]


@pytest.mark.parametrize("role", [Role.OPERATOR, Role.ADMIN])
async def test_an_operator_defines_a_questionnaire_and_anyone_lists_it(gql, role):
    operator = await register(gql, "operator", role=role)
    made = await defined(gql, operator.token, title=" Onboarding ")
    assert made["title"] == "Onboarding"
    assert made["questions"] == QUESTIONS
    listed = (await gql(QUESTIONNAIRES))["data"]["questionnaires"]
    assert listed == [made]


async def test_questionnaires_lists_active_ones_newest_first(gql):
    operator = await register(gql, "operator", role=Role.OPERATOR)
    old = await defined(gql, operator.token, title="Old")
    retired = await defined(gql, operator.token, title="Retired")
    new = await defined(gql, operator.token, title="New")
    await Questionnaire.filter(id=pk(retired["id"])).update(active=False)
    listed = (await gql(QUESTIONNAIRES))["data"]["questionnaires"]
    assert [q["id"] for q in listed] == [new["id"], old["id"]]


@pytest.mark.parametrize("role", [None, Role.SUPPORT, Role.PRIVACY_OFFICER])
async def test_only_operators_define_questionnaires(gql, role):
    someone = await register(gql, "someone", role=role)
    result = await define(gql, someone.token)
    assert codes(result) == [("FORBIDDEN", None)]
    assert result["questionnaire"] is None
    assert await Questionnaire.all().count() == 0


async def test_defining_needs_a_sign_in(gql):
    assert codes(await define(gql, None)) == [("NOT_AUTHENTICATED", None)]


@pytest.mark.parametrize(
    ("title", "questions", "field"),
    [
        ("", QUESTIONS, "title"),
        ("t" * 201, QUESTIONS, "title"),
        ("Survey", [], "questions"),
        ("Survey", [{"id": f"q{i}", "text": "?"} for i in range(51)], "questions"),
        ("Survey", {"q1": "not a list"}, "questions"),
        ("Survey", ["just text"], "questions"),
        ("Survey", [{"text": "no id"}], "questions"),
        ("Survey", [{"id": "", "text": "empty id"}], "questions"),
        ("Survey", [{"id": 7, "text": "number id"}], "questions"),
        ("Survey", [{"id": "q1", "text": "a"}, {"id": "q1", "text": "b"}], "questions"),
    ],
)
async def test_define_questionnaire_validates(gql, title, questions, field):
    operator = await register(gql, "operator", role=Role.OPERATOR)
    result = await define(gql, operator.token, title=title, questions=questions)
    assert codes(result) == [("INVALID", field)]
    assert await Questionnaire.all().count() == 0


async def test_answer_and_answer_again_replaces(gql):
    operator = await register(gql, "operator", role=Role.OPERATOR)
    alice = await register(gql, "alice")
    survey = await defined(gql, operator.token)
    assert (await answer(gql, alice.token, survey["id"], {"q1": "a friend"}))["errors"] == []
    row = await QuestionnaireAnswer.get(account_id=pk(alice.id))
    assert row.answers == {"q1": "a friend"}
    first_at = row.answered_at

    again = await answer(gql, alice.token, survey["id"], {"q1": "an ad", "q2": 5})
    assert again["errors"] == []
    rows = await QuestionnaireAnswer.filter(account_id=pk(alice.id))
    assert len(rows) == 1
    assert rows[0].id == row.id
    assert rows[0].answers == {"q1": "an ad", "q2": 5}
    assert rows[0].answered_at >= first_at


async def test_answers_of_two_users_are_kept_apart(gql):
    operator = await register(gql, "operator", role=Role.OPERATOR)
    alice = await register(gql, "alice")
    bob = await register(gql, "bob")
    survey = await defined(gql, operator.token)
    await answer(gql, alice.token, survey["id"], {"q1": "alice"})
    await answer(gql, bob.token, survey["id"], {"q1": "bob"})
    assert (await QuestionnaireAnswer.get(account_id=pk(alice.id))).answers == {"q1": "alice"}
    assert (await QuestionnaireAnswer.get(account_id=pk(bob.id))).answers == {"q1": "bob"}


async def test_unknown_question_ids_are_invalid(gql):
    operator = await register(gql, "operator", role=Role.OPERATOR)
    alice = await register(gql, "alice")
    survey = await defined(gql, operator.token)
    result = await answer(gql, alice.token, survey["id"], {"q1": "ok", "q9": "unknown"})
    assert codes(result) == [("INVALID", "answers")]
    assert await QuestionnaireAnswer.all().count() == 0


@pytest.mark.parametrize("answers", [["q1", "a"], "q1", 3, {}, False])
async def test_answers_must_be_a_non_empty_object(gql, answers):
    operator = await register(gql, "operator", role=Role.OPERATOR)
    alice = await register(gql, "alice")
    survey = await defined(gql, operator.token)
    result = await answer(gql, alice.token, survey["id"], answers)
    assert codes(result) == [("INVALID", "answers")]
    assert await QuestionnaireAnswer.all().count() == 0


async def test_answers_over_16_kib_are_too_large(gql):
    operator = await register(gql, "operator", role=Role.OPERATOR)
    alice = await register(gql, "alice")
    survey = await defined(gql, operator.token)
    answers = {"q1": "x" * 16_400}
    assert len(json.dumps(answers).encode()) > 16_384
    result = await answer(gql, alice.token, survey["id"], answers)
    assert codes(result) == [("TOO_LARGE", "answers")]
    assert await QuestionnaireAnswer.all().count() == 0


@pytest.mark.parametrize("questionnaire_id", ["x", "²", "99999999999999999999", "123456"])
async def test_answering_an_unknown_questionnaire_is_not_found(gql, questionnaire_id):
    alice = await register(gql, "alice")
    result = await answer(gql, alice.token, questionnaire_id, {"q1": "a"})
    assert codes(result) == [("NOT_FOUND", "questionnaireId")]


async def test_an_inactive_questionnaire_takes_no_answers(gql):
    operator = await register(gql, "operator", role=Role.OPERATOR)
    alice = await register(gql, "alice")
    survey = await defined(gql, operator.token)
    await Questionnaire.filter(id=pk(survey["id"])).update(active=False)
    result = await answer(gql, alice.token, survey["id"], {"q1": "a"})
    assert codes(result) == [("NOT_FOUND", "questionnaireId")]


async def test_answering_needs_a_sign_in(gql):
    operator = await register(gql, "operator", role=Role.OPERATOR)
    survey = await defined(gql, operator.token)
    result = await answer(gql, None, survey["id"], {"q1": "a"})
    assert codes(result) == [("NOT_AUTHENTICATED", None)]
    assert await QuestionnaireAnswer.all().count() == 0
