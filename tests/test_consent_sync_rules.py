"""syncConsents as a mobile client meets it (issue 14): every element of a batch judged on
its own, results in input order with their index, the clock rules told to the client
(serverTime, superseded, TOO_OLD), CONFLICT for a reused key, the limits readable, and
device ids that cannot be guessed."""

from __future__ import annotations

import json
import secrets
import uuid
from datetime import UTC, datetime, timedelta

import pytest

from models.consent.ledger import ConsentEvent, device_subject
from tests.conftest import GraphQL
from tests.consent_helpers import (
    consents,
    event,
    officer,
    published,
    register,
    set_consents,
    utcnow,
)
from tests.device_ids import new_device_id

SYNC = """
mutation($input: SyncConsentsInput!) {
  syncConsents(input: $input) {
    results { index idempotencyKey status code superseded }
    events { idempotencyKey }
    cursor hasMore serverTime
    errors { code field }
  }
}
"""


async def _setup(gql):
    staff = await officer(gql)
    await published(gql, staff.token, "v1")
    return await register(gql, "alice")


async def _sync(gql, events, *, device_id, token=None):
    given = {"deviceId": device_id, "events": events}
    body = await gql(SYNC, {"input": given}, token=token)
    return body["data"]["syncConsents"]


def _verdicts(result):
    return [(r["index"], r["status"], r["code"]) for r in result["results"]]


# --- one element is never the whole batch -------------------------------------------------


async def test_elements_that_are_no_event_object_are_rejected_alone(gql):
    alice = await _setup(gql)
    first, last = event("analytics", True), event("advertising", True)
    batch = [first, "a string", 42, None, [first], True, {}, last]
    result = await _sync(gql, batch, device_id=new_device_id(), token=alice.token)
    assert result["errors"] == []
    assert _verdicts(result) == [
        (0, "ACCEPTED", None),
        *((i, "REJECTED", "INVALID") for i in range(1, 7)),
        (7, "ACCEPTED", None),
    ]
    assert [r["idempotencyKey"] for r in result["results"]] == [
        first["idempotencyKey"],
        *[""] * 6,
        last["idempotencyKey"],
    ]
    stored = await ConsentEvent.filter(kind="GRANTED").values_list("idempotency_key", flat=True)
    assert sorted(stored) == sorted([first["idempotencyKey"], last["idempotencyKey"]])


async def test_elements_written_in_the_document_are_judged_the_same(gql):
    """Events as literals in the document, not in variables: the same answer."""
    alice = await _setup(gql)
    good = event("analytics", True)
    literal = json.dumps(good)
    for name in good:  # a GraphQL object literal: unquoted names
        literal = literal.replace(f'"{name}":', f"{name}:")
    document = (
        "mutation { syncConsents(input: {deviceId: "
        + json.dumps(new_device_id())
        + f', events: [null, "x", 3.5, {literal}]}}) '
        "{ results { index status code } errors { code } } }"
    )
    result = (await gql(document, token=alice.token))["data"]["syncConsents"]
    assert result["errors"] == []
    assert [(r["index"], r["status"], r["code"]) for r in result["results"]] == [
        (0, "REJECTED", "INVALID"),
        (1, "REJECTED", "INVALID"),
        (2, "REJECTED", "INVALID"),
        (3, "ACCEPTED", None),
    ]


# --- the clock: latest client time wins, and the client is told -----------------------------


async def test_a_slow_clocks_withdrawal_is_stored_but_marked_superseded(gql):
    alice = await _setup(gql)
    phone, tablet = new_device_id(), new_device_id()
    now = utcnow()
    grant = event("analytics", True, at=now - timedelta(minutes=1))
    granted = await _sync(gql, [grant], device_id=phone, token=alice.token)
    assert [r["superseded"] for r in granted["results"]] == [False]
    # The tablet's clock is ten minutes slow: its withdrawal, made after the grant, carries
    # an earlier time. Latest client time wins, so the grant stands; the tablet is told.
    withdraw = event("analytics", False, at=now - timedelta(minutes=10))
    late = await _sync(gql, [withdraw], device_id=tablet, token=alice.token)
    assert _verdicts(late) == [(0, "ACCEPTED", None)]
    assert [r["superseded"] for r in late["results"]] == [True]
    served = datetime.fromisoformat(late["serverTime"])
    assert abs(served - datetime.now(UTC)) < timedelta(seconds=30)
    assert (await consents(gql, alice.token))["analytics"]["granted"] is True
    # A retry says the same; a later withdrawal is not superseded and decides.
    again = await _sync(gql, [withdraw], device_id=tablet, token=alice.token)
    assert [(r["status"], r["superseded"]) for r in again["results"]] == [("DUPLICATE", True)]
    fresh = await _sync(gql, [event("analytics", False)], device_id=tablet, token=alice.token)
    assert [r["superseded"] for r in fresh["results"]] == [False]
    assert (await consents(gql, alice.token))["analytics"]["granted"] is False


async def test_within_one_batch_the_earlier_decision_is_superseded(gql):
    alice = await _setup(gql)
    now = utcnow()
    later = event("advertising", True, at=now - timedelta(minutes=1))
    earlier = event("advertising", False, at=now - timedelta(minutes=5))
    other = event("analytics", True, at=now - timedelta(minutes=9))
    result = await _sync(gql, [later, earlier, other], device_id=new_device_id(), token=alice.token)
    assert [r["superseded"] for r in result["results"]] == [False, True, False]


async def test_server_time_comes_with_errors_too(gql):
    result = await _sync(gql, [event("analytics", True)], device_id="short")
    assert [e["code"] for e in result["errors"]] == ["INVALID"]
    assert result["results"] == [] and result["events"] == [] and result["hasMore"] is False
    assert result["cursor"] is None
    assert datetime.fromisoformat(result["serverTime"]).tzinfo is not None


async def test_timestamps_older_than_the_bound_are_too_old(gql):
    alice = await _setup(gql)
    device = new_device_id()
    now = utcnow()
    old = event("analytics", False, at=now - timedelta(days=30, minutes=1))
    recent = event("analytics", True, at=now - timedelta(days=29, hours=23))
    result = await _sync(gql, [old, recent], device_id=device, token=alice.token)
    assert _verdicts(result) == [(0, "REJECTED", "TOO_OLD"), (1, "ACCEPTED", None)]


async def test_an_event_the_ledger_holds_is_a_duplicate_even_once_too_old(gql, clock):
    """A phone that retries a batch after a month offline learns it was stored."""
    alice = await _setup(gql)
    device = new_device_id()
    sent = event("analytics", True, at=utcnow() - timedelta(days=29))
    first = await _sync(gql, [sent], device_id=device, token=alice.token)
    assert _verdicts(first) == [(0, "ACCEPTED", None)]
    clock.use(lambda: datetime.now(UTC) + timedelta(days=2))
    retried = await _sync(gql, [sent], device_id=device, token=alice.token)
    assert _verdicts(retried) == [(0, "DUPLICATE", None)]
    changed = dict(sent, granted=False)
    assert _verdicts(await _sync(gql, [changed], device_id=device, token=alice.token)) == [
        (0, "CONFLICT", "CONFLICT")
    ]


async def test_the_age_bound_is_a_setting_and_readable(app_with):
    async with app_with(consent_max_event_age=3600, consent_clock_skew=60) as http:
        gql = GraphQL(http)
        limits = await gql(
            "{ consentSyncLimits { maxEvents maxEventAgeSeconds clockSkewSeconds } }"
        )
        assert limits["data"]["consentSyncLimits"] == {
            "maxEvents": 500,
            "maxEventAgeSeconds": 3600,
            "clockSkewSeconds": 60,
        }
        alice = await _setup(gql)
        two_hours = event("analytics", True, at=utcnow() - timedelta(hours=2))
        result = await _sync(gql, [two_hours], device_id=new_device_id(), token=alice.token)
        assert _verdicts(result) == [(0, "REJECTED", "TOO_OLD")]


async def test_the_event_limit_is_readable_and_enforced(app_with):
    async with app_with(consent_sync_max_events=3) as http:
        gql = GraphQL(http)
        limits = await gql("{ consentSyncLimits { maxEvents } }")
        assert limits["data"]["consentSyncLimits"] == {"maxEvents": 3}
        alice = await _setup(gql)
        batch = [event("analytics", True) for _ in range(4)]
        result = await _sync(gql, batch, device_id=new_device_id(), token=alice.token)
        assert [e["code"] for e in result["errors"]] == ["TOO_MANY_EVENTS"]


# --- idempotency keys: the same key for other content is a CONFLICT ----------------------------


async def test_a_reused_key_with_other_content_is_a_conflict(gql):
    alice = await _setup(gql)
    device = new_device_id()
    sent = event("analytics", True, at=utcnow() - timedelta(minutes=3))
    await _sync(gql, [sent], device_id=device, token=alice.token)
    variants = [
        dict(sent, granted=False),
        dict(sent, purpose="advertising"),
        dict(sent, clientTimestamp=(utcnow() - timedelta(minutes=2)).isoformat()),
        dict(sent, source="ANDROID"),
    ]
    result = await _sync(gql, [*variants, sent], device_id=device, token=alice.token)
    assert _verdicts(result) == [
        *((i, "CONFLICT", "CONFLICT") for i in range(4)),
        (4, "DUPLICATE", None),
    ]
    # The same instant written with another offset, the key in upper case: the same event.
    moment = datetime.fromisoformat(sent["clientTimestamp"])
    shifted = dict(
        sent,
        clientTimestamp=moment.astimezone(UTC)
        .astimezone(__import__("datetime").timezone(timedelta(hours=2)))
        .isoformat(),
        idempotencyKey=sent["idempotencyKey"].upper(),
    )
    assert _verdicts(await _sync(gql, [shifted], device_id=device, token=alice.token)) == [
        (0, "DUPLICATE", None)
    ]
    assert await ConsentEvent.filter(kind__in=["GRANTED", "WITHDRAWN"]).count() == 1
    assert (await consents(gql, alice.token))["analytics"]["granted"] is True


async def test_a_reused_key_from_before_sign_in_is_a_conflict_too(gql):
    """Keys sent anonymously live in the device's chain, which the account takes over."""
    staff = await officer(gql)
    await published(gql, staff.token, "v1")
    device = new_device_id()
    sent = event("analytics", True, at=utcnow() - timedelta(minutes=3))
    assert _verdicts(await _sync(gql, [sent], device_id=device)) == [(0, "ACCEPTED", None)]
    body = await gql(
        """mutation($input: RegisterInput!) { register(input: $input) { token errors { code } } }""",
        {
            "input": {
                "accountName": "bo",
                "password": "correct horse battery staple",
                "nickname": "Bo",
                "deviceId": device,
            }
        },
    )
    token = body["data"]["register"]["token"]
    result = await _sync(gql, [sent, dict(sent, granted=False)], device_id=device, token=token)
    assert _verdicts(result) == [(0, "DUPLICATE", None), (1, "CONFLICT", "CONFLICT")]


# --- payload fields a client can count on ------------------------------------------------------


#: Payload fields every answer carries (a list, a count, a flag whose empty value is true of
#: an error too); `cursor` and objects stay nullable: an answer with errors has none.
ALWAYS_PRESENT = {
    "SyncConsentsPayload": {"results", "events", "hasMore", "serverTime"},
    "SetConsentsPayload": {"consents"},
    "SignInWithProviderPayload": {"created"},
    "RecordSearchPayload": {"recorded"},
    "RecordClickPayload": {"recorded"},
    "MarkNotificationsReadPayload": {"marked"},
}


@pytest.mark.parametrize("payload", sorted(ALWAYS_PRESENT))
async def test_payload_fields_that_always_exist_are_non_null(gql, payload):
    body = await gql(
        "query($name: String!) { __type(name: $name) { fields { name type { kind } } } }",
        {"name": payload},
    )
    kinds = {f["name"]: f["type"]["kind"] for f in body["data"]["__type"]["fields"]}
    assert {name for name in ALWAYS_PRESENT[payload] if kinds[name] == "NON_NULL"} == (
        ALWAYS_PRESENT[payload]
    )


async def test_fields_always_present_on_success_are_non_null(gql):
    body = await gql(
        """{ __type(name: "SyncConsentsPayload") { fields { name type { kind } } } }"""
    )
    kinds = {f["name"]: f["type"]["kind"] for f in body["data"]["__type"]["fields"]}
    assert kinds == {
        "results": "NON_NULL",
        "events": "NON_NULL",
        "cursor": "SCALAR",  # none without a result
        "hasMore": "NON_NULL",
        "serverTime": "NON_NULL",
        "errors": "NON_NULL",
    }


# --- device ids ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "device_id",
    [
        "phone-0001",  # short
        "a" * 40,  # one character
        "ab" * 20,  # a short pattern
        "00000000-0000-0000-0000-000000000000",  # the nil UUID
        "abc def ghi jkl mno pqr stu",  # a space
        "x" * 129,
        secrets.token_urlsafe(64)[:65],  # longer than a subject holds: was an internal error
    ],
)
async def test_a_guessable_device_id_is_invalid(gql, device_id):
    await _setup(gql)
    result = await _sync(gql, [event("analytics", True)], device_id=device_id)
    assert result["errors"] == [{"code": "INVALID", "field": "deviceId"}]
    anonymous = await set_consents(gql, {"analytics": True}, device_id=device_id)
    assert [(e["code"], e["field"]) for e in anonymous["errors"]] == [("INVALID", "deviceId")]
    assert await ConsentEvent.filter(subject=device_subject(device_id)[:80]).count() == 0


@pytest.mark.parametrize(
    "device_id",
    [
        str(uuid.uuid4()),
        str(uuid.uuid4()).upper(),
        uuid.uuid4().hex,
        secrets.token_urlsafe(16),  # 22 characters
        "android:" + secrets.token_urlsafe(32),
        secrets.token_urlsafe(64)[:64],  # the longest
    ],
)
async def test_a_random_device_id_is_accepted(gql, device_id):
    await _setup(gql)
    result = await _sync(gql, [event("analytics", True)], device_id=device_id)
    assert result["errors"] == [] and _verdicts(result) == [(0, "ACCEPTED", None)]
