"""Relay paging rules every connection follows."""

from __future__ import annotations

from api.pagination import clamp, decode_cursor, encode_cursor

ADD = """mutation($i: AddFavoriteInput!) { addFavorite(input: $i) { errors { code } } }"""
PAGE = """query($first: Int!, $after: String) { viewer { favorites(first: $first, after: $after) {
  edges { cursor node { itemId } } pageInfo { hasNextPage endCursor } } } }"""


def test_first_is_clamped_to_the_page_bounds():
    assert [clamp(n) for n in (-5, 0, 1, 100, 1000)] == [0, 0, 1, 100, 100]


def test_cursors_round_trip_and_forgeries_match_nothing():
    assert decode_cursor(encode_cursor(42)) == 42
    assert decode_cursor("not-a-cursor") == -1
    assert decode_cursor(None) is None


async def test_first_zero_only_says_whether_there_is_more(gql):
    token = (
        await gql(
            """mutation { register(input: {accountName: "pager", password: "correct horse battery staple",
            nickname: "P"}) { token } }"""
        )
    )["data"]["register"]["token"]
    empty = await gql(PAGE, {"first": 0}, token=token)
    assert empty["data"]["viewer"]["favorites"] == {
        "edges": [],
        "pageInfo": {"hasNextPage": False, "endCursor": None},
    }
    for item in ("a", "b", "c"):
        await gql(ADD, {"i": {"itemType": "t", "itemId": item}}, token=token)
    zero = (await gql(PAGE, {"first": 0}, token=token))["data"]["viewer"]["favorites"]
    assert zero["edges"] == [] and zero["pageInfo"]["hasNextPage"] is True
    first = (await gql(PAGE, {"first": 2}, token=token))["data"]["viewer"]["favorites"]
    assert [e["node"]["itemId"] for e in first["edges"]] == ["c", "b"]
    rest = await gql(PAGE, {"first": 2, "after": first["pageInfo"]["endCursor"]}, token=token)
    page = rest["data"]["viewer"]["favorites"]
    assert [e["node"]["itemId"] for e in page["edges"]] == ["a"]
    assert page["pageInfo"]["hasNextPage"] is False
