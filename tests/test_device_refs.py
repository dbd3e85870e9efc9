"""A device's id is stored nowhere in the clear (issue 17): the tables that find a device's
rows hold its reference (a keyed hash), its consent chain is named by it, and a consent
event seals the id it shows again. An earlier version's ids are converted by ``accord
migrate``, its device chains rebuilt under the new name."""

from __future__ import annotations

from tortoise import connections

from models.consent.ledger import (
    ConsentChain,
    ConsentEvent,
    DeviceLink,
    EventKind,
    rename_device_chain,
    verify_chain,
)
from models.keys.device_backfill import REFERENCED, convert_device_ids
from models.keys.device_refs import device_ref, device_subject
from models.keys.key_store import SubjectKey
from tests.accounts_api import register
from tests.device_ids import device_id
from tests.personal_helpers import (
    CLEAR_DEVICE,
    RECORD_SEARCH,
    REGISTER_DEVICE,
    REPORT_ERROR,
    decide_activity_log,
)

PHONE = device_id("phone-refs-0001")
TABLET = device_id("tablet-refs-0002")


async def device_columns() -> list[str]:
    """Every value of every ``device_id`` column, and every chain's name, as stored."""
    db = connections.get("default")
    found = []
    for model in REFERENCED:
        rows = await db.execute_query_dict(f'SELECT device_id FROM "{model._meta.db_table}"')
        found += [str(r["device_id"]) for r in rows if r["device_id"] is not None]
    found += [str(s) for s in await ConsentChain.all().values_list("subject", flat=True)]
    return found


async def a_device_that_did_everything(gql) -> None:
    """PHONE, anonymous: consents, a search, an error report, a registration; TABLET: linked
    to an account at its sign-up."""
    await decide_activity_log(gql, True, device_id=PHONE)
    searched = await gql(RECORD_SEARCH, {"input": {"keywords": "boots", "deviceId": PHONE}})
    assert searched["data"]["recordSearch"]["recorded"] is True
    await gql(REPORT_ERROR, {"input": {"message": "crash", "deviceId": PHONE}})
    registered = await gql(REGISTER_DEVICE, {"input": {"deviceId": PHONE, "model": "Pixel"}})
    assert registered["data"]["registerDevice"] == {"deviceId": PHONE, "errors": []}
    await decide_activity_log(gql, True, device_id=TABLET)
    await register(gql, "tess.tablet", deviceId=TABLET)


async def test_no_table_holds_a_device_id(gql):
    await a_device_that_did_everything(gql)
    stored = await device_columns()
    assert device_ref(PHONE) in stored and device_ref(TABLET) in stored
    assert [v for v in stored if PHONE in v or TABLET in v] == []
    assert await DeviceLink.filter(device_id=device_ref(TABLET)).exists()
    # The key store names the device's key by the same reference.
    assert await SubjectKey.filter(subject=device_subject(PHONE)).exists()
    # A consent event shows the id again (sealed in its row).
    [event] = await ConsentEvent.filter(subject=device_subject(PHONE))
    assert event.device_id == PHONE


async def test_an_earlier_versions_device_ids_become_references(gql):
    await a_device_that_did_everything(gql)
    phone_events = await ConsentEvent.filter(subject=device_subject(PHONE)).count()
    # As an earlier version stored them: ids in the clear, chains named by them.
    db = connections.get("default")
    marks = ("$1", "$2") if db.capabilities.dialect == "postgres" else ("?", "?")
    for model in REFERENCED:
        for raw in (PHONE, TABLET):
            await db.execute_query(
                f'UPDATE "{model._meta.db_table}" SET device_id = {marks[0]} '
                f"WHERE device_id = {marks[1]}",
                [raw, device_ref(raw)],
            )
    for raw in (PHONE, TABLET):
        assert await rename_device_chain(device_subject(raw), f"device:{raw}")
    assert [v for v in await device_columns() if PHONE in v]  # the test can fail

    # PHONE's id in Device, SearchRecord and ErrorReport, TABLET's in DeviceLink; 2 chains.
    assert await convert_device_ids() == 4 + 2
    assert [v for v in await device_columns() if PHONE in v or TABLET in v] == []
    check = await verify_chain(device_subject(PHONE))
    assert check.ok and check.checked == phone_events + 2  # the two moves' REKEYED events
    first = await ConsentEvent.get(subject=device_subject(PHONE), seq=1)
    assert first.kind == EventKind.REKEYED and "carried over" in first.detail
    assert await convert_device_ids() == 0  # nothing left: a second run changes nothing

    # The device goes on as before: its consent stands, its data clears.
    searched = await gql(RECORD_SEARCH, {"input": {"keywords": "again", "deviceId": PHONE}})
    assert searched["data"]["recordSearch"]["recorded"] is True
    cleared = (await gql(CLEAR_DEVICE, {"deviceId": PHONE}))["data"]["clearDeviceData"]
    assert cleared["errors"] == []
    assert cleared["cleared"]["searchRecords"] == 2 and cleared["cleared"]["devices"] == 1
    assert not await ConsentChain.filter(subject=device_subject(PHONE)).exists()
