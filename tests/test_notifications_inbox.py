"""The in-app inbox (issue 7): viewer.notifications(first, after, unreadOnly) and
markNotificationsRead(ids | all), filled by real campaigns."""

from __future__ import annotations

from models.accounts.account import Role
from models.notifications.inbox import Channel, Notification
from tests.ids import pk
from tests.notification_helpers import INBOX, MARK, person, report_incident, run_worker


async def _page(gql, token, first=20, after=None, unread=False) -> dict:
    body = await gql(INBOX, {"first": first, "after": after, "unread": unread}, token=token)
    return body["data"]["viewer"]["notifications"]


def _ids(page: dict) -> list[str]:
    return [e["node"]["id"] for e in page["edges"]]


async def _mark(gql, token, **given) -> dict:
    body = await gql(MARK, {"i": given}, token=token)
    return body["data"]["markNotificationsRead"]


async def _three_incidents(gql, settings, redis_url):
    officer = await person(gql, "officer.inbox", role=Role.PRIVACY_OFFICER)
    alice = await person(gql, "alice.inbox")
    bob = await person(gql, "bob.inbox")
    for n, channels in enumerate((["IN_APP"], ["IN_APP", "EMAIL"], ["IN_APP"]), start=1):
        result = await report_incident(
            gql,
            officer.token,
            title=f"Incident {n}",
            channels=channels,
            affectedAccountIds=[alice.id, bob.id],
        )
        assert result["errors"] == []
        # One at a time: a worker runs fan-outs concurrently, and "newest first" is the
        # order in which the rows were written.
        worker = await run_worker(settings, redis_url)
        assert worker.jobs_failed == 0
    return alice, bob


async def test_the_inbox_pages_newest_first_and_filters_unread(gql, settings, redis_url):
    alice, _ = await _three_incidents(gql, settings, redis_url)
    # The e-mail copy of the second incident is a row too, but not an inbox entry.
    assert (
        await Notification.filter(
            account_id=pk(alice.id), channel=Channel.EMAIL, campaign_id__isnull=False
        ).count()
        == 1
    )

    first = await _page(gql, alice.token, first=2)
    assert [e["node"]["title"] for e in first["edges"]] == [
        "Security incident: Incident 3",
        "Security incident: Incident 2",
    ]
    assert first["pageInfo"]["hasNextPage"] is True
    assert all(e["node"]["readAt"] is None for e in first["edges"])
    assert all(e["node"]["kind"] == "SECURITY_INCIDENT" for e in first["edges"])
    second = await _page(gql, alice.token, first=2, after=first["pageInfo"]["endCursor"])
    assert [e["node"]["title"] for e in second["edges"]] == ["Security incident: Incident 1"]
    assert second["pageInfo"]["hasNextPage"] is False
    everything = _ids(await _page(gql, alice.token))
    assert everything == _ids(first) + _ids(second)

    marked = await _mark(gql, alice.token, ids=[everything[1]])
    assert marked == {"marked": 1, "errors": []}
    unread = await _page(gql, alice.token, unread=True)
    assert _ids(unread) == [everything[0], everything[2]]
    read = {e["node"]["id"]: e["node"]["readAt"] for e in (await _page(gql, alice.token))["edges"]}
    assert read[everything[1]] is not None and read[everything[0]] is None
    # Marking it again changes nothing.
    assert (await _mark(gql, alice.token, ids=[everything[1]]))["marked"] == 0
    # The unread filter pages too.
    unread_first = await _page(gql, alice.token, first=1, unread=True)
    assert _ids(unread_first) == [everything[0]] and unread_first["pageInfo"]["hasNextPage"]
    unread_next = await _page(
        gql, alice.token, first=1, unread=True, after=unread_first["pageInfo"]["endCursor"]
    )
    assert _ids(unread_next) == [everything[2]]
    assert unread_next["pageInfo"]["hasNextPage"] is False

    assert await _mark(gql, alice.token, all=True) == {"marked": 2, "errors": []}
    assert _ids(await _page(gql, alice.token, unread=True)) == []
    assert (await _mark(gql, alice.token, all=True))["marked"] == 0


async def test_nobody_else_can_mark_my_notifications(gql, settings, redis_url):
    alice, bob = await _three_incidents(gql, settings, redis_url)
    mine = _ids(await _page(gql, alice.token))
    assert len(mine) == 3
    theirs = await _mark(gql, bob.token, ids=mine)
    assert theirs == {"marked": 0, "errors": []}
    assert _ids(await _page(gql, alice.token, unread=True)) == mine
    # "all" is all of the caller's own, never anyone else's.
    assert (await _mark(gql, bob.token, all=True))["marked"] == 3
    assert _ids(await _page(gql, alice.token, unread=True)) == mine
    assert _ids(await _page(gql, bob.token, unread=True)) == []


async def test_mark_read_needs_ids_or_all_and_a_session(gql, settings, redis_url):
    alice, _ = await _three_incidents(gql, settings, redis_url)
    assert (await _mark(gql, alice.token))["errors"] == [{"code": "REQUIRED", "field": "ids"}]
    assert (await _mark(gql, alice.token, ids=[]))["errors"] == [
        {"code": "REQUIRED", "field": "ids"}
    ]
    # Ids that name no row of mine mark nothing and are not a server error.
    strange = await _mark(gql, alice.token, ids=["abc", "²", "99999999999999999999999", "-1"])
    assert strange == {"marked": 0, "errors": []}
    signed_out = await _mark(gql, None, all=True)
    assert signed_out["marked"] == 0
    assert [e["code"] for e in signed_out["errors"]] == ["NOT_AUTHENTICATED"]
    assert len(_ids(await _page(gql, alice.token, unread=True))) == 3
    # Signed out, there is no viewer and so no inbox.
    body = await gql(INBOX, {"first": 5, "after": None, "unread": False})
    assert body["data"]["viewer"] is None
