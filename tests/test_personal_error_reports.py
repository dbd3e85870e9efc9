"""Client error reports through the API: signed in or anonymous with a device id, size-limited,
with the device configuration as a JSON object."""

from __future__ import annotations

import pytest

from models.keys.device_refs import device_ref
from models.personal.error_reports import ErrorReport
from tests.device_ids import device_id
from tests.ids import pk
from tests.personal_helpers import REGISTER_DEVICE, REPORT_ERROR, codes, register

DEVICE = device_id("device-0001-abcdef")


async def report(gql, token=None, **fields):
    given = {"message": "NullPointerException", **fields}
    body = await gql(REPORT_ERROR, {"input": given}, token=token)
    return body["data"]["reportError"]


async def test_report_error_signed_in(gql):
    alice = await register(gql, "alice")
    config = {"os": "Android 14", "memoryMb": 4096, "flags": ["a", "b"], "nested": {"x": 1}}
    result = await report(
        gql,
        alice.token,
        stack="at Main.run(Main.java:10)",
        deviceConfig=config,
        appVersion="2.3.1",
    )
    assert result["errors"] == []
    row = await ErrorReport.get(id=int(result["id"]))
    assert row.account_id == pk(alice.id)
    assert row.device_id is None
    assert row.message == "NullPointerException"
    assert row.stack == "at Main.run(Main.java:10)"
    assert row.device_config == config
    assert row.app_version == "2.3.1"
    assert row.client_address == "203.0.113.0"


async def test_report_error_signed_in_with_a_device(gql):
    alice = await register(gql, "alice")
    result = await report(gql, alice.token, deviceId=DEVICE)
    assert result["errors"] == []
    row = await ErrorReport.get(id=int(result["id"]))
    assert (row.account_id, row.device_id) == (pk(alice.id), device_ref(DEVICE))


async def test_report_error_anonymously_with_a_device_id(gql):
    result = await report(gql, deviceId=DEVICE, deviceConfig={"screen": "1080x2400"})
    assert result["errors"] == []
    row = await ErrorReport.get(id=int(result["id"]))
    assert row.account_id is None
    assert row.device_id == device_ref(DEVICE)  # its reference, never the id
    assert row.device_config == {"screen": "1080x2400"}
    assert row.stack == "" and row.app_version == ""


async def test_report_error_without_sign_in_or_device_is_not_authenticated(gql):
    result = await report(gql)
    assert codes(result) == [("NOT_AUTHENTICATED", "deviceId")]
    assert result["id"] is None
    assert await ErrorReport.all().count() == 0


@pytest.mark.parametrize("device_id", ["short", "has spaces in it", "x" * 129, "emoji-😀-device"])
async def test_report_error_with_a_malformed_device_id_is_invalid(gql, device_id):
    result = await report(gql, deviceId=device_id)
    assert codes(result) == [("INVALID", "deviceId")]
    assert await ErrorReport.all().count() == 0


async def test_a_report_over_64_kib_is_too_large(gql, settings):
    assert settings.error_report_max_bytes == 65_536
    alice = await register(gql, "alice")
    result = await report(gql, alice.token, message="m" * 40_000, stack="s" * 30_000)
    assert codes(result) == [("TOO_LARGE", None)]
    assert result["id"] is None
    big_config = await report(gql, alice.token, deviceConfig={"dump": "x" * 70_000})
    assert codes(big_config) == [("TOO_LARGE", None)]
    assert await ErrorReport.all().count() == 0
    # Multi-byte characters count as the bytes they take, not as characters.
    wide = await report(gql, alice.token, message="é" * 33_000)
    assert codes(wide) == [("TOO_LARGE", None)]
    fits = await report(gql, alice.token, message="m" * 30_000, stack="s" * 30_000)
    assert fits["errors"] == []


async def test_the_size_limit_is_configurable(gql, app_with):
    from tests.personal_helpers import REPORT_ERROR as DOC

    async with app_with(error_report_max_bytes=2048) as other:
        response = await other.post(
            "/graphql",
            json={
                "query": DOC,
                "variables": {"input": {"message": "m" * 2049, "deviceId": DEVICE}},
            },
        )
        assert codes(response.json()["data"]["reportError"]) == [("TOO_LARGE", None)]


@pytest.mark.parametrize("config", [[1, 2, 3], "a string", 42, True])
async def test_device_config_must_be_a_json_object(gql, config):
    alice = await register(gql, "alice")
    result = await report(gql, alice.token, deviceConfig=config)
    assert codes(result) == [("INVALID", "deviceConfig")]
    assert await ErrorReport.all().count() == 0


@pytest.mark.parametrize("message", ["", "   "])
async def test_a_report_needs_a_message(gql, message):
    alice = await register(gql, "alice")
    result = await report(gql, alice.token, message=message)
    assert codes(result) == [("REQUIRED", "message")]


async def test_an_app_version_over_50_characters_is_invalid(gql):
    result = await report(gql, deviceId=DEVICE, appVersion="1" * 51)
    assert codes(result) == [("INVALID", "appVersion")]
    assert await ErrorReport.all().count() == 0


async def test_a_device_of_another_account_cannot_report_for_it(gql):
    alice = await register(gql, "alice")
    bob = await register(gql, "bob")
    body = await gql(REGISTER_DEVICE, {"input": {"deviceId": DEVICE}}, token=alice.token)
    assert body["data"]["registerDevice"]["errors"] == []
    for token in (bob.token, None):
        result = await report(gql, token, deviceId=DEVICE)
        assert codes(result) == [("FORBIDDEN", "deviceId")]
    assert await ErrorReport.all().count() == 0
    assert (await report(gql, alice.token, deviceId=DEVICE))["errors"] == []
