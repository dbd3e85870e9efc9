"""The same request twice at once (a double tap, a retry racing the original) gives a clean
answer and consistent rows, never a server error."""

from __future__ import annotations

import asyncio

from models.accounts.account import Role
from models.personal.devices import Device
from models.personal.favorites import Favorite
from models.personal.feedback import Feedback
from models.personal.pictures import Picture
from models.personal.questionnaires import QuestionnaireAnswer
from models.personal.support import SupportMessage, SupportThread
from tests.device_ids import device_id
from tests.ids import key, pk
from tests.personal_helpers import (
    ANSWER_QUESTIONNAIRE,
    DEFINE_QUESTIONNAIRE,
    REGISTER_DEVICE,
    STAFF_REPLY,
    add_favorite,
    codes,
    register,
    submit,
    thread,
    uploaded,
)

TIMES = 4


async def test_adding_the_same_favorite_at_once_keeps_one(gql):
    alice = await register(gql, "alice")
    results = await asyncio.gather(*(add_favorite(gql, alice.token) for _ in range(TIMES)))
    assert all(r["errors"] == [] for r in results), results
    assert len({r["favorite"]["id"] for r in results}) == 1
    assert await Favorite.all().count() == 1


async def test_attaching_one_picture_to_two_items_at_once_attaches_it_once(gql, client):
    alice = await register(gql, "alice")
    picture = await uploaded(client, alice.token)
    results = await asyncio.gather(
        *(
            submit(gql, alice.token, body=f"try {i}", pictureIds=[picture["id"]])
            for i in range(TIMES)
        )
    )
    accepted = [r for r in results if not r["errors"]]
    assert len(accepted) == 1, results
    for refused in (r for r in results if r["errors"]):
        assert codes(refused) == [("NOT_FOUND", "pictureIds")]
    assert await Feedback.all().count() == 1
    row = await Picture.get(id=key(picture["id"]))
    assert row.feedback_id == pk(accepted[0]["feedback"]["id"])
    assert [p["id"] for p in accepted[0]["feedback"]["pictures"]] == [picture["id"]]


async def test_two_staffers_replying_at_once_one_takes_the_thread(gql):
    alice = await register(gql, "alice")
    staff = [await register(gql, f"staffer{i}", role=Role.SUPPORT) for i in range(TIMES)]
    opened = await thread(gql, alice.token)
    bodies = await asyncio.gather(
        *(
            gql(
                STAFF_REPLY, {"input": {"threadId": opened["id"], "message": s.name}}, token=s.token
            )
            for s in staff
        )
    )
    results = [b["data"]["staffReply"] for b in bodies]
    winners = [r for r in results if not r["errors"]]
    assert len(winners) == 1, results
    for loser in (r for r in results if r["errors"]):
        assert [code for code, _ in codes(loser)] in (["CONFLICT"], ["FORBIDDEN"])
    row = await SupportThread.get(id=pk(opened["id"]))
    winner = next(s for s in staff if s.name == winners[0]["message"]["body"])
    assert row.assignee_id == pk(winner.id)
    assert await SupportMessage.filter(from_staff=True).count() == 1


async def test_answering_twice_at_once_keeps_one_answer(gql):
    operator = await register(gql, "operator", role=Role.OPERATOR)
    alice = await register(gql, "alice")
    made = await gql(
        DEFINE_QUESTIONNAIRE,
        {"input": {"title": "t", "questions": [{"id": "q1", "text": "?"}]}},
        token=operator.token,
    )
    questionnaire_id = made["data"]["defineQuestionnaire"]["questionnaire"]["id"]
    bodies = await asyncio.gather(
        *(
            gql(
                ANSWER_QUESTIONNAIRE,
                {"input": {"questionnaireId": questionnaire_id, "answers": {"q1": i}}},
                token=alice.token,
            )
            for i in range(TIMES)
        )
    )
    assert all(b["data"]["answerQuestionnaire"]["errors"] == [] for b in bodies), bodies
    rows = await QuestionnaireAnswer.all()
    assert len(rows) == 1 and rows[0].answers["q1"] in range(TIMES)


async def test_registering_a_device_twice_at_once_keeps_one_row(gql):
    alice = await register(gql, "alice")
    bodies = await asyncio.gather(
        *(
            gql(
                REGISTER_DEVICE,
                {"input": {"deviceId": device_id("device-race-0001"), "model": str(i)}},
                token=alice.token,
            )
            for i in range(TIMES)
        )
    )
    assert all(b["data"]["registerDevice"]["errors"] == [] for b in bodies), bodies
    rows = await Device.all()
    assert len(rows) == 1 and rows[0].account_id == pk(alice.id)
