"""Text and JSON inputs are validated with typed errors: nothing a client can send (control
characters, lone surrogates, NUL, NaN, malformed URLs) reaches the database and fails there
as a server error, on SQLite or PostgreSQL."""

from __future__ import annotations

import json

import pytest

from models.accounts.account import Role
from models.personal.activity import ClickRecord, SearchRecord
from models.personal.devices import Device
from models.personal.error_reports import ErrorReport
from models.personal.favorites import Favorite
from models.personal.feedback import Feedback
from models.personal.questionnaires import Questionnaire, QuestionnaireAnswer
from models.personal.support import SupportThread
from tests.device_ids import device_id
from tests.personal_helpers import (
    ADD_FAVORITE,
    ANSWER_QUESTIONNAIRE,
    CONTACT_SUPPORT,
    DEFINE_QUESTIONNAIRE,
    RECORD_CLICK,
    RECORD_SEARCH,
    REGISTER_DEVICE,
    REPORT_ERROR,
    SUBMIT_FEEDBACK,
    codes,
    decide_activity_log,
    raw_gql,
    register,
)

SURROGATE = "\ud800"
NUL = "\x00"
DEL = "\x7f"
C1 = "\x85"

CASES = [
    (
        "addFavorite",
        ADD_FAVORITE,
        {"itemType": "t", "itemId": "i", "note": "a" + SURROGATE},
        "note",
        Favorite,
    ),
    ("addFavorite", ADD_FAVORITE, {"itemType": "t", "itemId": "i" + SURROGATE}, "itemId", Favorite),
    ("addFavorite", ADD_FAVORITE, {"itemType": "t" + DEL, "itemId": "i"}, "itemType", Favorite),
    (
        "submitFeedback",
        SUBMIT_FEEDBACK,
        {"kind": "FEEDBACK", "subject": "s", "body": "b" + SURROGATE},
        "body",
        Feedback,
    ),
    (
        "submitFeedback",
        SUBMIT_FEEDBACK,
        {"kind": "FEEDBACK", "subject": "s" + C1 + "t", "body": "b"},
        "subject",
        Feedback,
    ),
    (
        "submitFeedback",
        SUBMIT_FEEDBACK,
        {"kind": "FEEDBACK", "subject": "s", "body": "b" + NUL},
        "body",
        Feedback,
    ),
    (
        "contactSupport",
        CONTACT_SUPPORT,
        {"subject": "s", "message": "m" + SURROGATE},
        "message",
        SupportThread,
    ),
    (
        "contactSupport",
        CONTACT_SUPPORT,
        {"subject": "s" + SURROGATE, "message": "m"},
        "subject",
        SupportThread,
    ),
    (
        "contactSupport",
        CONTACT_SUPPORT,
        {"subject": "s", "message": "m", "orderRef": DEL},
        "orderRef",
        SupportThread,
    ),
    ("reportError", REPORT_ERROR, {"message": "m" + SURROGATE}, "message", ErrorReport),
    ("reportError", REPORT_ERROR, {"message": "a" + NUL + "b"}, "message", ErrorReport),
    ("reportError", REPORT_ERROR, {"message": "m", "stack": "at x" + NUL}, "stack", ErrorReport),
    (
        "reportError",
        REPORT_ERROR,
        {"message": "m", "appVersion": "1" + SURROGATE},
        "appVersion",
        ErrorReport,
    ),
    (
        "reportError",
        REPORT_ERROR,
        {"message": "m", "deviceConfig": {"k": NUL}},
        "deviceConfig",
        ErrorReport,
    ),
    (
        "reportError",
        REPORT_ERROR,
        {"message": "m", "deviceConfig": {"k" + NUL: 1}},
        "deviceConfig",
        ErrorReport,
    ),
    (
        "reportError",
        REPORT_ERROR,
        {"message": "m", "deviceConfig": {"k": [SURROGATE]}},
        "deviceConfig",
        ErrorReport,
    ),
    (
        "reportError",
        REPORT_ERROR,
        {"message": "m", "deviceConfig": {"k": float("nan")}},
        "deviceConfig",
        ErrorReport,
    ),
    (
        "reportError",
        REPORT_ERROR,
        {"message": "m", "deviceConfig": {"k": float("inf")}},
        "deviceConfig",
        ErrorReport,
    ),
    (
        "registerDevice",
        REGISTER_DEVICE,
        {"deviceId": device_id("device-0001-abc"), "model": SURROGATE},
        "model",
        Device,
    ),
    (
        "registerDevice",
        REGISTER_DEVICE,
        {"deviceId": device_id("device-0001-abc"), "platform": DEL},
        "platform",
        Device,
    ),
]


@pytest.mark.parametrize(("operation", "document", "given", "field", "model"), CASES)
async def test_unstorable_text_is_invalid(gql, client, operation, document, given, field, model):
    alice = await register(gql, "alice")
    body = await raw_gql(client, document, {"input": given}, token=alice.token)
    assert codes(body["data"][operation]) == [("INVALID", field)]
    assert await model.all().count() == 0


@pytest.mark.parametrize(
    ("operation", "document", "given", "field"),
    [
        ("recordSearch", RECORD_SEARCH, {"keywords": "k" + SURROGATE}, "keywords"),
        ("recordSearch", RECORD_SEARCH, {"keywords": "k" + NUL}, "keywords"),
        ("recordClick", RECORD_CLICK, {"link": "https://e.example/" + SURROGATE}, "link"),
        ("recordClick", RECORD_CLICK, {"link": "https://e.example/a\r\nSet-Cookie: x=1"}, "link"),
        ("recordClick", RECORD_CLICK, {"link": "http://[::1"}, "link"),
        ("recordClick", RECORD_CLICK, {"link": "https://[not-an-ip]/"}, "link"),
    ],
)
async def test_unstorable_activity_is_invalid(gql, client, operation, document, given, field):
    alice = await register(gql, "alice")
    await decide_activity_log(gql, True, token=alice.token)
    body = await raw_gql(client, document, {"input": given}, token=alice.token)
    assert codes(body["data"][operation]) == [("INVALID", field)]
    assert await SearchRecord.all().count() == 0
    assert await ClickRecord.all().count() == 0


async def test_an_ipv6_link_is_fine(gql, client):
    alice = await register(gql, "alice")
    await decide_activity_log(gql, True, token=alice.token)
    body = await raw_gql(
        client, RECORD_CLICK, {"input": {"link": "http://[2001:db8::1]/x"}}, token=alice.token
    )
    assert body["data"]["recordClick"] == {"recorded": True, "errors": []}


async def test_emoji_and_non_latin_text_are_fine(gql, client):
    alice = await register(gql, "alice")
    text = "Très bien 👩‍💻 — 很好 ✓"
    body = await raw_gql(
        client,
        SUBMIT_FEEDBACK,
        {"input": {"kind": "COMMENT", "subject": "产品-1", "body": text + "\n\tok"}},
        token=alice.token,
    )
    assert body["data"]["submitFeedback"]["errors"] == []
    assert (await Feedback.get()).body == text + "\n\tok"
    body = await raw_gql(
        client,
        REPORT_ERROR,
        {
            "input": {
                "message": text,
                "stack": "a\r\n\tb",
                "deviceConfig": {"名前": text, "n": 1.5, "k": None},
            }
        },
        token=alice.token,
    )
    assert body["data"]["reportError"]["errors"] == []
    assert (await ErrorReport.get()).device_config == {"名前": text, "n": 1.5, "k": None}


@pytest.fixture
async def operator(gql):
    return await register(gql, "operator", role=Role.OPERATOR)


@pytest.mark.parametrize(
    ("title", "questions"),
    [
        ("t" + NUL, [{"id": "q1", "text": "x"}]),
        ("t" + SURROGATE, [{"id": "q1", "text": "x"}]),
        ("t", [{"id": "q1", "text": "x" + NUL}]),
        ("t", [{"id": "q1" + SURROGATE, "text": "x"}]),
        ("t", [{"id": "q1", "text": "x", "choices": [NUL]}]),
        ("t", [{"id": "q1", "text": "x", "weight": float("nan")}]),
        ("t", [{"id": "q1"}]),
        ("t", [{"id": "q1", "text": ""}]),
        ("t", [{"id": "q1", "text": 5}]),
        ("t", [{"id": "q1", "text": "x" * 1001}]),
        ("t", [{"id": "q" * 65, "text": "x"}]),
    ],
)
async def test_questionnaire_definitions_are_validated(gql, client, operator, title, questions):
    body = await raw_gql(
        client,
        DEFINE_QUESTIONNAIRE,
        {"input": {"title": title, "questions": questions}},
        token=operator.token,
    )
    result = body["data"]["defineQuestionnaire"]
    assert [code for code, _ in codes(result)] == ["INVALID"]
    assert codes(result)[0][1] in ("title", "questions")
    assert codes(result)[0][1] == ("title" if title != "t" else "questions")
    assert await Questionnaire.all().count() == 0


@pytest.mark.parametrize(
    "answers",
    [{"q1": NUL}, {"q1": SURROGATE}, {"q1": float("nan")}, {"q1": [1, float("-inf")]}],
)
async def test_answers_that_cannot_be_stored_are_invalid(gql, client, operator, answers):
    alice = await register(gql, "alice")
    made = await raw_gql(
        client,
        DEFINE_QUESTIONNAIRE,
        {"input": {"title": "t", "questions": [{"id": "q1", "text": "x"}]}},
        token=operator.token,
    )
    questionnaire_id = made["data"]["defineQuestionnaire"]["questionnaire"]["id"]
    body = await raw_gql(
        client,
        ANSWER_QUESTIONNAIRE,
        {"input": {"questionnaireId": questionnaire_id, "answers": answers}},
        token=alice.token,
    )
    assert codes(body["data"]["answerQuestionnaire"]) == [("INVALID", "answers")]
    assert await QuestionnaireAnswer.all().count() == 0


def test_the_bodies_really_carry_the_characters():
    """The premise: stdlib JSON escapes them, so they arrive as sent."""
    encoded = json.dumps({"a": SURROGATE, "b": float("nan"), "c": NUL})
    assert "\\ud800" in encoded and "NaN" in encoded and "\\u0000" in encoded
    assert json.loads(encoded)["a"] == SURROGATE


@pytest.mark.parametrize("text", ["a" + NUL, "a" + SURROGATE])
async def test_unmatchable_filters_are_invalid(gql, client, text):
    """A filter meets the rule every string argument meets (api.arguments)."""
    from tests.personal_helpers import FAVORITES, PUBLIC_FEEDBACK, favorite

    alice = await register(gql, "alice")
    await favorite(gql, alice.token)
    for query, variables, token in [
        (FAVORITES, {"first": 5, "itemType": text}, alice.token),
        (PUBLIC_FEEDBACK, {"subject": text}, None),
    ]:
        headers = {"content-type": "application/json"}
        if token:
            headers["authorization"] = f"Bearer {token}"
        sent = json.dumps({"query": query, "variables": variables})
        body = (await client.post("/graphql", content=sent, headers=headers)).json()
        field = "itemType" if "itemType" in variables else "subject"
        assert [e["extensions"] for e in body["errors"]] == [{"code": "INVALID", "field": field}]


def _nested(depth: int) -> str:
    return '{"a":' * depth + "1" + "}" * depth


@pytest.mark.parametrize("depth", [33, 200, 500, 900])
async def test_deeply_nested_device_config_is_invalid(gql, client, depth):
    alice = await register(gql, "alice")
    body = (
        '{"query": ' + json.dumps(REPORT_ERROR) + ', "variables": {"input": {"message": "m", '
        '"deviceConfig": ' + _nested(depth) + "}}}"
    )
    response = await client.post(
        "/graphql",
        content=body,
        headers={"content-type": "application/json", "authorization": f"Bearer {alice.token}"},
    )
    assert response.status_code in (200, 400), response.text
    result = response.json()
    if response.status_code == 200 and result.get("data"):
        assert codes(result["data"]["reportError"]) == [("INVALID", "deviceConfig")]
    else:  # refused by the JSON parser itself: still the client's error, not ours
        assert all(
            e.get("extensions", {}).get("code") != "INTERNAL_SERVER_ERROR"
            for e in result.get("errors", [])
        )
    assert await ErrorReport.all().count() == 0


async def test_nesting_up_to_the_limit_is_fine(gql, client):
    alice = await register(gql, "alice")
    config: object = 1
    for _ in range(32):
        config = {"a": config}
    body = await raw_gql(
        client, REPORT_ERROR, {"input": {"message": "m", "deviceConfig": config}}, token=alice.token
    )
    assert body["data"]["reportError"]["errors"] == []


@pytest.mark.parametrize("depth", [17, 500])
async def test_deeply_nested_answers_are_invalid(gql, client, operator, depth):
    alice = await register(gql, "alice")
    made = await raw_gql(
        client,
        DEFINE_QUESTIONNAIRE,
        {"input": {"title": "t", "questions": [{"id": "q1", "text": "x"}]}},
        token=operator.token,
    )
    questionnaire_id = made["data"]["defineQuestionnaire"]["questionnaire"]["id"]
    answers: object = 1
    for _ in range(depth - 1):
        answers = {"a": answers}
    body = await raw_gql(
        client,
        ANSWER_QUESTIONNAIRE,
        {"input": {"questionnaireId": questionnaire_id, "answers": {"q1": answers}}},
        token=alice.token,
    )
    assert codes(body["data"]["answerQuestionnaire"]) == [("INVALID", "answers")]
