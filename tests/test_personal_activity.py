"""Search and click records: stored only while the subject consents to ``activity_log``,
validated, and removed after the retention period."""

from __future__ import annotations

from datetime import timedelta

import pytest

from models.clock import now
from models.keys.device_refs import device_ref
from models.personal.activity import ClickRecord, SearchRecord
from models.personal.retention import clean_up
from tests.device_ids import device_id
from tests.ids import pk
from tests.personal_helpers import (
    RECORD_CLICK,
    RECORD_SEARCH,
    codes,
    decide_activity_log,
    ensure_policy,
    register,
)

DEVICE = device_id("device-0001-abcdef")
OTHER_DEVICE = device_id("device-0002-abcdef")
AGENT = {"user-agent": "AccordTest/1.0 (Linux)"}


async def search(gql, keywords="red shoes", *, token=None, device_id=None, headers=None):
    given = {"keywords": keywords}
    if device_id is not None:
        given["deviceId"] = device_id
    body = await gql(RECORD_SEARCH, {"input": given}, token=token, headers=headers)
    return body["data"]["recordSearch"]


async def click(
    gql, link="https://shop.example.com/p/1", *, token=None, device_id=None, headers=None
):
    given = {"link": link}
    if device_id is not None:
        given["deviceId"] = device_id
    body = await gql(RECORD_CLICK, {"input": given}, token=token, headers=headers)
    return body["data"]["recordClick"]


async def nothing_stored() -> bool:
    return await SearchRecord.all().count() == 0 and await ClickRecord.all().count() == 0


async def test_without_consent_nothing_is_recorded(gql):
    await ensure_policy()
    alice = await register(gql, "alice")
    for kw in (
        {"token": alice.token},
        {"device_id": DEVICE},
        {"token": alice.token, "device_id": DEVICE},
        {},
    ):
        assert await search(gql, **kw) == {"recorded": False, "errors": []}
        assert await click(gql, **kw) == {"recorded": False, "errors": []}
    assert await nothing_stored()


async def test_a_signed_in_user_who_consents_is_recorded(gql):
    alice = await register(gql, "alice")
    await decide_activity_log(gql, True, token=alice.token)
    assert await search(
        gql, "  red   shoes ", token=alice.token, device_id=DEVICE, headers=AGENT
    ) == {"recorded": True, "errors": []}
    assert await click(gql, token=alice.token, device_id=DEVICE, headers=AGENT) == {
        "recorded": True,
        "errors": [],
    }
    before = now()
    searched = await SearchRecord.get()
    assert searched.account_id == pk(alice.id)
    assert searched.keywords == "red shoes"
    assert searched.device_id == device_ref(DEVICE)  # its reference, never the id
    assert searched.client_address == "203.0.113.0"
    assert searched.user_agent == "AccordTest/1.0 (Linux)"
    assert before - timedelta(minutes=1) < searched.recorded_at <= before
    clicked = await ClickRecord.get()
    assert clicked.account_id == pk(alice.id)
    assert clicked.link == "https://shop.example.com/p/1"
    assert clicked.device_id == device_ref(DEVICE)
    assert clicked.client_address == "203.0.113.0"
    assert clicked.user_agent == "AccordTest/1.0 (Linux)"


async def test_an_anonymous_device_that_consents_is_recorded(gql):
    await decide_activity_log(gql, True, device_id=DEVICE)
    assert (await search(gql, device_id=DEVICE, headers=AGENT))["recorded"] is True
    assert (await click(gql, "http://example.org/x?y=1", device_id=DEVICE))["recorded"] is True
    row = await SearchRecord.get()
    assert (row.account_id, row.device_id, row.client_address) == (
        None,
        device_ref(DEVICE),
        "203.0.113.0",
    )
    assert (await ClickRecord.get()).link == "http://example.org/x?y=1"


async def test_an_untrusted_forwarded_for_header_is_not_believed(gql):
    await decide_activity_log(gql, True, device_id=DEVICE)
    await search(gql, device_id=DEVICE, headers={"x-forwarded-for": "198.51.100.9"})
    assert (await SearchRecord.get()).client_address == "203.0.113.0"


async def test_someone_elses_consent_does_not_count(gql):
    alice = await register(gql, "alice")
    bob = await register(gql, "bob")
    await decide_activity_log(gql, True, token=alice.token)
    await decide_activity_log(gql, True, device_id=DEVICE)
    assert (await search(gql, token=bob.token))["recorded"] is False
    assert (await click(gql, device_id=OTHER_DEVICE))["recorded"] is False
    assert (await search(gql))["recorded"] is False
    assert await nothing_stored()


async def test_withdrawing_consent_stops_recording(gql):
    alice = await register(gql, "alice")
    await decide_activity_log(gql, True, token=alice.token)
    assert (await search(gql, token=alice.token))["recorded"] is True
    await decide_activity_log(gql, False, token=alice.token)
    assert (await search(gql, "again", token=alice.token))["recorded"] is False
    assert (await click(gql, token=alice.token))["recorded"] is False
    # Withdrawing also erased what was kept (tests/test_withdrawal_erases.py).
    assert await nothing_stored()
    await decide_activity_log(gql, True, token=alice.token)
    assert (await click(gql, token=alice.token))["recorded"] is True


async def test_an_anonymous_device_withdrawing_stops_recording(gql):
    await decide_activity_log(gql, True, device_id=DEVICE)
    assert (await click(gql, device_id=DEVICE))["recorded"] is True
    await decide_activity_log(gql, False, device_id=DEVICE)
    assert (await click(gql, device_id=DEVICE))["recorded"] is False
    assert await nothing_stored()


@pytest.mark.parametrize(
    "link",
    [
        "javascript:alert(1)",
        "ftp://example.com/file",
        "mailto:someone@example.com",
        "data:text/html,<b>x</b>",
        "/relative/path",
        "http://",
        "https:///no-host",
        "",
        "https://example.com/" + "a" * 2049,
    ],
)
async def test_a_link_must_be_an_http_url(gql, link):
    alice = await register(gql, "alice")
    await decide_activity_log(gql, True, token=alice.token)
    result = await click(gql, link, token=alice.token)
    assert codes(result) == [("INVALID", "link")]
    assert result["recorded"] is False
    assert await nothing_stored()


@pytest.mark.parametrize("keywords", ["", "   ", "k" * 201])
async def test_keywords_are_1_to_200_characters(gql, keywords):
    alice = await register(gql, "alice")
    await decide_activity_log(gql, True, token=alice.token)
    assert codes(await search(gql, keywords, token=alice.token)) == [("INVALID", "keywords")]
    assert await nothing_stored()


async def test_a_malformed_device_id_is_invalid(gql):
    assert codes(await search(gql, device_id="bad id")) == [("INVALID", "deviceId")]
    assert codes(await click(gql, device_id="x")) == [("INVALID", "deviceId")]


# --- retention --------------------------------------------------------------------------------


async def test_retention_removes_rows_older_than_the_setting(gql, settings):
    days = settings.activity_retention_days
    moment = now()
    old, recent = moment - timedelta(days=days, hours=1), moment - timedelta(days=days - 1)
    await SearchRecord.bulk_create(
        [SearchRecord(keywords=f"old{i}", device_id=DEVICE, recorded_at=old) for i in range(3)]
        + [SearchRecord(keywords="recent", device_id=DEVICE, recorded_at=recent)]
    )
    await ClickRecord.bulk_create(
        [
            ClickRecord(link="https://old.example", device_id=DEVICE, recorded_at=old),
            ClickRecord(link="https://new.example", device_id=DEVICE, recorded_at=moment),
        ]
    )
    removed = await clean_up(settings)
    assert removed["activity"] == 4
    assert [r.keywords for r in await SearchRecord.all()] == ["recent"]
    assert [r.link for r in await ClickRecord.all()] == ["https://new.example"]
    assert (await clean_up(settings))["activity"] == 0


async def test_retention_works_in_batches(gql, settings):
    small = settings.model_copy(update={"sweep_batch_size": 2, "activity_retention_days": 7})
    old = now() - timedelta(days=8)
    await SearchRecord.bulk_create(
        [
            SearchRecord(device_id=device_ref(DEVICE), keywords=f"k{i}", recorded_at=old)
            for i in range(5)
        ]
        + [
            SearchRecord(
                device_id=device_ref(DEVICE), keywords="week", recorded_at=now() - timedelta(days=6)
            )
        ]
    )
    await ClickRecord.bulk_create(
        [
            ClickRecord(device_id=device_ref(DEVICE), link="https://x.example", recorded_at=old)
            for _ in range(3)
        ]
    )
    assert (await clean_up(small))["activity"] == 8
    assert [r.keywords for r in await SearchRecord.all()] == ["week"]
    assert await ClickRecord.all().count() == 0


async def test_an_ipv6_client_address_is_kept_to_its_48_bit_network(gql, app):
    import httpx

    await decide_activity_log(gql, True, device_id=DEVICE)
    transport = httpx.ASGITransport(app=app, client=("2001:db8:1234:5678::9", 40000))
    async with httpx.AsyncClient(transport=transport, base_url="http://accord.test") as http:
        response = await http.post(
            "/graphql",
            json={
                "query": RECORD_SEARCH,
                "variables": {"input": {"keywords": "k", "deviceId": DEVICE}},
            },
        )
    assert response.json()["data"]["recordSearch"]["recorded"] is True
    assert (await SearchRecord.get()).client_address == "2001:db8:1234::"
