"""The clock of data requests (issue 16), which nobody may miss: the sweeper marks requests
AT_RISK and OVERDUE and tells the privacy officers once per request and transition, however
often (and however concurrently) it runs; /metrics counts them; an officer extends a request
once, with a reason, and the user is told at once; the officers' list, soonest due first.

Due dates are moved in the rows rather than time itself, which would end every session."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from prometheus_client.parser import text_string_to_metric_families

from models import clock as domain_clock
from models.accounts.account import Role
from models.queue import Queue
from models.rights import deadlines
from models.rights.audit import StaffAction, StaffAuditEntry
from models.rights.requests import DataRequest, DataRequestKind, DataRequestStatus, Urgency
from tests.conftest import GraphQL
from tests.consent_helpers import register
from tests.contact_helpers import deliver, mail_to
from tests.data_request_helpers import (
    EXTEND,
    LIST,
    MINE,
    errors,
    file,
    inbox,
    iso,
    verified_request,
)
from tests.ids import gid, pk
from tests.notification_helpers import body_of, person
from workers.sweeper import sweep

DAY = timedelta(days=1)


async def swept(settings, redis_url, times: int = 1, *, together: bool = False) -> None:
    """The sweeper's cron job, ``times`` times, one after another or all at once."""
    queue = await Queue.connect(redis_url, settings.queue_name)
    try:
        runs = [sweep({"settings": settings, "queue": queue}) for _ in range(times)]
        if together:
            await asyncio.gather(*runs)
        else:
            for run in runs:
                await run
    finally:
        await queue.close()


def kinds(notes: list[dict]) -> list[str]:
    return [note["kind"] for note in notes]


async def staff(gql):
    officer = await register(gql, "olga.officer", role=Role.PRIVACY_OFFICER)
    admin = await register(gql, "adam.admin", role=Role.ADMIN)
    support = await register(gql, "sam.support", role=Role.SUPPORT)
    return officer, admin, support


async def test_at_risk_then_overdue_and_the_officers_told_once_each(gql, settings, redis_url):
    officer, admin, support = await staff(gql)
    user = await register(gql, "una.waits")
    now = domain_clock.now()
    request = await verified_request(pk(user.id), settings, due_at=now + 10 * DAY)
    unverified = await file(gql, accountName="una.waits", email="una@mail.example")
    assert unverified["errors"] == []
    answered = await verified_request(pk(user.id), settings, DataRequestKind.ERASURE)
    await DataRequest.filter(id=answered.id).update(
        status=DataRequestStatus.COMPLETED, due_at=now - DAY
    )

    await swept(settings, redis_url, 2)
    assert (await DataRequest.get(id=request.id)).urgency == Urgency.ON_TIME
    assert await inbox(gql, officer.token) == []

    # Due within three days: AT_RISK, and every officer (an ADMIN holds the role) told once,
    # however many sweeps run, one after another or at once.
    await DataRequest.filter(id=request.id).update(due_at=now + 2 * DAY)
    await swept(settings, redis_url, 2)
    await swept(settings, redis_url, 3, together=True)
    assert (await DataRequest.get(id=request.id)).urgency == Urgency.AT_RISK
    for who in (officer, admin):
        [note] = await inbox(gql, who.token)
        assert note["kind"] == "DATA_REQUEST_AT_RISK"
        assert f"Data request {request.id} " in note["title"] and "ACCESS" in note["body"]
    assert await inbox(gql, support.token) == []
    assert await inbox(gql, user.token) == []

    # Past due: OVERDUE, told once more.
    await DataRequest.filter(id=request.id).update(due_at=now - timedelta(minutes=1))
    await swept(settings, redis_url, 3, together=True)
    await swept(settings, redis_url)
    for who in (officer, admin):
        assert kinds(await inbox(gql, who.token)) == [
            "DATA_REQUEST_OVERDUE",
            "DATA_REQUEST_AT_RISK",
        ]
    listed = (await gql(LIST, {"urgency": "OVERDUE"}, token=officer.token))["data"]
    assert [e["node"]["id"] for e in listed["dataRequests"]["edges"]] == [
        gid("DataRequest", request.id)
    ]
    # Neither the answered request nor the one whose clock has not started moved.
    assert (await DataRequest.get(id=answered.id)).urgency == Urgency.ON_TIME
    assert (await DataRequest.get(account_id=None)).urgency == Urgency.ON_TIME


async def test_straight_to_overdue_is_one_notice(gql, settings, redis_url):
    officer = await register(gql, "otto.officer", role=Role.PRIVACY_OFFICER)
    user = await register(gql, "vic.late")
    request = await verified_request(
        pk(user.id), settings, DataRequestKind.CORRECTION, due_at=domain_clock.now() - DAY
    )
    await swept(settings, redis_url, 2, together=True)
    [note] = await inbox(gql, officer.token)
    assert note["kind"] == "DATA_REQUEST_OVERDUE" and str(request.id) in note["title"]


async def test_metrics_show_open_at_risk_and_overdue_by_kind(gql, client, settings):
    user = await register(gql, "mia.metrics")
    now = domain_clock.now()
    await verified_request(pk(user.id), settings, due_at=now + 10 * DAY)
    await verified_request(pk(user.id), settings, due_at=now + 9 * DAY)
    await verified_request(pk(user.id), settings, DataRequestKind.ERASURE, due_at=now + DAY)
    await verified_request(pk(user.id), settings, DataRequestKind.CORRECTION, due_at=now - DAY)
    await file(gql, accountName="mia.metrics", email="mia@mail.example")  # no clock yet

    response = await client.get("/metrics")
    assert response.status_code == 200
    samples = {
        (sample.name, sample.labels["kind"]): sample.value
        for family in text_string_to_metric_families(response.text)
        if family.name.startswith("accord_data_requests_")
        for sample in family.samples
    }
    assert samples == {
        **{
            (f"accord_data_requests_{name}", kind): 0.0
            for name in ("open", "at_risk", "overdue")
            for kind in DataRequestKind
        },
        ("accord_data_requests_open", "ACCESS"): 2.0,
        ("accord_data_requests_open", "ERASURE"): 1.0,
        ("accord_data_requests_open", "CORRECTION"): 1.0,
        ("accord_data_requests_at_risk", "ERASURE"): 1.0,
        ("accord_data_requests_overdue", "CORRECTION"): 1.0,
    }


async def test_an_extension_once_with_a_reason_and_the_user_told(gql, settings, redis_url, mailbox):
    officer = await register(gql, "pia.officer", role=Role.PRIVACY_OFFICER)
    wes = await person(gql, "wes.waits")
    now = domain_clock.now()
    request = await verified_request(pk(wes.id), settings, due_at=now + 2 * DAY)
    await swept(settings, redis_url)
    assert kinds(await inbox(gql, officer.token)) == ["DATA_REQUEST_AT_RISK"]
    old_due = (await DataRequest.get(id=request.id)).due_at
    assert old_due is not None
    node = gid("DataRequest", request.id)
    reason = "Your records are spread over three archives we must search by hand."

    extended = (
        await gql(EXTEND, {"i": {"id": node, "days": 10, "reason": reason}}, token=officer.token)
    )["data"]["extendDataRequest"]
    assert extended["errors"] == []
    answer = extended["request"]
    assert iso(answer["dueAt"]) == old_due + 10 * DAY
    assert answer["extensionReason"] == reason and answer["urgency"] == "ON_TIME"
    assert iso(answer["extendedAt"]) <= domain_clock.now()
    # A staff change to a subject's request: the staff audit log says who, whose and why.
    [entry] = await StaffAuditEntry.filter(action=StaffAction.EXTEND_DATA_REQUEST)
    assert (entry.staff_id, entry.subject_id) == (pk(officer.id), pk(wes.id))
    assert entry.reason == reason and entry.resource_id == str(request.id)

    # The user is told at once, in the app and by e-mail: the reason and both dates.
    [told] = await inbox(gql, wes.token)
    assert told["kind"] == "DATA_REQUEST_EXTENDED" and reason in told["body"]
    assert f"{old_due + 10 * DAY:%Y-%m-%d %H:%M} UTC" in told["body"]
    assert f"{old_due:%Y-%m-%d %H:%M} UTC" in told["body"]
    await deliver()
    [mail] = [m for m in mail_to(wes.email) if "data request" in m["Subject"]]
    assert reason in body_of(mail)
    mine = (await gql(MINE, token=wes.token))["data"]["viewer"]["dataRequests"]["edges"]
    assert mine[0]["node"]["extensionReason"] == reason
    assert mine[0]["node"]["dueAt"] == answer["dueAt"]

    # Once only.
    again = (
        await gql(EXTEND, {"i": {"id": node, "days": 1, "reason": "more"}}, token=officer.token)
    )["data"]["extendDataRequest"]
    assert errors(again) == [("ALREADY_EXTENDED", "id")] and again["request"] is None
    assert (
        iso(
            (await gql(MINE, token=wes.token))["data"]["viewer"]["dataRequests"]["edges"][0][
                "node"
            ]["dueAt"]
        )
        == old_due + 10 * DAY
    )

    # The warning was about the old date: the new one, once near, is warned of again.
    await swept(settings, redis_url)
    assert kinds(await inbox(gql, officer.token)) == ["DATA_REQUEST_AT_RISK"]
    await DataRequest.filter(id=request.id).update(due_at=now + DAY)
    await swept(settings, redis_url, 2)
    assert kinds(await inbox(gql, officer.token)) == ["DATA_REQUEST_AT_RISK"] * 2


async def test_what_an_extension_is_refused(gql, settings):
    officer = await register(gql, "quinn.officer", role=Role.PRIVACY_OFFICER)
    user = await register(gql, "ray.user")
    now = domain_clock.now()
    open_one = await verified_request(pk(user.id), settings, due_at=now + 5 * DAY)
    late = await verified_request(pk(user.id), settings, due_at=now - timedelta(minutes=1))
    done = await verified_request(pk(user.id), settings)
    await DataRequest.filter(id=done.id).update(status=DataRequestStatus.COMPLETED)
    unverified = await file(gql, accountName="ray.user", email="ray@mail.example")
    assert unverified["errors"] == []
    received = await DataRequest.get(status=DataRequestStatus.RECEIVED)

    async def extend(row_id, token=officer.token, days=5, reason="A reason."):
        given = {"id": gid("DataRequest", row_id), "days": days, "reason": reason}
        return (await gql(EXTEND, {"i": given}, token=token))["data"]["extendDataRequest"]

    assert errors(await extend(late.id)) == [("PAST_DUE", "id")]
    assert errors(await extend(done.id)) == [("ALREADY_DECIDED", "id")]
    assert errors(await extend(received.id)) == [("IDENTITY_NOT_VERIFIED", "id")]
    assert errors(await extend(987654)) == [("NOT_FOUND", "id")]
    assert errors(await extend(open_one.id, days=16)) == [("INVALID", "days")]
    assert errors(await extend(open_one.id, days=0)) == [("INVALID", "days")]
    assert errors(await extend(open_one.id, reason="  ")) == [("INVALID", "reason")]
    assert errors(await extend(open_one.id, token=user.token)) == [("FORBIDDEN", None)]
    assert (await DataRequest.get(id=open_one.id)).extended_at is None
    assert (await extend(open_one.id, days=15))["errors"] == []


async def test_a_region_s_law_sets_the_longest_extension(app_with, gql, settings):
    officer = await register(gql, "rita.officer", role=Role.PRIVACY_OFFICER)
    user = await register(gql, "udo.bonn")
    request = await verified_request(pk(user.id), settings)
    request.region = "DE"
    await request.save(update_fields=["region"])
    given = {"id": gid("DataRequest", request.id), "days": 45, "reason": "Three archives."}
    async with app_with(data_request_max_extension_days_by_region={"DE": 60}) as http:
        answer = await GraphQL(http)(EXTEND, {"i": given}, token=officer.token)
    assert answer["data"]["extendDataRequest"]["errors"] == []
    assert deadlines.max_extension_days(settings, "DE") == 15


async def test_the_officers_list_soonest_due_first(gql, settings):
    officer = await register(gql, "sue.officer", role=Role.PRIVACY_OFFICER)
    user = await register(gql, "tom.user")
    now = domain_clock.now()
    dues = [now + 9 * DAY, now + DAY, now - DAY, now + 4 * DAY, now + 4 * DAY]
    rows = [await verified_request(pk(user.id), settings, due_at=due) for due in dues]
    await DataRequest.filter(id=rows[0].id).update(status=DataRequestStatus.IN_PROGRESS)
    done = await verified_request(pk(user.id), settings, due_at=now)
    await DataRequest.filter(id=done.id).update(status=DataRequestStatus.COMPLETED)
    await file(gql, accountName="tom.user", email="tom@mail.example")
    soonest = [rows[2], rows[1], rows[3], rows[4], rows[0]]  # ties by id

    seen, after = [], None
    while True:
        body = await gql(LIST, {"first": 2, "after": after}, token=officer.token)
        page = body["data"]["dataRequests"]
        seen += [edge["node"] for edge in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert [node["id"] for node in seen] == [gid("DataRequest", r.id) for r in soonest]
    assert {node["accountId"] for node in seen} == {user.id}
    assert [iso(node["dueAt"]) for node in seen] == sorted(iso(node["dueAt"]) for node in seen)

    async def listed(**given) -> list[str]:
        body = await gql(LIST, given, token=officer.token)
        return [edge["node"]["id"] for edge in body["data"]["dataRequests"]["edges"]]

    assert await listed(status=["COMPLETED"]) == [gid("DataRequest", done.id)]
    assert await listed(status=["IN_PROGRESS"]) == [gid("DataRequest", rows[0].id)]
    due_soon = [gid("DataRequest", rows[2].id), gid("DataRequest", rows[1].id)]
    assert await listed(dueBefore=(now + 2 * DAY).isoformat()) == due_soon
    # Without an offset, UTC.
    assert await listed(dueBefore=(now + 2 * DAY).replace(tzinfo=None).isoformat()) == due_soon
    assert await listed(after="forged") == []

    # An officer may read any one by its id, as the list shows it.
    node = await gql(
        "query($id: ID!) { node(id: $id) { ... on DataRequest { id accountId } } }",
        {"id": gid("DataRequest", rows[1].id)},
        token=officer.token,
    )
    assert node["data"]["node"] == {"id": gid("DataRequest", rows[1].id), "accountId": user.id}


async def test_the_officers_list_is_theirs_only(gql, settings):
    user = await register(gql, "val.user")
    support = await register(gql, "will.support", role=Role.SUPPORT)
    await verified_request(pk(user.id), settings)
    for token, code in (
        (user.token, "FORBIDDEN"),
        (support.token, "FORBIDDEN"),
        (None, "NOT_AUTHENTICATED"),
    ):
        body = await gql(LIST, {}, token=token, expect_errors=True)
        assert body["data"] is None
        assert body["errors"][0]["extensions"]["code"] == code
