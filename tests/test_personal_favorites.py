"""Favorites through the API: add (idempotent), remove, page with cursors, filter, validate."""

from __future__ import annotations

import base64

import pytest

from models.personal.favorites import Favorite
from tests.ids import pk
from tests.personal_helpers import (
    FAVORITES,
    REMOVE_FAVORITE,
    add_favorite,
    codes,
    favorite,
    register,
)


async def page(gql, token, first, after=None, item_type=None):
    body = await gql(
        FAVORITES, {"first": first, "after": after, "itemType": item_type}, token=token
    )
    return body["data"]["viewer"]["favorites"]


async def test_add_favorite_returns_it_and_adding_twice_returns_the_same_one(gql):
    alice = await register(gql, "alice")
    first = await favorite(gql, alice.token, itemType="product", itemId="p-1", note=" mine ")
    assert first["itemType"] == "product"
    assert first["itemId"] == "p-1"
    assert first["note"] == "mine"
    again = await favorite(gql, alice.token, itemType="product", itemId="p-1")
    assert again["id"] == first["id"]
    assert await Favorite.filter(account_id=pk(alice.id)).count() == 1
    other = await favorite(gql, alice.token, itemType="shop", itemId="p-1")
    assert other["id"] != first["id"]


async def test_two_accounts_may_keep_the_same_item(gql):
    alice = await register(gql, "alice")
    bob = await register(gql, "bob")
    mine = await favorite(gql, alice.token)
    theirs = await favorite(gql, bob.token)
    assert mine["id"] != theirs["id"]


async def test_add_favorite_needs_a_sign_in(gql):
    result = await add_favorite(gql, None)
    assert codes(result) == [("NOT_AUTHENTICATED", None)]
    assert result["favorite"] is None
    assert await Favorite.all().count() == 0


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"itemType": ""}, "itemType"),
        ({"itemType": "has space"}, "itemType"),
        ({"itemType": "x" * 65}, "itemType"),
        ({"itemId": "   "}, "itemId"),
        ({"itemId": "x" * 129}, "itemId"),
        ({"itemId": "a\u0000b"}, "itemId"),
        ({"note": "n" * 501}, "note"),
        ({"note": "bell\u0007"}, "note"),
    ],
)
async def test_add_favorite_validates_its_input(gql, fields, field):
    alice = await register(gql, "alice")
    result = await add_favorite(gql, alice.token, **fields)
    assert codes(result) == [("INVALID", field)]
    assert result["favorite"] is None
    assert await Favorite.all().count() == 0


async def test_remove_favorite(gql):
    alice = await register(gql, "alice")
    kept = await favorite(gql, alice.token)
    body = await gql(REMOVE_FAVORITE, {"id": kept["id"]}, token=alice.token)
    assert body["data"]["removeFavorite"]["errors"] == []
    assert await Favorite.all().count() == 0
    again = await gql(REMOVE_FAVORITE, {"id": kept["id"]}, token=alice.token)
    assert codes(again["data"]["removeFavorite"]) == [("NOT_FOUND", "id")]


@pytest.mark.parametrize("bad_id", ["nope", "-1", "1.5", "²", "99999999999999999999", ""])
async def test_remove_favorite_with_a_malformed_id_is_not_found(gql, bad_id):
    alice = await register(gql, "alice")
    await favorite(gql, alice.token)
    body = await gql(REMOVE_FAVORITE, {"id": bad_id}, token=alice.token)
    assert codes(body["data"]["removeFavorite"]) == [("NOT_FOUND", "id")]
    assert await Favorite.all().count() == 1


async def test_remove_favorite_needs_a_sign_in(gql):
    alice = await register(gql, "alice")
    kept = await favorite(gql, alice.token)
    body = await gql(REMOVE_FAVORITE, {"id": kept["id"]})
    assert codes(body["data"]["removeFavorite"]) == [("NOT_AUTHENTICATED", None)]
    assert await Favorite.all().count() == 1


async def test_favorites_page_newest_first_with_cursors(gql):
    alice = await register(gql, "alice")
    ids = [(await favorite(gql, alice.token, itemId=f"p-{i}"))["id"] for i in range(5)]
    newest_first = list(reversed(ids))

    first = await page(gql, alice.token, 2)
    assert [e["node"]["id"] for e in first["edges"]] == newest_first[:2]
    assert first["pageInfo"]["hasNextPage"] is True
    assert first["pageInfo"]["endCursor"] == first["edges"][-1]["cursor"]

    second = await page(gql, alice.token, 2, first["pageInfo"]["endCursor"])
    assert [e["node"]["id"] for e in second["edges"]] == newest_first[2:4]
    assert second["pageInfo"]["hasNextPage"] is True

    third = await page(gql, alice.token, 2, second["pageInfo"]["endCursor"])
    assert [e["node"]["id"] for e in third["edges"]] == newest_first[4:]
    assert third["pageInfo"]["hasNextPage"] is False

    # A cursor taken from the middle of a page resumes right after that edge.
    middle = await page(gql, alice.token, 10, first["edges"][0]["cursor"])
    assert [e["node"]["id"] for e in middle["edges"]] == newest_first[1:]


async def test_favorites_filtered_by_item_type(gql):
    alice = await register(gql, "alice")
    products = [
        (await favorite(gql, alice.token, itemType="product", itemId=f"p{i}"))["id"]
        for i in range(3)
    ]
    await favorite(gql, alice.token, itemType="shop", itemId="s1")
    only = await page(gql, alice.token, 2, item_type="product")
    assert [e["node"]["id"] for e in only["edges"]] == products[::-1][:2]
    assert {e["node"]["itemType"] for e in only["edges"]} == {"product"}
    rest = await page(gql, alice.token, 2, only["pageInfo"]["endCursor"], item_type="product")
    assert [e["node"]["id"] for e in rest["edges"]] == [products[0]]
    assert rest["pageInfo"]["hasNextPage"] is False
    everything = await page(gql, alice.token, 10)
    assert len(everything["edges"]) == 4
    none = await page(gql, alice.token, 10, item_type="video")
    assert none["edges"] == [] and none["pageInfo"] == {"hasNextPage": False, "endCursor": None}


async def test_favorites_first_is_capped_at_100(gql):
    alice = await register(gql, "alice")
    await Favorite.bulk_create(
        [
            Favorite(account_id=pk(alice.id), item_type="product", item_id=f"p{i}")
            for i in range(105)
        ]
    )
    capped = await page(gql, alice.token, 1000)
    assert len(capped["edges"]) == 100
    assert capped["pageInfo"]["hasNextPage"] is True
    rest = await page(gql, alice.token, 1000, capped["pageInfo"]["endCursor"])
    assert len(rest["edges"]) == 5
    assert rest["pageInfo"]["hasNextPage"] is False


@pytest.mark.parametrize(
    "cursor",
    [
        "not a cursor",
        base64.urlsafe_b64encode(b"id:99999999999999999999").decode(),
        base64.urlsafe_b64encode("id:²".encode()).decode(),
        base64.urlsafe_b64encode(b"seq:5").decode(),
    ],
)
async def test_a_forged_cursor_reads_an_empty_page(gql, cursor):
    alice = await register(gql, "alice")
    await favorite(gql, alice.token)
    result = await page(gql, alice.token, 10, cursor)
    assert result["edges"] == []
    assert result["pageInfo"]["hasNextPage"] is False


async def test_signed_out_viewer_has_no_favorites(gql):
    body = await gql(FAVORITES, {"first": 10})
    assert body["data"]["viewer"] is None
