"""The query-count rule: the viewer's personal lists are batched, so the number of SQL
statements a request runs does not grow with the number of items."""

from __future__ import annotations

import uuid

from models.personal.favorites import Favorite
from models.personal.feedback import Feedback
from models.personal.pictures import Picture
from models.personal.support import SupportMessage, SupportThread
from tests.ids import pk
from tests.personal_helpers import counting_queries, register

VIEWER_LISTS = """
{ viewer {
    favorites(first: 50) { edges { node { id } } }
    feedback(first: 50) { edges { node { pictures { url } } } }
} }"""

THREADS = "{ viewer { supportThreads(first: 50) { edges { node { id messages { body } } } } } }"


async def fill(account_id: int, items: int) -> None:
    """``items`` favorites, and ``items`` feedback with two pictures each."""
    await Favorite.bulk_create(
        [
            Favorite(account_id=account_id, item_type="product", item_id=f"p{i}")
            for i in range(items)
        ]
    )
    for i in range(items):
        item = await Feedback.create(
            author_id=account_id, kind="FEEDBACK", subject="s", body=f"b{i}"
        )
        for _ in range(2):
            picture_id = uuid.uuid4()
            await Picture.create(
                id=picture_id,
                owner_id=account_id,
                feedback_id=item.id,
                storage_key=f"pictures/{picture_id.hex[:2]}/{picture_id.hex}",
                content_type="image/png",
                width=1,
                height=1,
                size=1,
            )


async def count(gql, query: str, token: str) -> tuple[int, dict]:
    with counting_queries() as queries:
        body = await gql(query, token=token)
    return len(queries), body["data"]["viewer"]


async def test_the_counter_sees_queries(gql):
    alice = await register(gql, "alice")
    with counting_queries() as queries:
        await Favorite.filter(account_id=pk(alice.id)).count()
    assert len(queries) == 1
    assert "favorite" in queries[0].lower()


async def test_viewer_lists_run_the_same_number_of_queries_for_2_and_30_items(gql):
    few = await register(gql, "few")
    many = await register(gql, "many")
    await fill(pk(few.id), 2)
    await fill(pk(many.id), 30)

    few_count, few_data = await count(gql, VIEWER_LISTS, few.token)
    many_count, many_data = await count(gql, VIEWER_LISTS, many.token)

    assert len(few_data["favorites"]["edges"]) == 2
    assert len(many_data["favorites"]["edges"]) == 30
    assert len(many_data["feedback"]["edges"]) == 30
    assert all(len(e["node"]["pictures"]) == 2 for e in many_data["feedback"]["edges"])
    # session + favorites page + feedback page + one batch of pictures (at most a touch more)
    assert 0 < few_count <= 6
    assert many_count == few_count


async def test_support_threads_run_the_same_number_of_queries_for_2_and_30(gql):
    few = await register(gql, "few")
    many = await register(gql, "many")
    for account, n in ((few, 2), (many, 30)):
        for i in range(n):
            row = await SupportThread.create(account_id=pk(account.id), subject=f"t{i}")
            await SupportMessage.create(thread=row, body="first")
            await SupportMessage.create(thread=row, body="second")

    few_count, _ = await count(gql, THREADS, few.token)
    many_count, data = await count(gql, THREADS, many.token)
    threads = [e["node"] for e in data["supportThreads"]["edges"]]
    assert len(threads) == 30
    assert all(len(t["messages"]) == 2 for t in threads)
    assert 0 < few_count == many_count
