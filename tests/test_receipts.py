"""consentReceipt: a compact JWS of a Kantara v1.1 receipt, verified with the published key."""

from __future__ import annotations

import base64
import json
from datetime import datetime

import pytest
from joserfc import jwt
from joserfc.errors import BadSignatureError
from joserfc.jwk import KeySet

from models.accounts.account import Account
from models.consent.decisions import link_device
from models.consent.ledger import Source
from tests.consent_helpers import (
    HISTORY,
    accept,
    officer,
    published,
    register,
    set_consents,
)
from tests.device_ids import device_id
from tests.ids import pk

RECEIPT = "query($id: ID!) { consentReceipt(id: $id) }"
POLICY_URL = "https://example.com/privacy/v1"
POLICY_HASH = "5e" * 32


async def _keys(client) -> KeySet:
    response = await client.get("/.well-known/jwks.json")
    assert response.status_code == 200
    body = response.json()
    assert len(body["keys"]) == 1
    public = body["keys"][0]
    assert public["kty"] == "EC" and public["crv"] == "P-256" and public["alg"] == "ES256"
    assert "d" not in public  # never the private part
    return KeySet.import_key_set(body)


async def _receipt(gql, event_id: str, token: str | None) -> str | None:
    return (await gql(RECEIPT, {"id": event_id}, token=token))["data"]["consentReceipt"]


async def test_a_receipt_verifies_with_the_published_key(gql, client, settings):
    staff = await officer(gql)
    await published(gql, staff.token, "v1", url=POLICY_URL, text_sha256=POLICY_HASH)
    alice = await register(gql, "alice")
    result = await set_consents(
        gql, {"advertising": True, "analytics": False}, token=alice.token, source="ANDROID"
    )
    granted, withdrawn = result["consents"]

    receipt = await _receipt(gql, granted["id"], alice.token)
    assert receipt is not None and receipt.count(".") == 2  # compact JWS
    keys = await _keys(client)
    token = jwt.decode(receipt, keys, algorithms=["ES256"])
    assert token.header["alg"] == "ES256"
    assert token.header["kid"] == keys.keys[0].kid
    claims = token.claims

    assert claims["version"] == "KI-CR-v1.1.0"
    assert claims["jurisdiction"] == settings.jurisdiction
    server_time = datetime.fromisoformat(granted["serverTimestamp"].replace("Z", "+00:00"))
    assert claims["consentTimestamp"] == int(server_time.timestamp())
    assert "ANDROID" in claims["collectionMethod"]
    assert claims["consentReceiptID"]
    assert claims["piiPrincipalId"] == f"account:{pk(alice.id)}"
    assert claims["piiControllers"] == [
        {
            "piiController": settings.controller_name,
            "contact": settings.controller_contact,
            "email": settings.controller_email,
            "phone": settings.controller_phone,
            "address": {"streetAddress": settings.controller_address},
        }
    ]
    assert claims["policyUrl"] == POLICY_URL
    assert claims["policyHash"] == POLICY_HASH
    assert claims["eventHash"] == granted["hash"]
    [service] = claims["services"]
    [purpose] = service["purposes"]
    assert purpose["purposeCode"] == "advertising"
    assert purpose["purposeCategory"] == ["Marketing"]
    assert purpose["consentType"] == "EXPLICIT"
    assert purpose["decision"] == "granted"
    assert purpose["thirdPartyDisclosure"] is True

    other = jwt.decode(
        await _receipt(gql, withdrawn["id"], alice.token), keys, algorithms=["ES256"]
    ).claims
    assert other["eventHash"] == withdrawn["hash"]
    assert other["services"][0]["purposes"][0]["decision"] == "withdrawn"
    assert other["consentReceiptID"] != claims["consentReceiptID"]


async def test_a_tampered_receipt_does_not_verify(gql, client):
    staff = await officer(gql)
    await published(gql, staff.token, "v1")
    alice = await register(gql, "alice")
    [row] = (await set_consents(gql, {"advertising": False}, token=alice.token))["consents"]
    receipt = await _receipt(gql, row["id"], alice.token)
    header, payload, signature = receipt.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims["services"][0]["purposes"][0]["decision"] = "granted"
    forged = base64.urlsafe_b64encode(json.dumps(claims).encode()).decode().rstrip("=")
    with pytest.raises(BadSignatureError):
        jwt.decode(f"{header}.{forged}.{signature}", await _keys(client), algorithms=["ES256"])


async def test_a_policy_published_as_text_is_named_by_its_hash(gql, client):
    staff = await officer(gql)
    policy = await published(gql, staff.token, "v1", text="Full text of the policy.")
    alice = await register(gql, "alice")
    assert await accept(gql, "v1", token=alice.token) == []
    body = await gql(HISTORY, {"first": 1}, token=alice.token)
    node = body["data"]["viewer"]["consentHistory"]["edges"][0]["node"]
    assert node["kind"] == "POLICY_ACCEPTED"
    claims = jwt.decode(
        await _receipt(gql, node["id"], alice.token), await _keys(client), algorithms=["ES256"]
    ).claims
    assert claims["policyHash"] == policy["textSha256"]
    assert claims["policyVersion"] == "v1"
    assert claims["services"][0]["purposes"] == []


async def test_only_the_principal_gets_the_receipt(gql):
    staff = await officer(gql)
    await published(gql, staff.token, "v1")
    alice = await register(gql, "alice")
    bob = await register(gql, "bob")
    [row] = (await set_consents(gql, {"analytics": True}, token=alice.token))["consents"]
    assert await _receipt(gql, row["id"], bob.token) is None
    assert await _receipt(gql, row["id"], None) is None
    assert await _receipt(gql, row["id"], alice.token) is not None
    assert await _receipt(gql, "999999", alice.token) is None
    assert await _receipt(gql, "not-an-id", alice.token) is None
    # An anonymous device's receipts become the account's once the device is linked.
    [anonymous] = (
        await set_consents(gql, {"analytics": True}, device_id=device_id("phone-0000-x1"))
    )["consents"]
    assert await _receipt(gql, anonymous["id"], alice.token) is None
    await link_device(
        device_id("phone-0000-x1"), await Account.get(id=pk(alice.id)), source=Source.IOS
    )
    assert await _receipt(gql, anonymous["id"], alice.token) is not None
    assert await _receipt(gql, anonymous["id"], bob.token) is None


async def test_an_out_of_range_id_is_just_not_found(gql):
    alice = await register(gql, "alice")
    assert await _receipt(gql, "9" * 30, alice.token) is None
    assert await _receipt(gql, "-1", alice.token) is None
