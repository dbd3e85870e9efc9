"""Devices and cookies: registering an identifier, and clearing everything tied to it."""

from __future__ import annotations

import pytest

from models.consent.ledger import ConsentChain, ConsentEvent, DeviceLink, account_subject
from models.keys.device_refs import device_ref, device_subject
from models.personal.activity import ClickRecord, SearchRecord
from models.personal.devices import Device
from models.personal.error_reports import ErrorReport
from tests.device_ids import device_id
from tests.ids import pk
from tests.personal_helpers import (
    CLEAR_DEVICE,
    RECORD_CLICK,
    RECORD_SEARCH,
    REGISTER_DEVICE,
    REPORT_ERROR,
    codes,
    decide_activity_log,
    register,
)

DEVICE = device_id("device-0001-abcdef")
OTHER = device_id("device-0002-abcdef")
ZERO = {"searchRecords": 0, "clickRecords": 0, "errorReports": 0, "consentEvents": 0, "devices": 0}


async def register_device(gql, device_id=DEVICE, token=None, **fields):
    body = await gql(REGISTER_DEVICE, {"input": {"deviceId": device_id, **fields}}, token=token)
    return body["data"]["registerDevice"]


async def clear(gql, device_id=DEVICE, token=None):
    body = await gql(CLEAR_DEVICE, {"deviceId": device_id}, token=token)
    return body["data"]["clearDeviceData"]


async def use(gql, device_id, *, token=None, searches=1, clicks=1, reports=1):
    """Activity and error reports from a device (its owner must have consented)."""
    for i in range(searches):
        body = await gql(
            RECORD_SEARCH, {"input": {"keywords": f"k{i}", "deviceId": device_id}}, token=token
        )
        assert body["data"]["recordSearch"] == {"recorded": True, "errors": []}
    for i in range(clicks):
        body = await gql(
            RECORD_CLICK,
            {"input": {"link": f"https://e.example/{i}", "deviceId": device_id}},
            token=token,
        )
        assert body["data"]["recordClick"] == {"recorded": True, "errors": []}
    for i in range(reports):
        body = await gql(
            REPORT_ERROR, {"input": {"message": f"m{i}", "deviceId": device_id}}, token=token
        )
        assert body["data"]["reportError"]["errors"] == []


async def tied_to(device_id: str) -> dict[str, int]:
    subject, ref = device_subject(device_id), device_ref(device_id)  # as the tables hold it
    return {
        "search": await SearchRecord.filter(device_id=ref).count(),
        "click": await ClickRecord.filter(device_id=ref).count(),
        "errors": await ErrorReport.filter(device_id=ref).count(),
        "events": await ConsentEvent.filter(subject=subject).count(),
        "chain": await ConsentChain.filter(subject=subject).count(),
        "device": await Device.filter(device_id=ref).count(),
    }


# --- registerDevice ---------------------------------------------------------------------------


async def test_register_a_device_anonymously_and_refresh_it(gql):
    result = await register_device(
        gql, platform="android", model="Pixel 8", osVersion="14", appVersion="2.3.1"
    )
    assert result == {"deviceId": DEVICE, "errors": []}
    row = await Device.get(device_id=device_ref(DEVICE))
    assert (row.account_id, row.platform, row.model, row.os_version, row.app_version) == (
        None,
        "android",
        "Pixel 8",
        "14",
        "2.3.1",
    )
    seen = row.last_seen_at
    assert (await register_device(gql, appVersion="2.4.0"))["errors"] == []
    row = await Device.get(device_id=device_ref(DEVICE))
    assert row.app_version == "2.4.0" and row.last_seen_at >= seen
    assert await Device.all().count() == 1


async def test_a_signed_in_user_claims_an_unowned_device(gql):
    alice = await register(gql, "alice")
    await register_device(gql)
    assert (await register_device(gql, token=alice.token))["errors"] == []
    assert (await Device.get(device_id=device_ref(DEVICE))).account_id == pk(alice.id)


async def test_a_device_of_one_account_is_refused_to_another_and_to_the_anonymous(gql):
    alice = await register(gql, "alice")
    bob = await register(gql, "bob")
    assert (await register_device(gql, token=alice.token))["errors"] == []
    assert codes(await register_device(gql, token=bob.token)) == [("FORBIDDEN", "deviceId")]
    assert codes(await register_device(gql, model="stolen")) == [("FORBIDDEN", "deviceId")]
    row = await Device.get(device_id=device_ref(DEVICE))
    assert row.account_id == pk(alice.id) and row.model == ""


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"deviceId": "short"}, "deviceId"),
        ({"deviceId": "with spaces here"}, "deviceId"),
        ({"platform": "p" * 33}, "platform"),
        ({"model": "m" * 101}, "model"),
        ({"osVersion": "o" * 51}, "osVersion"),
        ({"appVersion": "a" * 51}, "appVersion"),
        ({"model": "new\nline"}, "model"),
    ],
)
async def test_register_device_validates(gql, fields, field):
    given = {"deviceId": DEVICE, **fields}
    body = await gql(REGISTER_DEVICE, {"input": given})
    assert codes(body["data"]["registerDevice"]) == [("INVALID", field)]
    assert await Device.all().count() == 0


# --- clearDeviceData --------------------------------------------------------------------------


async def test_clear_deletes_everything_tied_to_an_anonymous_device(gql):
    for device in (DEVICE, OTHER):
        await register_device(gql, device)
        await decide_activity_log(gql, True, device_id=device)
        await use(gql, device, searches=2, clicks=1, reports=1)
    events = await ConsentEvent.filter(subject=device_subject(DEVICE)).count()
    assert events >= 1
    assert await tied_to(DEVICE) == {
        "search": 2,
        "click": 1,
        "errors": 1,
        "events": events,
        "chain": 1,
        "device": 1,
    }
    untouched = await tied_to(OTHER)

    result = await clear(gql)
    assert result["errors"] == []
    assert result["cleared"] == {
        "searchRecords": 2,
        "clickRecords": 1,
        "errorReports": 1,
        "consentEvents": events,
        "devices": 1,
    }
    assert await tied_to(DEVICE) == dict.fromkeys(untouched, 0)
    assert await tied_to(OTHER) == untouched

    # Nothing is left: clearing again removes nothing, and the device starts afresh.
    assert (await clear(gql))["cleared"] == ZERO
    assert (await gql(RECORD_SEARCH, {"input": {"keywords": "k", "deviceId": DEVICE}}))["data"][
        "recordSearch"
    ]["recorded"] is False


async def test_clearing_an_unknown_device_removes_nothing(gql):
    assert await clear(gql) == {"cleared": ZERO, "errors": []}


async def test_clear_with_a_malformed_device_id_is_invalid(gql):
    assert codes(await clear(gql, "bad")) == [("INVALID", "deviceId")]


async def test_clear_leaves_the_accounts_own_data_alone(gql):
    alice = await register(gql, "alice")
    await register_device(gql, token=alice.token)
    # Alice's consent is given from the device, but it is the account's ledger.
    await decide_activity_log(gql, True, token=alice.token, device_id=DEVICE)
    await use(gql, DEVICE, token=alice.token, searches=2, clicks=2, reports=1)
    body = await gql(RECORD_SEARCH, {"input": {"keywords": "from the web"}}, token=alice.token)
    assert body["data"]["recordSearch"]["recorded"] is True
    body = await gql(REPORT_ERROR, {"input": {"message": "web error"}}, token=alice.token)
    assert body["data"]["reportError"]["errors"] == []
    account_events = await ConsentEvent.filter(subject=account_subject(pk(alice.id))).count()
    assert account_events >= 1

    result = await clear(gql, token=alice.token)
    assert result["errors"] == []
    assert result["cleared"] == {
        "searchRecords": 2,
        "clickRecords": 2,
        "errorReports": 1,
        "consentEvents": 0,
        "devices": 1,
    }
    assert [r.keywords for r in await SearchRecord.all()] == ["from the web"]
    assert [r.message for r in await ErrorReport.all()] == ["web error"]
    assert await ClickRecord.all().count() == 0
    subject = account_subject(pk(alice.id))
    assert await ConsentEvent.filter(subject=subject).count() == account_events
    assert await ConsentChain.filter(subject=subject).exists()


async def test_a_device_of_account_a_cannot_be_cleared_by_b_or_anonymously(gql):
    alice = await register(gql, "alice")
    bob = await register(gql, "bob")
    await register_device(gql, token=alice.token)
    await decide_activity_log(gql, True, token=alice.token)
    await use(gql, DEVICE, token=alice.token)
    before = await tied_to(DEVICE)
    for token in (bob.token, None):
        result = await clear(gql, token=token)
        assert codes(result) == [("FORBIDDEN", "deviceId")]
        assert result["cleared"] is None
    assert await tied_to(DEVICE) == before
    assert (await clear(gql, token=alice.token))["cleared"]["devices"] == 1


async def test_a_device_linked_to_an_account_keeps_its_history_with_the_account(gql):
    alice = await register(gql, "alice")
    bob = await register(gql, "bob")
    await decide_activity_log(gql, True, device_id=DEVICE)
    events = await ConsentEvent.filter(subject=device_subject(DEVICE)).count()
    await DeviceLink.create(device_id=device_ref(DEVICE), account_id=pk(alice.id))

    for token in (None, bob.token):
        assert codes(await clear(gql, token=token)) == [("FORBIDDEN", "deviceId")]
    result = await clear(gql, token=alice.token)
    assert result["errors"] == []
    assert result["cleared"]["consentEvents"] == 0
    assert await ConsentEvent.filter(subject=device_subject(DEVICE)).count() == events


async def test_a_device_linked_to_an_account_cannot_be_claimed_by_another(gql):
    """A device whose consent history was linked to A is A's, registered or not: B cannot
    register it (and then act for it or clear it), nor can an anonymous caller."""
    from models.accounts.account import Account
    from models.consent.decisions import link_device
    from models.consent.ledger import Source

    alice = await register(gql, "alice")
    bob = await register(gql, "bob")
    await decide_activity_log(gql, True, device_id=DEVICE)
    assert await link_device(DEVICE, await Account.get(id=pk(alice.id)), source=Source.IOS)
    await decide_activity_log(gql, True, token=alice.token)
    await use(gql, DEVICE, token=alice.token, reports=0)

    assert codes(await register_device(gql, token=bob.token)) == [("FORBIDDEN", "deviceId")]
    assert codes(await register_device(gql)) == [("FORBIDDEN", "deviceId")]
    assert await Device.all().count() == 0
    assert codes(await clear(gql, token=bob.token)) == [("FORBIDDEN", "deviceId")]
    assert await SearchRecord.filter(device_id=device_ref(DEVICE)).count() == 1

    assert (await register_device(gql, token=alice.token))["errors"] == []
    assert (await Device.get(device_id=device_ref(DEVICE))).account_id == pk(alice.id)
