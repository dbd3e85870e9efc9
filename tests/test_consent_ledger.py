"""verifyConsentLedger: recompute a subject's hash chain and report the first broken event."""

from __future__ import annotations

from datetime import timedelta

from models.accounts.account import Role
from models.consent.ledger import (
    ConsentChain,
    ConsentEvent,
    account_subject,
    device_subject,
    key_subject,
)
from models.keys.sealed_fields import sealed
from tests.consent_helpers import (
    VERIFY,
    event,
    officer,
    published,
    register,
    set_consents,
    sync,
    utcnow,
    verify,
)
from tests.device_ids import device_id
from tests.ids import gid, pk


async def _ledger(gql, n: int = 6):
    staff = await officer(gql)
    await published(gql, staff.token, "v1")
    alice = await register(gql, "alice")
    start = utcnow() - timedelta(hours=1)
    batch = [event("analytics", i % 2 == 0, at=start + timedelta(seconds=i)) for i in range(n)]
    await sync(gql, batch, device_id=device_id("phone-0000-led"), token=alice.token)
    rows = await ConsentEvent.filter(subject=account_subject(pk(alice.id))).order_by("seq")
    assert len(rows) == n
    return staff, alice, rows


async def test_an_untouched_chain_verifies(gql):
    staff, alice, _ = await _ledger(gql)
    assert await verify(gql, staff.token, account_id=alice.id) == {
        "ok": True,
        "checked": 6,
        "firstBrokenEventId": None,
    }
    # A subject without events is an empty, intact chain.
    bob = await register(gql, "bob")
    assert await verify(gql, staff.token, account_id=bob.id) == {
        "ok": True,
        "checked": 0,
        "firstBrokenEventId": None,
    }
    await set_consents(gql, {"analytics": True}, device_id=device_id("phone-0000-anon"))
    assert (await verify(gql, staff.token, device_id=device_id("phone-0000-anon")))["checked"] == 1


async def test_an_edited_purpose_is_reported_at_that_event(gql):
    staff, alice, rows = await _ledger(gql)
    await ConsentEvent.filter(id=rows[2].id).update(purpose_code="advertising")
    assert await verify(gql, staff.token, account_id=alice.id) == {
        "ok": False,
        "checked": 2,
        "firstBrokenEventId": gid("ConsentEvent", rows[2].id),
    }


async def test_every_recorded_field_is_covered(gql):
    staff, alice, rows = await _ledger(gql)
    edits = [
        {"client_address": "198.51.100.0"},
        {"user_agent": "forged"},
        {"kind": "WITHDRAWN" if rows[3].kind == "GRANTED" else "GRANTED"},
        {"client_timestamp": rows[3].client_timestamp + timedelta(seconds=1)},
        {"server_timestamp": rows[3].server_timestamp - timedelta(days=1)},
        {"policy_version": "v2"},
        {"source": "SUPPORT"},
        {"device_id": device_id("someone-else")},
        {"idempotency_key": "00000000-0000-0000-0000-000000000000"},
    ]

    async def stored(change: dict) -> dict:
        """A sealed column takes a sealed value: as written by someone holding the key."""
        owner = key_subject(rows[3].subject)
        assert owner is not None
        return {
            name: await sealed(ConsentEvent, name, owner, value)
            if name in ("user_agent", "client_address", "device_id")
            else value
            for name, value in change.items()
        }

    for change in edits:
        original = {name: getattr(rows[3], name) for name in change}
        await ConsentEvent.filter(id=rows[3].id).update(**await stored(change))
        check = await verify(gql, staff.token, account_id=alice.id)
        assert check == {
            "ok": False,
            "checked": 3,
            "firstBrokenEventId": gid("ConsentEvent", rows[3].id),
        }, change
        await ConsentEvent.filter(id=rows[3].id).update(**await stored(original))
        assert (await verify(gql, staff.token, account_id=alice.id))["ok"] is True, change


async def test_a_rehashed_edit_breaks_the_next_link(gql):
    """Editing an event and recomputing its own hash still breaks the chain after it."""
    from models.consent.ledger import chain_hash

    staff, alice, rows = await _ledger(gql)
    target = rows[1]
    target.purpose_code = "advertising"
    forged = chain_hash(target.prev_hash, target)
    await ConsentEvent.filter(id=target.id).update(purpose_code="advertising", hash=forged)
    assert await verify(gql, staff.token, account_id=alice.id) == {
        "ok": False,
        "checked": 2,
        "firstBrokenEventId": gid("ConsentEvent", rows[2].id),
    }


async def test_a_deleted_event_is_reported(gql):
    staff, alice, rows = await _ledger(gql)
    await ConsentEvent.filter(id=rows[3].id).delete()
    check = await verify(gql, staff.token, account_id=alice.id)
    assert check == {
        "ok": False,
        "checked": 3,
        "firstBrokenEventId": gid("ConsentEvent", rows[4].id),
    }


async def test_a_deleted_last_event_is_reported(gql):
    staff, alice, rows = await _ledger(gql)
    await ConsentEvent.filter(id=rows[-1].id).delete()
    check = await verify(gql, staff.token, account_id=alice.id)
    assert check["ok"] is False and check["checked"] == 5


async def test_a_rewound_head_is_reported(gql):
    staff, alice, rows = await _ledger(gql)
    await ConsentChain.filter(subject=account_subject(pk(alice.id))).update(
        seq=4, hash=rows[3].hash
    )
    assert (await verify(gql, staff.token, account_id=alice.id))["ok"] is False


async def test_a_deleted_head_is_reported(gql):
    """Events without a head: the chain's end is no longer vouched for (as in the audit log)."""
    staff, alice, rows = await _ledger(gql)
    await ConsentChain.filter(subject=account_subject(pk(alice.id))).delete()
    check = await verify(gql, staff.token, account_id=alice.id)
    assert check == {
        "ok": False,
        "checked": 6,
        "firstBrokenEventId": gid("ConsentEvent", rows[-1].id),
    }


async def test_reordered_events_are_reported(gql):
    staff, alice, rows = await _ledger(gql)
    await ConsentEvent.filter(id=rows[1].id).update(seq=1000)
    await ConsentEvent.filter(id=rows[2].id).update(seq=2)
    await ConsentEvent.filter(id=rows[1].id).update(seq=3)
    check = await verify(gql, staff.token, account_id=alice.id)
    assert check == {
        "ok": False,
        "checked": 1,
        "firstBrokenEventId": gid("ConsentEvent", rows[2].id),
    }


async def test_a_device_chain_is_checked_by_device_id(gql):
    staff = await officer(gql)
    await published(gql, staff.token, "v1")
    await sync(
        gql,
        [event("analytics", True), event("advertising", True)],
        device_id=device_id("phone-0000-dev"),
    )
    rows = await ConsentEvent.filter(subject=device_subject(device_id("phone-0000-dev"))).order_by(
        "seq"
    )
    assert (await verify(gql, staff.token, device_id=device_id("phone-0000-dev")))["ok"] is True
    owner = key_subject(rows[0].subject)  # the device's own key, named as its chain
    assert owner == rows[0].subject
    forged = await sealed(ConsentEvent, "client_address", owner, "10.0.0.0")
    await ConsentEvent.filter(id=rows[0].id).update(client_address=forged)
    assert await verify(gql, staff.token, device_id=device_id("phone-0000-dev")) == {
        "ok": False,
        "checked": 0,
        "firstBrokenEventId": gid("ConsentEvent", rows[0].id),
    }


async def test_only_privacy_officers_verify(gql):
    staff, alice, _ = await _ledger(gql)
    support = await register(gql, "sam", role=Role.SUPPORT)
    admin = await register(gql, "root", role=Role.ADMIN)
    for token, code in (
        (alice.token, "FORBIDDEN"),
        (support.token, "FORBIDDEN"),
        (None, "NOT_AUTHENTICATED"),
    ):
        body = await gql(VERIFY, {"accountId": alice.id}, token=token, expect_errors=True)
        assert body["data"] is None
        assert [e["extensions"]["code"] for e in body["errors"]] == [code]
    assert (await verify(gql, admin.token, account_id=alice.id))["ok"] is True
    both = await gql(
        VERIFY,
        {"accountId": alice.id, "deviceId": device_id("phone-0000-led")},
        token=staff.token,
        expect_errors=True,
    )
    assert [e["extensions"]["code"] for e in both["errors"]] == ["INVALID"]
    neither = await gql(VERIFY, {}, token=staff.token, expect_errors=True)
    assert [e["extensions"]["code"] for e in neither["errors"]] == ["INVALID"]


async def test_a_malformed_account_id_is_invalid(gql):
    staff, _, _ = await _ledger(gql)
    body = await gql(VERIFY, {"accountId": "alice"}, token=staff.token, expect_errors=True)
    assert body["data"] is None
    assert [e["extensions"]["code"] for e in body["errors"]] == ["INVALID"]
