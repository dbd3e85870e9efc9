"""Ownership: with accounts A and B, B never reads or changes A's favorites, feedback,
pictures, support threads or devices, whatever ids B sends."""

from __future__ import annotations

import pytest

from models.keys.device_refs import device_ref
from models.personal.activity import SearchRecord
from models.personal.devices import Device
from models.personal.favorites import Favorite
from models.personal.feedback import Feedback
from models.personal.pictures import Picture
from models.personal.support import SupportMessage, SupportThread
from tests.device_ids import device_id
from tests.ids import key, pk
from tests.personal_helpers import (
    CLEAR_DEVICE,
    DELETE_FEEDBACK,
    FAVORITES,
    MY_FEEDBACK,
    MY_THREADS,
    PUBLIC_FEEDBACK,
    RECORD_SEARCH,
    REGISTER_DEVICE,
    REMOVE_FAVORITE,
    REPLY_TO_SUPPORT,
    User,
    add_favorite,
    codes,
    decide_activity_log,
    favorite,
    file_path,
    register,
    submit,
    submitted,
    thread,
    uploaded,
)

DEVICE = device_id("device-of-alice-0001")


@pytest.fixture
async def alice(gql) -> User:
    return await register(gql, "alice")


@pytest.fixture
async def bob(gql) -> User:
    return await register(gql, "bob")


async def test_b_cannot_remove_as_favorite(gql, alice, bob):
    kept = await favorite(gql, alice.token)
    body = await gql(REMOVE_FAVORITE, {"id": kept["id"]}, token=bob.token)
    assert codes(body["data"]["removeFavorite"]) == [("NOT_FOUND", "id")]
    assert await Favorite.filter(id=pk(kept["id"])).exists()


async def test_b_does_not_see_as_favorites(gql, alice, bob):
    await favorite(gql, alice.token, itemId="a-1")
    await favorite(gql, alice.token, itemId="a-2", itemType="shop")
    body = await gql(FAVORITES, {"first": 100}, token=bob.token)
    assert body["data"]["viewer"]["favorites"]["edges"] == []
    body = await gql(FAVORITES, {"first": 100, "itemType": "shop"}, token=bob.token)
    assert body["data"]["viewer"]["favorites"]["edges"] == []


async def test_bs_cursor_from_as_list_reads_only_bs_favorites(gql, alice, bob):
    mine = await favorite(gql, bob.token, itemId="b-1")
    for i in range(3):
        await favorite(gql, alice.token, itemId=f"a-{i}")
    alices = await gql(FAVORITES, {"first": 1}, token=alice.token)
    cursor = alices["data"]["viewer"]["favorites"]["pageInfo"]["endCursor"]
    body = await gql(FAVORITES, {"first": 100, "after": cursor}, token=bob.token)
    ids = [e["node"]["id"] for e in body["data"]["viewer"]["favorites"]["edges"]]
    assert ids == [mine["id"]]  # B's own, older than the cursor; none of A's


async def test_b_adding_the_same_item_gets_bs_own_favorite(gql, alice, bob):
    kept = await favorite(gql, alice.token, note="alice's note")
    result = await add_favorite(gql, bob.token)
    assert result["favorite"]["id"] != kept["id"]
    assert result["favorite"]["note"] == ""
    assert (await Favorite.get(id=pk(kept["id"]))).account_id == pk(alice.id)


async def test_b_cannot_delete_as_feedback(gql, alice, bob):
    item = await submitted(gql, alice.token, visibility="PUBLIC")
    body = await gql(DELETE_FEEDBACK, {"id": item["id"]}, token=bob.token)
    assert codes(body["data"]["deleteFeedback"]) == [("NOT_FOUND", "id")]
    assert await Feedback.filter(id=pk(item["id"])).exists()


async def test_b_does_not_see_as_feedback(gql, alice, bob):
    await submitted(gql, alice.token, visibility="PRIVATE", body="secret")
    await submitted(gql, alice.token, visibility="PUBLIC", body="open")
    body = await gql(MY_FEEDBACK, {"first": 100}, token=bob.token)
    assert body["data"]["viewer"]["feedback"]["edges"] == []
    public = await gql(PUBLIC_FEEDBACK, {"subject": "product-1"}, token=bob.token)
    assert [e["node"]["body"] for e in public["data"]["publicFeedback"]["edges"]] == ["open"]


async def test_b_cannot_attach_as_picture(gql, client, alice, bob):
    picture = await uploaded(client, alice.token)
    result = await submit(gql, bob.token, pictureIds=[picture["id"]])
    assert codes(result) == [("NOT_FOUND", "pictureIds")]
    assert await Feedback.all().count() == 0
    assert (await Picture.get(id=key(picture["id"]))).feedback_id is None


async def test_b_cannot_attach_as_picture_alongside_his_own(gql, client, alice, bob):
    theirs = await uploaded(client, alice.token)
    his = await uploaded(client, bob.token)
    result = await submit(gql, bob.token, pictureIds=[his["id"], theirs["id"]])
    assert codes(result) == [("NOT_FOUND", "pictureIds")]
    assert await Feedback.all().count() == 0
    assert (await Picture.get(id=key(his["id"]))).feedback_id is None


async def test_b_cannot_read_as_unattached_or_private_picture(gql, client, alice, bob):
    loose = await uploaded(client, alice.token)
    attached = await uploaded(client, alice.token)
    await submitted(gql, alice.token, visibility="PRIVATE", pictureIds=[attached["id"]])
    for picture in (loose, attached):
        response = await client.get(
            file_path(picture), headers={"authorization": f"Bearer {bob.token}"}
        )
        assert response.status_code == 404


async def test_deleting_bs_feedback_leaves_as_pictures(gql, client, alice, bob):
    picture = await uploaded(client, alice.token)
    await submitted(gql, alice.token, pictureIds=[picture["id"]])
    item = await submitted(gql, bob.token)
    body = await gql(DELETE_FEEDBACK, {"id": item["id"]}, token=bob.token)
    assert body["data"]["deleteFeedback"]["errors"] == []
    assert await Picture.filter(id=key(picture["id"])).exists()


async def test_b_cannot_reply_to_as_thread(gql, alice, bob):
    opened = await thread(gql, alice.token)
    body = await gql(
        REPLY_TO_SUPPORT, {"input": {"threadId": opened["id"], "message": "hi"}}, token=bob.token
    )
    assert codes(body["data"]["replyToSupport"]) == [("NOT_FOUND", "threadId")]
    assert await SupportMessage.filter(thread_id=pk(opened["id"])).count() == 1


async def test_b_does_not_see_as_threads(gql, alice, bob):
    await thread(gql, alice.token)
    body = await gql(MY_THREADS, token=bob.token)
    assert body["data"]["viewer"]["supportThreads"]["edges"] == []


async def test_b_cannot_read_as_thread_as_staff_query(gql, alice, bob):
    opened = await thread(gql, alice.token)
    body = await gql(
        "query($id: ID!) { supportThread(id: $id) { id messages { body } } }",
        {"id": opened["id"]},
        token=bob.token,
        expect_errors=True,
    )
    assert [e["extensions"]["code"] for e in body["errors"]] == ["FORBIDDEN"]
    assert (body["data"] or {}).get("supportThread") is None
    assert await SupportThread.filter(assignee_id__not_isnull=True).count() == 0


async def test_b_cannot_use_or_clear_as_device(gql, alice, bob):
    body = await gql(REGISTER_DEVICE, {"input": {"deviceId": DEVICE}}, token=alice.token)
    assert body["data"]["registerDevice"]["errors"] == []
    await decide_activity_log(gql, True, token=alice.token)
    await decide_activity_log(gql, True, token=bob.token)
    body = await gql(
        RECORD_SEARCH, {"input": {"keywords": "k", "deviceId": DEVICE}}, token=alice.token
    )
    assert body["data"]["recordSearch"]["recorded"] is True

    body = await gql(
        RECORD_SEARCH, {"input": {"keywords": "x", "deviceId": DEVICE}}, token=bob.token
    )
    assert codes(body["data"]["recordSearch"]) == [("FORBIDDEN", "deviceId")]
    body = await gql(CLEAR_DEVICE, {"deviceId": DEVICE}, token=bob.token)
    assert codes(body["data"]["clearDeviceData"]) == [("FORBIDDEN", "deviceId")]
    assert await Device.filter(device_id=device_ref(DEVICE), account_id=pk(alice.id)).exists()
    assert [r.keywords for r in await SearchRecord.all()] == ["k"]
