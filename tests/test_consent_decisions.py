"""setConsents, acceptPolicy, viewer.consents / requiresReconsent / consentHistory, and the
state rule (latest client timestamp wins, ties by server order)."""

from __future__ import annotations

import base64
from datetime import datetime, timedelta

from models.consent.ledger import ConsentChain, ConsentEvent, account_subject, device_subject
from tests.consent_helpers import (
    CONSENTS,
    HISTORY,
    accept,
    codes,
    consents,
    event,
    officer,
    published,
    register,
    requires_reconsent,
    set_consents,
    sync,
    utcnow,
)
from tests.device_ids import device_id
from tests.ids import pk

DEVICE = device_id("device-0001-anon")
OPTIONAL = ("personalization", "analytics", "advertising", "activity_log")


def parse(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


async def _policy(gql, version: str = "v1", **options):
    staff = await officer(gql, f"officer-{version}".lower())
    await published(gql, staff.token, version, **options)
    return staff


async def test_set_consents_signed_in(gql):
    await _policy(gql)
    alice = await register(gql, "alice")
    before = utcnow()
    result = await set_consents(
        gql,
        {"analytics": True, "advertising": False},
        token=alice.token,
        source="WEB",
        headers={"user-agent": "AccordTest/1.0"},
    )
    assert result["errors"] == []
    rows = result["consents"]
    assert [(r["purpose"]["code"], r["granted"], r["kind"]) for r in rows] == [
        ("analytics", True, "GRANTED"),
        ("advertising", False, "WITHDRAWN"),
    ]
    assert [r["seq"] for r in rows] == [1, 2]
    assert all(r["policyVersion"]["version"] == "v1" and r["source"] == "WEB" for r in rows)
    assert all(r["deviceId"] is None for r in rows)
    assert all(parse(r["clientTimestamp"]) >= before - timedelta(seconds=1) for r in rows)
    assert len({r["idempotencyKey"] for r in rows}) == 2
    stored = await ConsentEvent.filter(subject=account_subject(pk(alice.id))).order_by("seq")
    assert [e.hash for e in stored] == [r["hash"] for r in rows]
    assert stored[1].prev_hash == stored[0].hash
    # The client's address is kept truncated to its /24; the user agent as sent.
    assert {e.client_address for e in stored} == {"203.0.113.0"}
    assert {e.user_agent for e in stored} == {"AccordTest/1.0"}
    head = await ConsentChain.get(subject=account_subject(pk(alice.id)))
    assert (head.seq, head.hash) == (2, stored[1].hash)


async def test_set_consents_anonymously_with_a_device_id(gql):
    await _policy(gql)
    result = await set_consents(gql, {"personalization": True}, device_id=DEVICE, source="IOS")
    assert result["errors"] == []
    assert result["consents"][0]["deviceId"] == DEVICE
    assert result["consents"][0]["source"] == "IOS"
    assert await ConsentEvent.filter(subject=device_subject(DEVICE)).count() == 1
    signed_out = await set_consents(gql, {"personalization": True})
    assert codes(signed_out["errors"]) == ["NOT_AUTHENTICATED"]
    bad_device = await set_consents(gql, {"personalization": True}, device_id="short")
    assert codes(bad_device["errors"]) == ["INVALID"]
    assert signed_out["consents"] == [] and bad_device["consents"] == []
    assert await ConsentEvent.all().count() == 1


async def test_set_consents_refuses_bad_decisions_whole(gql):
    await _policy(gql, purposes=["necessary", "analytics", "advertising", "personalization"])
    alice = await register(gql, "alice")
    cases = [
        ({"analytics": True, "telepathy": True}, "v1", "UNKNOWN_PURPOSE"),
        ({"analytics": True}, "v404", "UNKNOWN_POLICY_VERSION"),
        ({"analytics": True, "necessary": False}, "v1", "REQUIRED_PURPOSE"),
        ({"activity_log": True}, "v1", "PURPOSE_NOT_IN_POLICY"),
        ({}, "v1", "REQUIRED"),
    ]
    for decisions, version, code in cases:
        result = await set_consents(gql, decisions, version=version, token=alice.token)
        assert codes(result["errors"]) == [code], decisions
        assert result["consents"] == []
    assert await ConsentEvent.all().count() == 0
    # Granting the required purpose is fine (it is a no-op in effect, but recorded).
    ok = await set_consents(gql, {"necessary": True}, token=alice.token)
    assert ok["errors"] == []


async def test_viewer_consents_has_one_row_per_purpose(gql):
    await _policy(gql)
    alice = await register(gql, "alice")
    rows = await consents(gql, alice.token)
    assert set(rows) == {"necessary", *OPTIONAL}
    assert rows["necessary"]["granted"] is True  # required: on without a decision
    for code in OPTIONAL:
        assert rows[code] == {
            "purpose": {"code": code, "required": False},
            "granted": False,
            "policyVersion": None,
            "decidedAt": None,
            "source": None,
        }
    await set_consents(
        gql, {"analytics": True, "advertising": False}, token=alice.token, source="API"
    )
    await set_consents(gql, {"personalization": True}, token=alice.token)
    await set_consents(gql, {"personalization": False}, token=alice.token, source="SUPPORT")
    rows = await consents(gql, alice.token)
    assert len(rows) == 5
    assert rows["analytics"]["granted"] is True
    assert rows["analytics"]["source"] == "API"
    assert rows["analytics"]["policyVersion"] == {"version": "v1"}
    assert rows["analytics"]["decidedAt"] is not None
    assert rows["advertising"]["granted"] is False
    assert rows["advertising"]["decidedAt"] is not None
    assert rows["personalization"]["granted"] is False
    assert rows["personalization"]["source"] == "SUPPORT"
    assert rows["activity_log"]["decidedAt"] is None
    # Someone else's decisions are not mine.
    bob = await register(gql, "bob")
    assert not any(
        r["granted"] for c, r in (await consents(gql, bob.token)).items() if c != "necessary"
    )
    assert (await gql(CONSENTS))["data"]["viewer"] is None


async def test_requires_reconsent_follows_material_versions(gql):
    staff = await officer(gql)
    alice = await register(gql, "alice")
    assert await requires_reconsent(gql, alice.token) is False  # no policy at all
    await published(gql, staff.token, "v1")
    assert await requires_reconsent(gql, alice.token) is False  # not material
    await published(
        gql,
        staff.token,
        "v2",
        material=True,
        categories=["SHARING_RECIPIENTS"],
        effective_at=utcnow() + timedelta(days=14),
    )
    assert await requires_reconsent(gql, alice.token) is False  # material, not in effect yet
    await published(gql, staff.token, "v3", material=True, categories=["SERVICE_MODE"])
    assert await requires_reconsent(gql, alice.token) is True
    assert await accept(gql, "v1", token=alice.token) == []
    assert await requires_reconsent(gql, alice.token) is True  # an older version
    assert codes(await accept(gql, "v404", token=alice.token)) == ["UNKNOWN_POLICY_VERSION"]
    assert await accept(gql, "v3", token=alice.token) == []
    assert await requires_reconsent(gql, alice.token) is False
    bob = await register(gql, "bob")
    assert await requires_reconsent(gql, bob.token) is True  # acceptance is per account
    await published(gql, staff.token, "v4", summary="Typo fixes")
    assert await requires_reconsent(gql, alice.token) is False  # non-material after it
    await published(gql, staff.token, "v5", material=True, categories=["CONTACT_CHANNELS"])
    assert await requires_reconsent(gql, alice.token) is True
    assert await accept(gql, "v5", token=alice.token) == []
    assert await requires_reconsent(gql, alice.token) is False
    accepted = await ConsentEvent.filter(
        subject=account_subject(pk(alice.id)), kind="POLICY_ACCEPTED"
    ).values_list("policy_version", flat=True)
    assert sorted(accepted) == ["v1", "v3", "v5"]


async def test_accept_policy_needs_a_subject(gql):
    await _policy(gql)
    assert codes(await accept(gql, "v1")) == ["NOT_AUTHENTICATED"]
    assert await accept(gql, "v1", device_id=DEVICE) == []
    assert await ConsentEvent.filter(subject=device_subject(DEVICE)).count() == 1


async def test_consent_history_newest_first_with_cursors(gql):
    await _policy(gql)
    alice = await register(gql, "alice")
    bob = await register(gql, "bob")
    await set_consents(gql, {"analytics": True}, token=bob.token)
    for n in range(7):
        await set_consents(gql, {"analytics": n % 2 == 0}, token=alice.token)
    await accept(gql, "v1", token=alice.token)
    seen: list[dict] = []
    after = None
    pages = []
    while True:
        body = await gql(HISTORY, {"first": 3, "after": after}, token=alice.token)
        page = body["data"]["viewer"]["consentHistory"]
        pages.append(len(page["edges"]))
        seen.extend(e["node"] for e in page["edges"])
        if page["edges"]:
            assert page["pageInfo"]["endCursor"] == page["edges"][-1]["cursor"]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert pages == [3, 3, 2]
    assert [n["seq"] for n in seen] == list(range(8, 0, -1))
    assert seen[0]["kind"] == "POLICY_ACCEPTED" and seen[0]["purpose"] is None
    assert [n["granted"] for n in seen[1:]] == [n % 2 == 0 for n in range(6, -1, -1)]
    assert len({n["id"] for n in seen}) == 8
    everything = await gql(HISTORY, {"first": 50}, token=alice.token)
    history = everything["data"]["viewer"]["consentHistory"]
    assert [e["node"]["id"] for e in history["edges"]] == [n["id"] for n in seen]
    assert history["pageInfo"]["hasNextPage"] is False
    assert (await gql(HISTORY, {"first": 5}))["data"]["viewer"] is None
    for forged in ("bm9wZQ==", base64.urlsafe_b64encode(b"id:" + b"9" * 30).decode()):
        body = await gql(HISTORY, {"first": 5, "after": forged}, token=alice.token)
        assert body["data"]["viewer"]["consentHistory"]["edges"] == []


async def test_latest_client_timestamp_decides_even_when_synced_later(gql):
    await _policy(gql)
    alice = await register(gql, "alice")
    moment = utcnow() - timedelta(minutes=1)
    newer = event("analytics", True, at=moment)
    older = event("analytics", False, at=moment - timedelta(hours=3))
    assert (await sync(gql, [newer], device_id=device_id("phone-0001"), token=alice.token))[
        "errors"
    ] == []
    # The older, offline decision reaches the server afterwards: it is recorded...
    late = await sync(gql, [older], device_id=device_id("tablet-001"), token=alice.token)
    assert [r["status"] for r in late["results"]] == ["ACCEPTED"]
    # ...but does not override the newer one.
    rows = await consents(gql, alice.token)
    assert rows["analytics"]["granted"] is True
    assert parse(rows["analytics"]["decidedAt"]) == parse(newer["clientTimestamp"])
    assert rows["analytics"]["source"] == "IOS"
    # An even newer decision, in either order, does.
    newest = event("analytics", False, at=moment + timedelta(seconds=30), source="ANDROID")
    await sync(gql, [newest], device_id=device_id("tablet-001"), token=alice.token)
    rows = await consents(gql, alice.token)
    assert rows["analytics"]["granted"] is False
    assert rows["analytics"]["source"] == "ANDROID"


async def test_ties_in_client_time_are_broken_by_server_order(gql):
    await _policy(gql)
    alice = await register(gql, "alice")
    moment = utcnow() - timedelta(minutes=5)
    first = event("advertising", True, at=moment)
    second = event("advertising", False, at=moment)
    await sync(gql, [first, second], device_id=device_id("phone-0001"), token=alice.token)
    assert (await consents(gql, alice.token))["advertising"]["granted"] is False
    third = event("advertising", True, at=moment)
    await sync(gql, [third], device_id=device_id("phone-0002"), token=alice.token)
    assert (await consents(gql, alice.token))["advertising"]["granted"] is True
    # The same instant written with another UTC offset is still a tie, not "later".
    shifted = event("advertising", False)
    shifted["clientTimestamp"] = moment.astimezone(
        datetime.fromisoformat("2024-01-01T00:00:00+09:00").tzinfo
    ).isoformat()
    await sync(gql, [shifted], device_id=device_id("phone-0003"), token=alice.token)
    assert (await consents(gql, alice.token))["advertising"]["granted"] is False
    # And a decision made earlier, in a far-ahead offset, loses to the stored later one.
    earlier = event("advertising", True)
    earlier["clientTimestamp"] = (
        (moment - timedelta(seconds=1))
        .astimezone(datetime.fromisoformat("2024-01-01T00:00:00+14:00").tzinfo)
        .isoformat()
    )
    await sync(gql, [earlier], device_id=device_id("phone-0003"), token=alice.token)
    assert (await consents(gql, alice.token))["advertising"]["granted"] is False
