"""Linking an anonymous device's consent history to the account that signs in on it."""

from __future__ import annotations

from datetime import timedelta

from models.accounts.account import Account
from models.consent.decisions import link_device
from models.consent.ledger import (
    ConsentEvent,
    DeviceLink,
    EventKind,
    Source,
    account_subject,
    device_subject,
)
from models.keys.device_refs import device_ref
from tests.consent_helpers import (
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
    verify,
)
from tests.device_ids import device_id
from tests.ids import pk

DEVICE = device_id("phone-anon-0001")


async def test_linking_merges_histories_by_client_time(gql):
    staff = await officer(gql)
    await published(gql, staff.token, "v1", material=True, categories=["SERVICE_MODE"])
    alice = await register(gql, "alice")
    t = utcnow() - timedelta(hours=5)
    # Before signing in, on the phone: analytics on (t+2h), advertising on (t+1h); and the
    # phone user accepted the material policy.
    anonymous = await sync(
        gql,
        [
            event("analytics", True, at=t + timedelta(hours=2)),
            event("advertising", True, at=t + timedelta(hours=1)),
        ],
        device_id=DEVICE,
    )
    assert [r["status"] for r in anonymous["results"]] == ["ACCEPTED"] * 2
    assert await accept(gql, "v1", device_id=DEVICE) == []
    # The account, elsewhere: analytics off earlier (t), personalization on, advertising off
    # later (t+3h).
    await sync(
        gql,
        [
            event("analytics", False, at=t),
            event("personalization", True, at=t + timedelta(minutes=5)),
            event("advertising", False, at=t + timedelta(hours=3)),
        ],
        device_id=device_id("laptop-0000-web"),
        token=alice.token,
    )
    before = await consents(gql, alice.token)
    assert before["analytics"]["granted"] is False
    assert await requires_reconsent(gql, alice.token) is True

    account = await Account.get(id=pk(alice.id))
    assert await link_device(DEVICE, account, source=Source.IOS) is True
    assert await link_device(DEVICE, account, source=Source.IOS) is False  # once only
    assert await DeviceLink.filter(device_id=device_ref(DEVICE), account_id=account.id).count() == 1

    after = await consents(gql, alice.token)
    assert after["analytics"]["granted"] is True  # the phone's decision is later
    assert after["analytics"]["source"] == "IOS"
    assert after["advertising"]["granted"] is False  # the account's decision is later
    assert after["personalization"]["granted"] is True
    assert after["activity_log"]["granted"] is False
    assert await requires_reconsent(gql, alice.token) is False  # accepted on the phone

    # The history reads both chains together, and the link itself is recorded.
    body = await gql(HISTORY, {"first": 50}, token=alice.token)
    kinds = [e["node"]["kind"] for e in body["data"]["viewer"]["consentHistory"]["edges"]]
    assert len(kinds) == 7
    assert kinds[0] == "DEVICE_LINKED"
    assert kinds.count("POLICY_ACCEPTED") == 1
    linked = await ConsentEvent.get(
        subject=account_subject(account.id), kind=EventKind.DEVICE_LINKED
    )
    assert linked.device_id == DEVICE and linked.seq == 4

    # Both chains are intact.
    assert (await verify(gql, staff.token, account_id=alice.id)) == {
        "ok": True,
        "checked": 4,
        "firstBrokenEventId": None,
    }
    assert (await verify(gql, staff.token, device_id=DEVICE)) == {
        "ok": True,
        "checked": 3,
        "firstBrokenEventId": None,
    }

    # A newer decision from any side still wins.
    result = await set_consents(gql, {"analytics": False}, token=alice.token, device_id=DEVICE)
    assert result["errors"] == []
    assert (await consents(gql, alice.token))["analytics"]["granted"] is False


async def test_a_linked_device_can_no_longer_write_anonymously(gql):
    staff = await officer(gql)
    await published(gql, staff.token, "v1")
    alice = await register(gql, "alice")
    assert (await set_consents(gql, {"analytics": True}, device_id=DEVICE))["errors"] == []
    await link_device(DEVICE, await Account.get(id=pk(alice.id)), source=Source.ANDROID)
    device_events = await ConsentEvent.filter(subject=device_subject(DEVICE)).count()

    anonymous_set = await set_consents(gql, {"analytics": False}, device_id=DEVICE)
    assert codes(anonymous_set["errors"]) == ["FORBIDDEN"]
    anonymous_sync = await sync(gql, [event("analytics", False)], device_id=DEVICE)
    assert codes(anonymous_sync["errors"]) == ["FORBIDDEN"]
    assert anonymous_sync["results"] == []
    assert codes(await accept(gql, "v1", device_id=DEVICE)) == ["FORBIDDEN"]
    assert await ConsentEvent.filter(subject=device_subject(DEVICE)).count() == device_events

    # Signed in, the same device writes to the account.
    signed_in = await sync(gql, [event("analytics", False)], device_id=DEVICE, token=alice.token)
    assert [r["status"] for r in signed_in["results"]] == ["ACCEPTED"]
    assert (await consents(gql, alice.token))["analytics"]["granted"] is False
    # Other anonymous devices are unaffected.
    other = await set_consents(gql, {"analytics": True}, device_id=device_id("phone-anon-0002"))
    assert other["errors"] == []


async def test_a_device_without_history_is_not_linked(gql):
    alice = await register(gql, "alice")
    account = await Account.get(id=pk(alice.id))
    assert await link_device(device_id("phone-empty-0001"), account, source=Source.IOS) is False
    assert await DeviceLink.all().count() == 0
    assert await ConsentEvent.all().count() == 0


async def test_a_device_belongs_to_one_account(gql):
    staff = await officer(gql)
    await published(gql, staff.token, "v1")
    alice = await register(gql, "alice")
    bob = await register(gql, "bob")
    await set_consents(gql, {"advertising": True}, device_id=DEVICE)
    assert await link_device(DEVICE, await Account.get(id=pk(alice.id)), source=Source.IOS)
    assert not await link_device(DEVICE, await Account.get(id=pk(bob.id)), source=Source.IOS)
    assert (await consents(gql, alice.token))["advertising"]["granted"] is True
    assert (await consents(gql, bob.token))["advertising"]["granted"] is False


async def test_a_batch_retried_after_sign_in_is_not_stored_twice(gql):
    """The phone synced anonymously but lost the answer; the user signs in (the device is
    linked) and the app retries the same batch, now signed in."""
    staff = await officer(gql)
    await published(gql, staff.token, "v1")
    alice = await register(gql, "alice")
    batch = [event("analytics", True), event("advertising", False)]
    first = await sync(gql, batch, device_id=DEVICE)
    assert [r["status"] for r in first["results"]] == ["ACCEPTED"] * 2
    await link_device(DEVICE, await Account.get(id=pk(alice.id)), source=Source.IOS)
    fresh = event("personalization", True)
    retry = await sync(gql, [*batch, fresh], device_id=DEVICE, token=alice.token)
    assert [r["status"] for r in retry["results"]] == ["DUPLICATE", "DUPLICATE", "ACCEPTED"]
    keys = await ConsentEvent.all().values_list("idempotency_key", flat=True)
    assert sorted(keys) == sorted(
        [
            *(e["idempotencyKey"] for e in batch),
            fresh["idempotencyKey"],
            *await ConsentEvent.filter(kind=EventKind.DEVICE_LINKED).values_list(
                "idempotency_key", flat=True
            ),
        ]
    )
    # The account's history (its own chain and its devices') holds each key once.
    other = await sync(gql, batch, device_id=device_id("tablet-0000-x2"), token=alice.token)
    assert [r["status"] for r in other["results"]] == ["DUPLICATE"] * 2
    assert await ConsentEvent.all().count() == 4


async def test_who_may_act_for_a_device_is_one_rule_in_every_domain(gql):
    """Consent decisions, activity records and error reports ask the same question, "may
    this caller act for this device?", and get the same answer: a device registered to an
    account (or linked to it) is that account's alone, refused to everyone else with
    FORBIDDEN on ``deviceId``. Consent used to ask only about links, and only of callers
    signed out: Bob could record decisions tagged with Alice's phone, and anyone holding
    its id could start an anonymous history on it for her next sign-in to take in."""
    from tests.personal_helpers import REGISTER_DEVICE

    staff = await officer(gql)
    await published(gql, staff.token, "v1")
    alice = await register(gql, "alice")
    bob = await register(gql, "bob")
    body = await gql(REGISTER_DEVICE, {"input": {"deviceId": DEVICE}}, token=alice.token)
    assert body["data"]["registerDevice"]["errors"] == []

    for token in (bob.token, None):
        refused = await set_consents(gql, {"analytics": True}, token=token, device_id=DEVICE)
        assert [(e["code"], e["field"]) for e in refused["errors"]] == [("FORBIDDEN", "deviceId")]
        refused_sync = await sync(gql, [event("analytics", True)], token=token, device_id=DEVICE)
        assert codes(refused_sync["errors"]) == ["FORBIDDEN"]
        assert codes(await accept(gql, "v1", token=token, device_id=DEVICE)) == ["FORBIDDEN"]
    assert DEVICE not in [e.device_id for e in await ConsentEvent.all()]

    # Its own account acts for it.
    mine = await set_consents(gql, {"analytics": True}, token=alice.token, device_id=DEVICE)
    assert mine["errors"] == []


DEVICE_CONSENTS = (
    """query($d: String!) { deviceConsents(deviceId: $d) { purpose { code } granted } }"""
)


async def test_an_anonymous_devices_consents_are_read_by_its_id(gql):
    """``deviceConsents``: what a downstream tag manager asks of a device without an account;
    the id is the secret, and a device that belongs to an account answers only it."""
    staff = await officer(gql)
    await published(gql, staff.token, "v1")
    assert (await set_consents(gql, {"advertising": True}, device_id=DEVICE))["errors"] == []

    async def read(device: str, token: str | None = None) -> dict:
        return await gql(DEVICE_CONSENTS, {"d": device}, token=token, expect_errors=True)

    granted = {
        r["purpose"]["code"]: r["granted"] for r in (await read(DEVICE))["data"]["deviceConsents"]
    }
    assert granted["advertising"] is True and granted["analytics"] is False
    fresh = (await read(device_id("phone-anon-0003")))["data"]["deviceConsents"]
    assert not any(r["granted"] for r in fresh if r["purpose"]["code"] == "advertising")

    bad = await read("short")
    assert bad["data"] is None and bad["errors"][0]["extensions"]["code"] == "INVALID"

    alice = await register(gql, "alice")
    await link_device(DEVICE, await Account.get(id=pk(alice.id)), source=Source.IOS)
    refused = await read(DEVICE)
    assert refused["data"] is None
    assert refused["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    mine = (await read(DEVICE, alice.token))["data"]["deviceConsents"]
    assert {r["purpose"]["code"]: r["granted"] for r in mine}["advertising"] is True
