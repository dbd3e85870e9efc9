"""A service shutdown (policy 1.2(3), promise 16): everyone is told, pointed to the data
export, and on the date what was held only for the part of the service that stops (a
consent purpose's kinds in the map of personal data) is deleted by a worker, resumably:
a job interrupted after a batch resumes from its cursor, nothing is deleted or counted
twice, everything in scope goes, and nothing out of scope is touched; operators see the
progress (``serviceShutdowns``)."""

from __future__ import annotations

from datetime import timedelta

from models import clock as domain_clock
from models.accounts.account import Role
from models.consent.ledger import ConsentEvent
from models.notifications.campaigns import Announcement
from models.personal.activity import ClickRecord, SearchRecord
from models.personal.favorites import Favorite
from models.rights import shutdowns
from tests.consent_helpers import register
from tests.data_request_helpers import inbox
from tests.notification_helpers import run_worker
from tests.personal_helpers import RECORD_CLICK, RECORD_SEARCH, decide_activity_log
from tests.test_data_request_clock import swept

SHUTDOWN = """
mutation($i: AnnounceServiceShutdownInput!) {
  announceServiceShutdown(input: $i) {
    campaign { id kind total }
    shutdown { id purposeCode status kinds { kind erased remaining } }
    errors { code field }
  }
}
"""

SHUTDOWNS = """
{ serviceShutdowns { id purposeCode shutdownAt status startedAt finishedAt
    kinds { kind erased remaining } campaign { id kind } } }
"""

FAVORITE = """
mutation($i: AddFavoriteInput!) { addFavorite(input: $i) { errors { code } } }
"""


async def activity(gql, token: str, searches: int, clicks: int) -> None:
    await decide_activity_log(gql, True, token=token)
    for n in range(searches):
        body = await gql(RECORD_SEARCH, {"input": {"keywords": f"shoes {n}"}}, token=token)
        assert body["data"]["recordSearch"]["recorded"] is True
    for n in range(clicks):
        body = await gql(
            RECORD_CLICK, {"input": {"link": f"https://shop.example/{n}"}}, token=token
        )
        assert body["data"]["recordClick"]["recorded"] is True


async def announce(gql, token: str, **given) -> dict:
    values = {
        "title": "Activity history is closing",
        "message": "We stop keeping your search and click history.",
        "shutdownAt": (domain_clock.now() + timedelta(hours=1)).isoformat(),
        "scope": {"purposeCode": "activity_log"},
        "channels": ["IN_APP"],
        **given,
    }
    return (await gql(SHUTDOWN, {"i": values}, token=token))["data"]["announceServiceShutdown"]


async def progress(gql, token: str) -> dict:
    [view] = (await gql(SHUTDOWNS, token=token))["data"]["serviceShutdowns"]
    return view


async def test_a_shutdown_deletes_its_scope_resumably_and_nothing_else(
    gql, settings, redis_url, clock, monkeypatch
):
    officer = await register(gql, "olga.shutdown", role=Role.PRIVACY_OFFICER)
    operator = await register(gql, "otto.shutdown", role=Role.OPERATOR)
    alice = await register(gql, "alice.shutdown")
    bob = await register(gql, "bob.shutdown")
    await activity(gql, alice.token, searches=3, clicks=2)
    await activity(gql, bob.token, searches=2, clicks=1)
    for who in (alice, bob):
        answer = await gql(FAVORITE, {"i": {"itemType": "product", "itemId": "x"}}, token=who.token)
        assert answer["data"]["addFavorite"]["errors"] == []
    consent_events = await ConsentEvent.all().count()
    assert (await SearchRecord.all().count(), await ClickRecord.all().count()) == (5, 3)

    # Scopes that are not one, and a date already past: typed errors, nothing written.
    for given, expected in (
        ({"scope": {"purposeCode": "necessary"}}, ("INVALID", "scope.purposeCode")),
        ({"scope": {"purposeCode": "no_such_purpose"}}, ("NOT_FOUND", "scope.purposeCode")),
        (
            {"shutdownAt": (domain_clock.now() - timedelta(hours=1)).isoformat()},
            ("INVALID", "shutdownAt"),
        ),
    ):
        refused = await announce(gql, officer.token, **given)
        assert [(e["code"], e["field"]) for e in refused["errors"]] == [expected], given
    assert [e["code"] for e in (await announce(gql, operator.token))["errors"]] == ["FORBIDDEN"]
    assert await shutdowns.ServiceShutdown.all().count() == 0

    result = await announce(gql, officer.token)
    assert result["errors"] == []
    assert result["campaign"]["kind"] == "SERVICE_SHUTDOWN"
    assert result["shutdown"] == {
        "id": result["shutdown"]["id"],
        "purposeCode": "activity_log",
        "status": "SCHEDULED",
        "kinds": [
            {"kind": "SearchRecord", "erased": 0, "remaining": 5},
            {"kind": "ClickRecord", "erased": 0, "remaining": 3},
        ],
    }
    # The notice names what goes and points to the export that exists.
    banner = await Announcement.get(kind="SERVICE_SHUTDOWN")
    assert "SearchRecord, ClickRecord" in banner.body and "exportMyData" in banner.body
    await run_worker(settings, redis_url)  # the notice's fan-out
    [note] = await inbox(gql, alice.token)
    assert note["kind"] == "SERVICE_SHUTDOWN"
    assert "exportMyData" in note["body"] and "fileDataRequest" in note["body"]
    assert "SearchRecord, ClickRecord" in note["body"]

    # Before its date nothing is erased, however often the sweeper runs.
    await run_worker(settings, redis_url, sweep_first=True, shutdown_batch_size=2)
    assert (await progress(gql, operator.token))["status"] == "SCHEDULED"
    assert await SearchRecord.all().count() == 5

    # Its date has come. The job dies after its first batch (a killed worker: the batch
    # it committed stays, the next never began).
    now = domain_clock.now()
    clock.use(lambda: now + timedelta(hours=2))
    real_batch = shutdowns.erase_batch
    batches = 0

    async def dies_after_one(shutdown_id: int, batch_size: int) -> int | None:
        nonlocal batches
        batches += 1
        if batches > 1:
            raise RuntimeError("the worker was killed")
        return await real_batch(shutdown_id, batch_size)

    monkeypatch.setattr(shutdowns, "erase_batch", dies_after_one)
    killed = await run_worker(settings, redis_url, sweep_first=True, shutdown_batch_size=2)
    assert killed.jobs_failed == 1
    midway = await progress(gql, operator.token)
    assert midway["status"] == "ERASING" and midway["startedAt"] is not None
    assert midway["finishedAt"] is None
    assert midway["kinds"] == [
        {"kind": "SearchRecord", "erased": 2, "remaining": 3},
        {"kind": "ClickRecord", "erased": 0, "remaining": 3},
    ]
    assert midway["campaign"]["kind"] == "SERVICE_SHUTDOWN"

    # The sweeper queues it again; it resumes from its cursor and finishes.
    monkeypatch.setattr(shutdowns, "erase_batch", real_batch)
    resumed = await run_worker(settings, redis_url, sweep_first=True, shutdown_batch_size=2)
    assert resumed.jobs_failed == 0
    done = await progress(gql, officer.token)
    assert done["status"] == "DONE" and done["finishedAt"] is not None
    assert done["kinds"] == [
        {"kind": "SearchRecord", "erased": 5, "remaining": 0},
        {"kind": "ClickRecord", "erased": 3, "remaining": 0},
    ]
    # Out of scope: untouched.
    assert await Favorite.all().count() == 2
    assert await ConsentEvent.all().count() == consent_events

    # Running it all again erases and counts nothing more.
    await swept(settings, redis_url, 2)
    assert await shutdowns.erase_scope(int(await _only_id()), 2) == 0
    assert (await progress(gql, operator.token))["kinds"] == done["kinds"]

    # Only operators and the privacy office see shutdowns.
    refused = await gql(SHUTDOWNS, token=alice.token, expect_errors=True)
    assert refused["errors"][0]["extensions"]["code"] == "FORBIDDEN"


async def _only_id() -> int:
    [row] = await shutdowns.ServiceShutdown.all()
    return row.id


async def test_a_shutdown_without_a_scope_is_the_notice_alone(gql, settings, redis_url):
    officer = await register(gql, "pia.shutdown", role=Role.PRIVACY_OFFICER)
    result = await announce(gql, officer.token, scope=None)
    assert result["errors"] == [] and result["shutdown"] is None
    assert await shutdowns.ServiceShutdown.all().count() == 0
    banner = await Announcement.get(kind="SERVICE_SHUTDOWN")
    assert "exportMyData" in banner.body and "we delete" not in banner.body
