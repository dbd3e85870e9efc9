"""Feedback through the API: kinds, ratings, visibility, deletion, the viewer's list and the
public list with the author's nickname and avatar."""

from __future__ import annotations

import pytest

from models.personal.feedback import Feedback
from models.personal.pictures import Picture
from tests.ids import key, pk
from tests.personal_helpers import (
    DELETE_FEEDBACK,
    MY_FEEDBACK,
    PUBLIC_FEEDBACK,
    codes,
    register,
    submit,
    submitted,
    uploaded,
)

KINDS = ["FEEDBACK", "COMMENT", "SUGGESTION", "COMPLAINT", "ERROR_REPORT"]
AVATAR = "https://cdn.example.com/alice.png"


async def mine(gql, token, first=20, after=None):
    body = await gql(MY_FEEDBACK, {"first": first, "after": after}, token=token)
    return body["data"]["viewer"]["feedback"]


async def public(gql, subject, first=20, after=None, token=None):
    body = await gql(
        PUBLIC_FEEDBACK, {"subject": subject, "first": first, "after": after}, token=token
    )
    return body["data"]["publicFeedback"]


@pytest.mark.parametrize("kind", KINDS)
async def test_submit_feedback_of_each_kind(gql, kind):
    alice = await register(gql, "alice")
    item = await submitted(gql, alice.token, kind=kind, subject=" order-7 ", body="Some\ntext.")
    assert item["kind"] == kind
    assert item["subject"] == "order-7"
    assert item["body"] == "Some\ntext."
    assert item["rating"] is None
    assert item["visibility"] == "PRIVATE"
    assert item["pictures"] == []
    row = await Feedback.get(id=pk(item["id"]))
    assert row.author_id == pk(alice.id) and row.kind == kind


@pytest.mark.parametrize("rating", [1, 3, 5])
async def test_a_rating_carries_1_to_5(gql, rating):
    alice = await register(gql, "alice")
    item = await submitted(gql, alice.token, kind="RATING", rating=rating, visibility="PUBLIC")
    assert item["kind"] == "RATING"
    assert item["rating"] == rating
    assert item["visibility"] == "PUBLIC"


@pytest.mark.parametrize("rating", [None, 0, 6, -1])
async def test_a_rating_outside_1_to_5_is_refused(gql, rating):
    alice = await register(gql, "alice")
    result = await submit(gql, alice.token, kind="RATING", rating=rating)
    assert codes(result) == [("INVALID", "rating")]
    assert result["feedback"] is None
    assert await Feedback.all().count() == 0


@pytest.mark.parametrize("kind", KINDS)
async def test_only_a_rating_has_a_rating(gql, kind):
    alice = await register(gql, "alice")
    result = await submit(gql, alice.token, kind=kind, rating=4)
    assert codes(result) == [("INVALID", "rating")]
    assert await Feedback.all().count() == 0


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"subject": ""}, "subject"),
        ({"subject": "   "}, "subject"),
        ({"subject": "s" * 201}, "subject"),
        ({"subject": "two\nlines"}, "subject"),
        ({"body": ""}, "body"),
        ({"body": "b" * 5001}, "body"),
        ({"body": "escape \u001b[31m"}, "body"),
    ],
)
async def test_submit_feedback_validates_text(gql, fields, field):
    alice = await register(gql, "alice")
    result = await submit(gql, alice.token, **fields)
    assert codes(result) == [("INVALID", field)]
    assert await Feedback.all().count() == 0


async def test_submit_feedback_needs_a_sign_in(gql):
    body = await gql(
        'mutation { submitFeedback(input: {kind: FEEDBACK, subject: "s", body: "b"}) '
        "{ feedback { id } errors { code field } } }"
    )
    assert codes(body["data"]["submitFeedback"]) == [("NOT_AUTHENTICATED", None)]
    assert await Feedback.all().count() == 0


async def test_at_most_nine_pictures(gql, client):
    alice = await register(gql, "alice")
    ids = [(await uploaded(client, alice.token))["id"] for _ in range(10)]
    result = await submit(gql, alice.token, pictureIds=ids)
    assert codes(result) == [("INVALID", "pictureIds")]
    assert await Feedback.all().count() == 0
    item = await submitted(gql, alice.token, pictureIds=ids[:9])
    assert sorted(p["id"] for p in item["pictures"]) == sorted(ids[:9])


async def test_unknown_or_malformed_picture_ids_are_not_found(gql, client):
    alice = await register(gql, "alice")
    for bad in ["not-a-uuid", "00000000-0000-0000-0000-000000000000"]:
        result = await submit(gql, alice.token, pictureIds=[bad])
        assert codes(result) == [("NOT_FOUND", "pictureIds")]
    assert await Feedback.all().count() == 0


async def test_a_picture_attaches_to_one_item_only(gql, client):
    alice = await register(gql, "alice")
    picture = await uploaded(client, alice.token)
    first = await submitted(gql, alice.token, pictureIds=[picture["id"]])
    assert [p["id"] for p in first["pictures"]] == [picture["id"]]
    second = await submit(gql, alice.token, pictureIds=[picture["id"]])
    assert codes(second) == [("NOT_FOUND", "pictureIds")]
    assert await Feedback.all().count() == 1
    row = await Picture.get(id=key(picture["id"]))
    assert row.feedback_id == pk(first["id"])


async def test_delete_feedback_deletes_it_and_its_pictures(gql, client, settings):
    alice = await register(gql, "alice")
    picture = await uploaded(client, alice.token)
    storage_key = (await Picture.get(id=key(picture["id"]))).storage_key
    path = settings.data_dir / "files" / storage_key
    assert path.exists()
    item = await submitted(gql, alice.token, pictureIds=[picture["id"]], visibility="PUBLIC")
    kept = await submitted(gql, alice.token, body="another")

    body = await gql(DELETE_FEEDBACK, {"id": item["id"]}, token=alice.token)
    assert body["data"]["deleteFeedback"]["errors"] == []
    assert not await Feedback.filter(id=pk(item["id"])).exists()
    assert await Feedback.filter(id=pk(kept["id"])).exists()
    assert not await Picture.filter(id=key(picture["id"])).exists()
    assert not path.exists()
    assert (await client.get(picture["url"])).status_code == 404

    again = await gql(DELETE_FEEDBACK, {"id": item["id"]}, token=alice.token)
    assert codes(again["data"]["deleteFeedback"]) == [("NOT_FOUND", "id")]


@pytest.mark.parametrize("bad_id", ["x", "²", "99999999999999999999"])
async def test_delete_feedback_with_a_malformed_id_is_not_found(gql, bad_id):
    alice = await register(gql, "alice")
    await submitted(gql, alice.token)
    body = await gql(DELETE_FEEDBACK, {"id": bad_id}, token=alice.token)
    assert codes(body["data"]["deleteFeedback"]) == [("NOT_FOUND", "id")]
    assert await Feedback.all().count() == 1


async def test_delete_feedback_needs_a_sign_in(gql):
    alice = await register(gql, "alice")
    item = await submitted(gql, alice.token)
    body = await gql(DELETE_FEEDBACK, {"id": item["id"]})
    assert codes(body["data"]["deleteFeedback"]) == [("NOT_AUTHENTICATED", None)]
    assert await Feedback.all().count() == 1


async def test_viewer_feedback_lists_public_and_private_newest_first_with_cursors(gql, client):
    alice = await register(gql, "alice")
    picture = await uploaded(client, alice.token)
    ids = [
        (await submitted(gql, alice.token, body="one", visibility="PUBLIC"))["id"],
        (await submitted(gql, alice.token, body="two"))["id"],
        (await submitted(gql, alice.token, body="three", pictureIds=[picture["id"]]))["id"],
    ]
    first = await mine(gql, alice.token, 2)
    assert [pk(e["node"]["id"]) for e in first["edges"]] == [pk(ids[2]), pk(ids[1])]
    assert first["pageInfo"]["hasNextPage"] is True
    assert first["edges"][0]["node"]["pictures"] == [
        {
            "id": picture["id"],
            "url": picture["url"],
            "width": picture["width"],
            "height": picture["height"],
        }
    ]
    assert first["edges"][1]["node"]["pictures"] == []
    rest = await mine(gql, alice.token, 2, first["pageInfo"]["endCursor"])
    assert [pk(e["node"]["id"]) for e in rest["edges"]] == [pk(ids[0])]
    assert rest["edges"][0]["node"]["visibility"] == "PUBLIC"
    assert rest["pageInfo"]["hasNextPage"] is False


async def test_viewer_feedback_first_is_capped_at_100(gql):
    alice = await register(gql, "alice")
    await Feedback.bulk_create(
        [
            Feedback(author_id=pk(alice.id), kind="FEEDBACK", subject="s", body=str(i))
            for i in range(101)
        ]
    )
    result = await mine(gql, alice.token, 500)
    assert len(result["edges"]) == 100
    assert result["pageInfo"]["hasNextPage"] is True


async def test_public_feedback_shows_only_public_items_of_the_subject(gql, client):
    alice = await register(gql, "alice", nickname="Alice A.", avatar_url=AVATAR)
    bob = await register(gql, "bob", nickname="Bob")
    picture = await uploaded(client, alice.token)
    shown = await submitted(
        gql,
        alice.token,
        subject="product-1",
        body="Great",
        kind="RATING",
        rating=5,
        visibility="PUBLIC",
        pictureIds=[picture["id"]],
    )
    await submitted(gql, alice.token, subject="product-1", body="private note")
    await submitted(gql, alice.token, subject="product-2", body="elsewhere", visibility="PUBLIC")
    by_bob = await submitted(
        gql, bob.token, subject="product-1", body="Meh", visibility="PUBLIC", kind="COMMENT"
    )

    result = await public(gql, "product-1")
    nodes = [e["node"] for e in result["edges"]]
    # The public view of an item is another object than its author's (another global id).
    assert [pk(n["id"]) for n in nodes] == [pk(by_bob["id"]), pk(shown["id"])]
    assert {n["visibility"] for n in nodes} == {"PUBLIC"}
    assert {n["subject"] for n in nodes} == {"product-1"}
    assert nodes[0]["author"] == {"nickname": "Bob", "avatarUrl": None}
    assert nodes[1]["author"] == {"nickname": "Alice A.", "avatarUrl": AVATAR}
    assert nodes[1]["rating"] == 5 and nodes[1]["body"] == "Great"
    assert [p["id"] for p in nodes[1]["pictures"]] == [picture["id"]]
    assert all("private note" != n["body"] for n in nodes)

    assert await public(gql, "product-1", token=alice.token) == result
    other = await public(gql, "product-2")
    assert [e["node"]["body"] for e in other["edges"]] == ["elsewhere"]
    assert (await public(gql, "product-3"))["edges"] == []


async def test_public_feedback_pages_with_cursors(gql):
    alice = await register(gql, "alice")
    ids = [
        (await submitted(gql, alice.token, body=str(i), visibility="PUBLIC"))["id"]
        for i in range(3)
    ]
    await submitted(gql, alice.token, body="hidden")
    first = await public(gql, "product-1", 2)
    assert [pk(e["node"]["id"]) for e in first["edges"]] == [pk(ids[2]), pk(ids[1])]
    assert first["pageInfo"]["hasNextPage"] is True
    rest = await public(gql, "product-1", 2, first["pageInfo"]["endCursor"])
    assert [pk(e["node"]["id"]) for e in rest["edges"]] == [pk(ids[0])]
    assert rest["pageInfo"]["hasNextPage"] is False


async def test_public_feedback_reveals_no_account_identifiers(gql):
    alice = await register(gql, "alice", nickname="Alice")
    await submitted(gql, alice.token, visibility="PUBLIC")
    body = await gql(
        '{ publicFeedback(subject: "product-1") { edges { node { author { accountName } } } } }',
        expect_errors=True,
    )
    assert "errors" in body


async def test_public_feedback_first_is_capped_at_100(gql):
    alice = await register(gql, "alice")
    await Feedback.bulk_create(
        [
            Feedback(
                author_id=pk(alice.id),
                kind="COMMENT",
                subject="s",
                body=str(i),
                visibility="PUBLIC",
            )
            for i in range(101)
        ]
    )
    result = await public(gql, "s", 1000)
    assert len(result["edges"]) == 100
    assert result["pageInfo"]["hasNextPage"] is True
