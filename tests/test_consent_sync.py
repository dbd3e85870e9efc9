"""syncConsents: offline batches judged per event, idempotent retries, since/cursor, and
concurrent syncs for one subject (no lost event, no duplicate, no fork)."""

from __future__ import annotations

import asyncio
import uuid
from collections import Counter
from datetime import timedelta

from models.consent.ledger import ConsentChain, ConsentEvent, account_subject, device_subject
from tests.conftest import GraphQL
from tests.consent_helpers import (
    PASSWORD,
    SYNC,
    consents,
    event,
    officer,
    published,
    register,
    sync,
    utcnow,
    verify,
)
from tests.device_ids import device_id
from tests.ids import pk

PHONE = device_id("phone-aaaa-0001")
TABLET = device_id("tablet-bbbb-0002")
PURPOSES = ("personalization", "analytics", "advertising", "activity_log")


async def _setup(gql, *, user: str | None = "alice"):
    staff = await officer(gql)
    await published(gql, staff.token, "v1")
    await published(gql, staff.token, "v-next", effective_at=utcnow() + timedelta(days=30))
    account = await register(gql, user) if user else None
    return staff, account


def _batch(n: int, *, start=None, step=timedelta(milliseconds=1)) -> list[dict]:
    start = start or utcnow() - timedelta(hours=1)
    return [event(PURPOSES[i % len(PURPOSES)], i % 3 != 0, at=start + i * step) for i in range(n)]


def _statuses(result: dict) -> list[tuple[str | None, str, str | None]]:
    return [(r["idempotencyKey"], r["status"], r["code"]) for r in result["results"]]


async def _seqs(subject: str) -> list[int]:
    return list(
        await ConsentEvent.filter(subject=subject).order_by("seq").values_list("seq", flat=True)
    )


async def test_a_full_batch_is_stored_and_a_bigger_one_refused(gql):
    staff, alice = await _setup(gql)
    batch = _batch(500)
    result = await sync(gql, batch, device_id=PHONE, token=alice.token)
    assert result["errors"] == []
    assert [r["status"] for r in result["results"]] == ["ACCEPTED"] * 500
    assert [r["idempotencyKey"] for r in result["results"]] == [e["idempotencyKey"] for e in batch]
    subject = account_subject(pk(alice.id))
    assert await _seqs(subject) == list(range(1, 501))
    too_many = await sync(gql, _batch(501), device_id=PHONE, token=alice.token)
    assert [e["code"] for e in too_many["errors"]] == ["TOO_MANY_EVENTS"]
    assert too_many["results"] == []
    assert await ConsentEvent.filter(subject=subject).count() == 500
    assert (await verify(gql, staff.token, account_id=alice.id))["ok"] is True


async def test_each_event_is_judged_on_its_own(gql):
    _, alice = await _setup(gql)
    good = [event("analytics", True), event("advertising", False, version="v-next")]
    bad = {
        "UNKNOWN_PURPOSE": event("telepathy", True),
        "UNKNOWN_POLICY_VERSION": event("analytics", True, version="v404"),
        "CLOCK_SKEW": event("analytics", False, at=utcnow() + timedelta(hours=1)),
        "REQUIRED_PURPOSE": event("necessary", False),
        "INVALID": event("analytics", True, key="not-a-uuid"),
    }
    missing_field = event("analytics", True)
    del missing_field["granted"]
    wrong_type = event("analytics", True)
    wrong_type["granted"] = "yes"
    naive_time = event("analytics", True)
    naive_time["clientTimestamp"] = "2024-01-01T10:00:00"
    bad_source = event("analytics", True, source="FAX")
    malformed = [missing_field, wrong_type, naive_time, bad_source]
    batch = [good[0], *bad.values(), *malformed, good[1]]
    result = await sync(gql, batch, device_id=PHONE, token=alice.token)
    assert result["errors"] == []
    assert _statuses(result) == [
        (good[0]["idempotencyKey"], "ACCEPTED", None),
        *[(e["idempotencyKey"], "REJECTED", code) for code, e in bad.items()],
        *[(e["idempotencyKey"], "REJECTED", "INVALID") for e in malformed],
        (good[1]["idempotencyKey"], "ACCEPTED", None),
    ]
    stored = await ConsentEvent.filter(subject=account_subject(pk(alice.id))).order_by("seq")
    assert [e.idempotency_key for e in stored] == [
        good[0]["idempotencyKey"],
        good[1]["idempotencyKey"],
    ]
    assert stored[0].device_id == PHONE
    # Just within the skew is fine.
    soon = event("analytics", True, at=utcnow() + timedelta(minutes=4))
    assert (await sync(gql, [soon], device_id=PHONE, token=alice.token))["results"][0][
        "status"
    ] == "ACCEPTED"


async def test_the_clock_skew_is_configurable(app_with, gql):
    _, alice = await _setup(gql)
    ahead = event("analytics", True, at=utcnow() + timedelta(hours=1))
    async with app_with(consent_clock_skew=timedelta(hours=2)) as http:
        response = await http.post(
            "/graphql",
            json={"query": SYNC, "variables": {"input": {"deviceId": PHONE, "events": [ahead]}}},
            headers={"authorization": f"Bearer {alice.token}"},
        )
    results = response.json()["data"]["syncConsents"]["results"]
    assert [r["status"] for r in results] == ["ACCEPTED"]


async def test_a_retried_batch_stores_nothing_twice(gql):
    staff, alice = await _setup(gql)
    batch = _batch(40)
    first = await sync(gql, batch, device_id=PHONE, token=alice.token)
    assert Counter(r["status"] for r in first["results"]) == {"ACCEPTED": 40}
    for _ in range(2):
        again = await sync(gql, batch, device_id=PHONE, token=alice.token)
        assert [r["status"] for r in again["results"]] == ["DUPLICATE"] * 40
        assert [r["code"] for r in again["results"]] == [None] * 40
    # A retry that carries new events as well stores only the new ones.
    extra = _batch(5, start=utcnow() - timedelta(minutes=1))
    mixed = await sync(gql, [*batch[:10], *extra], device_id=PHONE, token=alice.token)
    assert [r["status"] for r in mixed["results"]] == ["DUPLICATE"] * 10 + ["ACCEPTED"] * 5
    subject = account_subject(pk(alice.id))
    assert await _seqs(subject) == list(range(1, 46))
    assert (await ConsentChain.get(subject=subject)).seq == 45
    # A key is unique per subject, not globally: another account may use the same one.
    bob = await register(gql, "bob")
    theirs = await sync(gql, batch[:3], device_id=TABLET, token=bob.token)
    assert [r["status"] for r in theirs["results"]] == ["ACCEPTED"] * 3
    assert (await verify(gql, staff.token, account_id=alice.id))["ok"] is True


async def test_the_same_key_twice_in_one_batch(gql):
    _, alice = await _setup(gql)
    once = event("analytics", True, at=utcnow() - timedelta(minutes=2))
    again = dict(once)  # the same event twice: a duplicate
    twice = dict(once, granted=False)  # the same key for another decision: a conflict
    other = event("advertising", True)
    shouted = dict(other, idempotencyKey=other["idempotencyKey"].upper())
    result = await sync(
        gql, [once, other, twice, shouted, again], device_id=PHONE, token=alice.token
    )
    assert [(r["status"], r["code"]) for r in result["results"]] == [
        ("ACCEPTED", None),
        ("ACCEPTED", None),
        ("CONFLICT", "CONFLICT"),
        ("DUPLICATE", None),
        ("DUPLICATE", None),
    ]
    stored = await ConsentEvent.filter(subject=account_subject(pk(alice.id)))
    assert len(stored) == 2
    assert {e.idempotency_key for e in stored} == {once["idempotencyKey"], other["idempotencyKey"]}
    assert (await consents(gql, alice.token))["analytics"]["granted"] is True


async def test_since_returns_what_other_devices_recorded(gql):
    _, alice = await _setup(gql)
    from_phone = _batch(3)
    a1 = await sync(gql, from_phone, device_id=PHONE, token=alice.token)
    assert a1["events"] == []  # nothing from other devices yet
    phone_cursor = a1["cursor"]
    b1 = await sync(gql, [], device_id=TABLET, token=alice.token)
    assert [e["idempotencyKey"] for e in b1["events"]] == [e["idempotencyKey"] for e in from_phone]
    assert all(e["deviceId"] == PHONE for e in b1["events"])
    assert b1["hasMore"] is False
    from_tablet = _batch(2, start=utcnow() - timedelta(minutes=10))
    b2 = await sync(gql, from_tablet, device_id=TABLET, token=alice.token, since=b1["cursor"])
    assert b2["events"] == []  # its own events do not come back
    assert b2["cursor"] != b1["cursor"]
    # The web (no device) records one too.
    web = await gql(
        """mutation { setConsents(input: {policyVersion: "v1",
             decisions: [{purpose: "analytics", granted: true}]}) { errors { code } } }""",
        token=alice.token,
    )
    assert web["data"]["setConsents"]["errors"] == []
    a2 = await sync(gql, [], device_id=PHONE, token=alice.token, since=phone_cursor)
    keys = [e["idempotencyKey"] for e in a2["events"]]
    assert keys[:2] == [e["idempotencyKey"] for e in from_tablet]
    assert len(keys) == 3 and a2["events"][2]["deviceId"] is None
    assert [e["seq"] for e in a2["events"]] == [4, 5, 6]
    # The cursor has advanced: nothing new means nothing returned.
    a3 = await sync(gql, [], device_id=PHONE, token=alice.token, since=a2["cursor"])
    assert a3["events"] == []
    assert a3["cursor"] == a2["cursor"]
    forged = await sync(gql, [], device_id=PHONE, token=alice.token, since="not-a-cursor")
    assert [(e["code"], e["field"]) for e in forged["errors"]] == [("INVALID", "since")]


async def test_since_pages_with_has_more(app_with, gql):
    _, alice = await _setup(gql)
    await sync(gql, _batch(12), device_id=PHONE, token=alice.token)
    async with app_with(consent_sync_max_events=5) as http:

        async def tablet_sync(since):
            return await sync(GraphQL(http), [], device_id=TABLET, token=alice.token, since=since)

        seen, since, pages = [], None, 0
        while True:
            page = await tablet_sync(since)
            pages += 1
            seen.extend(e["seq"] for e in page["events"])
            since = page["cursor"]
            if not page["hasMore"]:
                break
        assert pages == 3
        assert seen == list(range(1, 13))
        assert (await tablet_sync(since))["events"] == []


async def test_anonymous_sync_with_a_device_id(gql):
    staff, _ = await _setup(gql, user=None)
    batch = _batch(4)
    result = await sync(gql, batch, device_id=PHONE)
    assert [r["status"] for r in result["results"]] == ["ACCEPTED"] * 4
    assert await _seqs(device_subject(PHONE)) == [1, 2, 3, 4]
    assert [r["status"] for r in (await sync(gql, batch, device_id=PHONE))["results"]] == [
        "DUPLICATE"
    ] * 4
    # Another anonymous device has a chain of its own and does not see this one's events.
    other = await sync(gql, [], device_id=TABLET)
    assert other["events"] == []
    bad = await sync(gql, batch, device_id="no")
    assert [e["code"] for e in bad["errors"]] == ["INVALID"]
    check = await verify(gql, staff.token, device_id=PHONE)
    assert check == {"ok": True, "checked": 4, "firstBrokenEventId": None}


async def test_concurrent_syncs_for_one_subject(gql):
    """Two clients sync big batches for one account at the same time, round after round,
    with some events (same idempotency key) in both batches, each following its cursor."""
    staff, alice = await _setup(gql)
    subject = account_subject(pk(alice.id))
    rounds, size, shared = 5, 200, 25
    stored_by: dict[str, set[str]] = {PHONE: set(), TABLET: set()}
    received: dict[str, list[str]] = {PHONE: [], TABLET: []}
    cursors: dict[str, str | None] = {PHONE: None, TABLET: None}
    all_keys: set[str] = set()
    base = utcnow() - timedelta(hours=2)

    async def one(device, events):
        result = await sync(gql, events, device_id=device, token=alice.token, since=cursors[device])
        assert result["errors"] == [], result["errors"]
        cursors[device] = result["cursor"]
        received[device].extend(e["idempotencyKey"] for e in result["events"])
        return result

    for n in range(rounds):
        common = _batch(shared, start=base + timedelta(minutes=n))
        phone = [*_batch(size - shared, start=base + timedelta(minutes=n, seconds=1)), *common]
        tablet = [*common, *_batch(size - shared, start=base + timedelta(minutes=n, seconds=2))]
        results = await asyncio.gather(one(PHONE, phone), one(TABLET, tablet))
        statuses: dict[str, list[str]] = {}
        for device, result in zip((PHONE, TABLET), results, strict=True):
            for r in result["results"]:
                statuses.setdefault(r["idempotencyKey"], []).append(r["status"])
                if r["status"] == "ACCEPTED":
                    stored_by[device].add(r["idempotencyKey"])
        for e in common:  # exactly one of the two clients stored each shared event
            assert sorted(statuses[e["idempotencyKey"]]) == ["ACCEPTED", "DUPLICATE"]
        for e in phone[: size - shared] + tablet[shared:]:
            assert statuses[e["idempotencyKey"]] == ["ACCEPTED"]
        all_keys.update(e["idempotencyKey"] for e in phone + tablet)

    expected = rounds * (2 * size - shared)
    assert len(all_keys) == expected
    rows = [  # read opened: the device id is sealed
        (r.seq, r.idempotency_key, r.device_id)
        for r in await ConsentEvent.filter(subject=subject).order_by("seq")
    ]
    assert [r[0] for r in rows] == list(range(1, expected + 1))  # no gap, no fork
    assert {r[1] for r in rows} == all_keys  # nothing lost
    assert len(rows) == len({r[1] for r in rows})  # nothing twice
    assert stored_by[PHONE].isdisjoint(stored_by[TABLET])
    assert {key for _, key, device in rows if device == PHONE} == stored_by[PHONE]
    head = await ConsentChain.get(subject=subject)
    assert head.seq == expected
    check = await verify(gql, staff.token, account_id=alice.id)
    assert check == {"ok": True, "checked": expected, "firstBrokenEventId": None}

    # Following its cursor, each client has been given every event the other stored, once.
    for device in (PHONE, TABLET):
        while True:
            tail = await one(device, [])
            if not tail["hasMore"]:
                break
    assert sorted(received[PHONE]) == sorted(stored_by[TABLET])
    assert sorted(received[TABLET]) == sorted(stored_by[PHONE])


async def test_idempotency_keys_are_normalised_uuids(gql):
    _, alice = await _setup(gql)
    key = str(uuid.uuid4())
    braces = event("analytics", True, key="{" + key + "}")
    hex_only = event("analytics", True, key=key.replace("-", ""))
    result = await sync(gql, [braces, hex_only], device_id=PHONE, token=alice.token)
    assert [(r["status"], r["code"]) for r in result["results"]] == [
        ("REJECTED", "INVALID"),
        ("REJECTED", "INVALID"),
    ]
    assert await ConsentEvent.all().count() == 0


async def test_keys_are_echoed_as_sent_and_matched_in_any_case(gql):
    """iOS writes UUIDs in upper case: the client must find its own key in the results."""
    _, alice = await _setup(gql)
    upper = event("analytics", True, key=str(uuid.uuid4()).upper())
    result = await sync(gql, [upper], device_id=PHONE, token=alice.token)
    assert _statuses(result) == [(upper["idempotencyKey"], "ACCEPTED", None)]
    lower = dict(upper, idempotencyKey=upper["idempotencyKey"].lower())
    again = await sync(gql, [upper, lower], device_id=PHONE, token=alice.token)
    assert _statuses(again) == [
        (upper["idempotencyKey"], "DUPLICATE", None),
        (lower["idempotencyKey"], "DUPLICATE", None),
    ]
    bad = event("analytics", True, key="Not-A-UUID")
    rejected = await sync(gql, [bad], device_id=PHONE, token=alice.token)
    assert _statuses(rejected) == [("Not-A-UUID", "REJECTED", "INVALID")]
    assert await ConsentEvent.all().count() == 1


async def test_a_cursor_from_another_chain_starts_over(gql):
    """A phone synced anonymously (its cursor is a position in the device's chain), then
    signs in and sends that cursor again: the account's events are not skipped."""
    _, alice = await _setup(gql)
    from_tablet = _batch(5)
    await sync(gql, from_tablet, device_id=TABLET, token=alice.token)
    anonymous = await sync(gql, _batch(3), device_id=PHONE)
    assert anonymous["cursor"]
    signed_in = await sync(gql, [], device_id=PHONE, token=alice.token, since=anonymous["cursor"])
    assert [e["idempotencyKey"] for e in signed_in["events"]] == [
        e["idempotencyKey"] for e in from_tablet
    ]
    # The account's cursor then works as usual.
    later = await sync(gql, [], device_id=PHONE, token=alice.token, since=signed_in["cursor"])
    assert later["events"] == []


async def test_a_device_signing_in_later_brings_its_history_to_the_other_devices(app_with, gql):
    """The tablet decided things before its first sign-in; when it signs in, that history
    becomes the account's, and the phone's next sync carries it, after the link event."""
    _, alice = await _setup(gql)
    phone_first = await sync(gql, _batch(2), device_id=PHONE, token=alice.token)
    before_sign_in = _batch(3, start=utcnow() - timedelta(minutes=30))
    await sync(gql, before_sign_in, device_id=TABLET)  # anonymous
    signed_in = await gql(
        """mutation($i: LoginInput!) { login(input: $i) { token errors { code } } }""",
        {"i": {"accountName": "alice", "password": PASSWORD, "deviceId": TABLET}},
    )
    tablet_token = signed_in["data"]["login"]["token"]
    after_link = _batch(1, start=utcnow() - timedelta(minutes=5))
    await sync(gql, after_link, device_id=TABLET, token=tablet_token)

    phone = await sync(gql, [], device_id=PHONE, token=alice.token, since=phone_first["cursor"])
    assert [(e["kind"], e["deviceId"]) for e in phone["events"]] == [
        ("DEVICE_LINKED", TABLET),
        *[("GRANTED" if e["granted"] else "WITHDRAWN", TABLET) for e in before_sign_in],
        ("GRANTED" if after_link[0]["granted"] else "WITHDRAWN", TABLET),
    ]
    keys = [e["idempotencyKey"] for e in phone["events"]]
    expected = [e["idempotencyKey"] for e in before_sign_in + after_link]
    assert keys[1:] == expected
    assert phone["hasMore"] is False
    nothing_new = await sync(gql, [], device_id=PHONE, token=alice.token, since=phone["cursor"])
    assert nothing_new["events"] == []

    # The tablet is not sent its own history back: only what the phone recorded.
    tablet = await sync(gql, [], device_id=TABLET, token=tablet_token)
    assert [e["deviceId"] for e in tablet["events"]] == [PHONE, PHONE]

    # Two events a page, the phone reads the same stream, each event once, including a
    # page that ends inside the tablet's history.
    async with app_with(consent_sync_max_events=2) as http:
        paged, since, pages = [], phone_first["cursor"], 0
        while True:
            page = await sync(GraphQL(http), [], device_id=PHONE, token=alice.token, since=since)
            assert len(page["events"]) <= 2
            paged.extend(e["idempotencyKey"] for e in page["events"])
            since, pages = page["cursor"], pages + 1
            if not page["hasMore"]:
                break
    assert paged == keys
    assert pages == 3
    assert since == phone["cursor"]
