"""Global Privacy Control (issue 19; CCPA regulations, 11 CCR section 7025): a request with
``Sec-GPC: 1`` opts its subject out of the purposes marked ``gpc_opt_out`` (advertising by
default), recorded once per subject and policy version as a ledger event with source GPC."""

from __future__ import annotations

from models.consent.ledger import ConsentEvent, Source, account_subject, device_subject
from tests.consent_helpers import officer, published, register, set_consents
from tests.device_ids import device_id
from tests.ids import pk

GPC = {"Sec-GPC": "1"}
MINE = """{ viewer { consents { purpose { code } granted }
  consentHistory(first: 50) { edges { node { kind source purpose { code } } } } } }"""
PURPOSES = "{ purposes { code gpcOptOut } }"
DEVICE_CONSENTS = "query($d: String!) { deviceConsents(deviceId: $d) { purpose { code } granted } }"


async def _mine(gql, token: str, headers: dict[str, str] | None = None) -> tuple[dict, list]:
    viewer = (await gql(MINE, token=token, headers=headers))["data"]["viewer"]
    granted = {row["purpose"]["code"]: row["granted"] for row in viewer["consents"]}
    events = [e["node"] for e in viewer["consentHistory"]["edges"]]
    return granted, [e for e in events if e["source"] == "GPC"]


async def test_a_signed_in_request_with_the_signal_opts_out_once_per_version(gql):
    staff = await officer(gql)
    await published(gql, staff.token, "v1")
    listed = {p["code"]: p["gpcOptOut"] for p in (await gql(PURPOSES))["data"]["purposes"]}
    assert listed["advertising"] is True and listed["analytics"] is False
    alice = await register(gql, "alice")
    given = {"advertising": True, "analytics": True}
    assert (await set_consents(gql, given, token=alice.token))["errors"] == []

    granted, honoured = await _mine(gql, alice.token)  # no signal: nothing changes
    assert granted["advertising"] is True and honoured == []
    granted, honoured = await _mine(gql, alice.token, GPC)
    assert (granted["advertising"], granted["analytics"]) == (False, True)
    assert honoured == [{"kind": "WITHDRAWN", "source": "GPC", "purpose": {"code": "advertising"}}]

    # Every later request carries it too: recorded once.
    for _ in range(3):
        await _mine(gql, alice.token, GPC)
    subject = account_subject(pk(alice.id))
    assert await ConsentEvent.filter(subject=subject, source=Source.GPC).count() == 1
    # She consents despite the signal (section 7025(c)(3)): her choice stands.
    regranted = await set_consents(gql, {"advertising": True}, token=alice.token, headers=GPC)
    assert regranted["errors"] == []
    granted, honoured = await _mine(gql, alice.token, GPC)
    assert granted["advertising"] is True and len(honoured) == 1

    # A new version: the signal is honoured again, once.
    await published(gql, staff.token, "v2")
    granted, honoured = await _mine(gql, alice.token, GPC)
    assert granted["advertising"] is False and len(honoured) == 2
    await _mine(gql, alice.token, GPC)
    assert await ConsentEvent.filter(subject=subject, source=Source.GPC).count() == 2


async def test_an_anonymous_device_with_the_signal_opts_out(gql):
    staff = await officer(gql)
    await published(gql, staff.token, "v1")
    device = device_id("browser-gpc")
    assert (await set_consents(gql, {"advertising": True}, device_id=device))["errors"] == []
    before = await gql(DEVICE_CONSENTS, {"d": device})
    assert {r["purpose"]["code"]: r["granted"] for r in before["data"]["deviceConsents"]}[
        "advertising"
    ] is True
    after = await gql(DEVICE_CONSENTS, {"d": device}, headers=GPC)
    assert {r["purpose"]["code"]: r["granted"] for r in after["data"]["deviceConsents"]}[
        "advertising"
    ] is False
    again = await set_consents(gql, {"analytics": True}, device_id=device, headers=GPC)
    assert again["errors"] == []
    gpc = await ConsentEvent.filter(subject=device_subject(device), source=Source.GPC)
    assert [(e.purpose_code, e.kind) for e in gpc] == [("advertising", "WITHDRAWN")]


async def test_which_purposes_the_signal_opts_out_of_is_the_privacy_offices_call(gql):
    staff = await officer(gql)
    changed = await gql(
        """mutation { updatePurpose(input: {code: "analytics", gpcOptOut: true})
        { purpose { code gpcOptOut } errors { code field } } }""",
        token=staff.token,
    )
    assert changed["data"]["updatePurpose"]["purpose"] == {"code": "analytics", "gpcOptOut": True}
    refused = await gql(
        """mutation { updatePurpose(input: {code: "necessary", gpcOptOut: true})
        { purpose { code } errors { code field } } }""",
        token=staff.token,
    )
    assert refused["data"]["updatePurpose"]["errors"] == [{"code": "INVALID", "field": "gpcOptOut"}]
    listed = {p["code"]: p["gpcOptOut"] for p in (await gql(PURPOSES))["data"]["purposes"]}
    assert listed["necessary"] is False and listed["analytics"] is True
