"""Consent anchors (issue 19): the anchor job's signed Merkle roots at
/.well-known/consent-anchors, and receipts whose inclusion proofs verify offline with only
the receipt (or its proof), and the published JWKS."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
from datetime import timedelta

import pytest
from joserfc import jwt
from joserfc.jwk import ECKey, KeySet
from typer.testing import CliRunner

from accord.cli.main import cli
from models import clock as domain_clock
from models.consent.anchor_check import NotVerified, verify_receipt
from tests.conftest import RECEIPT_KEY
from tests.consent_helpers import officer, published, register, set_consents
from tests.device_ids import device_id
from tests.notification_helpers import run_worker
from workers.anchors import anchor_consent_ledger
from workers.sweeper import sweep

RECEIPT = "query($id: ID!) { consentReceipt(id: $id) }"
PROOF = "query($id: ID!) { consentAnchorProof(id: $id) }"
EMPTY_ROOT = hashlib.sha256(b"").hexdigest()


async def run_job(settings) -> int | None:
    """The anchor job, as the worker runs it."""
    return await anchor_consent_ledger({"settings": settings}, 0)


async def jwks(client) -> dict:
    response = await client.get("/.well-known/jwks.json")
    assert response.status_code == 200
    return response.json()


async def anchors(client, query: str = "") -> dict:
    response = await client.get(f"/.well-known/consent-anchors{query}")
    assert response.status_code == 200, response.text
    return response.json()


async def receipt(gql, event_id: str, token: str) -> str:
    return (await gql(RECEIPT, {"id": event_id}, token=token))["data"]["consentReceipt"]


def claims_of(token: str) -> dict:
    payload = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))


def signed(claims: dict) -> str:
    """What a receipt would be if Accord signed a wrong proof (a bug, or a lie): only the
    proof's own checks can catch it."""
    key = ECKey.import_key(RECEIPT_KEY)
    return jwt.encode({"alg": "ES256", "kid": key.thumbprint()}, claims, key)


async def consenting_user(gql, name: str):
    user = await register(gql, name)
    result = await set_consents(gql, {"advertising": True, "analytics": False}, token=user.token)
    return user, result["consents"]


async def test_an_anchor_is_published_signed_and_a_receipt_verifies_offline(
    gql, client, settings, tmp_path
):
    staff = await officer(gql)
    await published(gql, staff.token, "v1")
    alice, (granted, withdrawn) = await consenting_user(gql, "alice")
    await consenting_user(gql, "bob")

    assert await run_job(settings) is not None
    body = await anchors(client)
    [anchor] = body["anchors"]
    assert body["next"] is None and body["keys"] == "/.well-known/jwks.json"
    keys = await jwks(client)
    verified = jwt.decode(anchor["token"], KeySet.import_key_set(keys), algorithms=["ES256"])
    assert verified.claims["rootHash"] == anchor["rootHash"] != EMPTY_ROOT
    assert verified.claims["treeSize"] == anchor["treeSize"] == 2  # alice's and bob's chains
    assert verified.claims["anchorPeriod"] == anchor["period"]
    assert verified.claims["previousRootHash"] is None
    # No personal data: no chain name, no account id.
    assert "account:" not in json.dumps(body)

    # The first decision of alice's pair: its chain's head in the anchor is the second,
    # so the proof carries the event after it.
    token = await receipt(gql, granted["id"], alice.token)
    claims = claims_of(token)
    assert claims["anchor"]["headSeq"] == claims["eventSeq"] + 1
    assert len(claims["anchor"]["eventsAfter"]) == 1
    result = verify_receipt(token, keys)  # the receipt and the keys, nothing else
    assert (result.root_hash, result.anchor_period) == (anchor["rootHash"], anchor["period"])
    assert verify_receipt(await receipt(gql, withdrawn["id"], alice.token), keys)

    # The same, with the command a regulator runs.
    (tmp_path / "receipt.jwt").write_text(token)
    (tmp_path / "jwks.json").write_text(json.dumps(keys))
    ran = CliRunner().invoke(
        cli,
        ["anchors", "verify", str(tmp_path / "receipt.jwt"), "--jwks", str(tmp_path / "jwks.json")],
    )
    assert ran.exit_code == 0, ran.output
    assert "VERIFIED" in ran.output and anchor["rootHash"] in ran.output


async def test_a_tampered_proof_or_leaf_fails(gql, client, settings, tmp_path):
    staff = await officer(gql)
    await published(gql, staff.token, "v1")
    alice, (granted, _) = await consenting_user(gql, "alice")
    await consenting_user(gql, "bob")
    await consenting_user(gql, "carol")
    await run_job(settings)
    keys = await jwks(client)
    token = await receipt(gql, granted["id"], alice.token)
    claims = claims_of(token)
    verify_receipt(token, keys)

    # Changed without the key: the receipt's signature fails.
    header, _, signature = token.split(".")
    forged = dict(
        claims, anchor=dict(claims["anchor"], leafIndex=claims["anchor"]["leafIndex"] ^ 1)
    )
    payload = base64.urlsafe_b64encode(json.dumps(forged).encode()).decode().rstrip("=")
    with pytest.raises(NotVerified, match="receipt's signature"):
        verify_receipt(f"{header}.{payload}.{signature}", keys)

    # Signed but wrong: each part of the proof is checked on its own.
    proof = claims["anchor"]
    first_node = proof["auditPath"][0]
    flipped = ("0" if first_node[0] != "0" else "1") + first_node[1:]
    wrong = {
        "auditPath": [flipped, *proof["auditPath"][1:]],
        "leafIndex": proof["leafIndex"] ^ 1,
        "chainKey": hashlib.sha256(b"another chain").hexdigest(),
        "headHash": hashlib.sha256(b"another head").hexdigest(),
        "eventsAfter": [proof["eventsAfter"][0].replace('"WITHDRAWN"', '"GRANTED"')],
    }
    for name, value in wrong.items():
        with pytest.raises(NotVerified):
            verify_receipt(signed(dict(claims, anchor=dict(proof, **{name: value}))), keys)
    with pytest.raises(NotVerified, match="does not chain"):
        verify_receipt(signed(dict(claims, eventHash=hashlib.sha256(b"x").hexdigest())), keys)
    anchor_claims = claims_of(proof["token"])
    other_root = signed(dict(anchor_claims, rootHash=EMPTY_ROOT))
    with pytest.raises(NotVerified, match="audit path"):
        verify_receipt(signed(dict(claims, anchor=dict(proof, token=other_root))), keys)

    # The command says so, and exits 1.
    (tmp_path / "receipt.jwt").write_text(signed(dict(claims, anchor=dict(proof, **wrong))))
    (tmp_path / "jwks.json").write_text(json.dumps(keys))
    ran = CliRunner().invoke(
        cli,
        ["anchors", "verify", str(tmp_path / "receipt.jwt"), "--jwks", str(tmp_path / "jwks.json")],
    )
    assert ran.exit_code == 1 and "NOT VERIFIED" in ran.output


async def test_a_receipt_issued_before_its_anchor_is_completed_by_its_proof(gql, client, settings):
    staff = await officer(gql)
    await published(gql, staff.token, "v1")
    alice, (granted, _) = await consenting_user(gql, "alice")
    early = await receipt(gql, granted["id"], alice.token)
    assert "anchor" not in claims_of(early)
    assert (await gql(PROOF, {"id": granted["id"]}, token=alice.token))["data"][
        "consentAnchorProof"
    ] is None
    keys = await jwks(client)
    with pytest.raises(NotVerified, match="no anchor proof"):
        verify_receipt(early, keys)

    await run_job(settings)
    proof = (await gql(PROOF, {"id": granted["id"]}, token=alice.token))["data"][
        "consentAnchorProof"
    ]
    assert verify_receipt(early, keys, proof).tree_size == 1
    # Someone else's proof reads as nothing.
    bob = await register(gql, "bob")
    assert (await gql(PROOF, {"id": granted["id"]}, token=bob.token))["data"][
        "consentAnchorProof"
    ] is None
    # A proof of another event does not complete this receipt.
    other = await set_consents(gql, {"advertising": False}, token=alice.token)
    await run_job(settings)  # same period: no new anchor
    assert (await gql(PROOF, {"id": other["consents"][0]["id"]}, token=alice.token))["data"][
        "consentAnchorProof"
    ] is None


async def test_one_anchor_per_period_however_often_the_job_runs(gql, client, settings, clock):
    staff = await officer(gql)
    await published(gql, staff.token, "v1")
    await consenting_user(gql, "alice")
    made = await asyncio.gather(*(run_job(settings) for _ in range(3)))
    assert sum(m is not None for m in made) == 1
    assert await run_job(settings) is None
    [first] = (await anchors(client))["anchors"]

    # The next period gets the next anchor, which names the one before.
    later = domain_clock.now() + timedelta(minutes=settings.anchor_interval_minutes)
    clock.use(lambda: later)
    bob, (granted, _) = await consenting_user(gql, "bob")
    assert await run_job(settings) is not None
    assert await run_job(settings) is None
    body = await anchors(client)
    newest, oldest = body["anchors"]
    assert oldest == first and newest["id"] > first["id"]
    assert claims_of(newest["token"])["previousRootHash"] == first["rootHash"]
    assert newest["treeSize"] == 2
    assert verify_receipt(await receipt(gql, granted["id"], bob.token), await jwks(client))

    # Pages: newest first, one at a time.
    page = await anchors(client, "?limit=1")
    assert [a["id"] for a in page["anchors"]] == [newest["id"]]
    assert page["next"] is not None
    rest = await client.get(page["next"])
    assert [a["id"] for a in rest.json()["anchors"]] == [first["id"]]
    assert rest.json()["next"] is None


async def test_an_empty_ledger_is_anchored_too(client, settings):
    await run_job(settings)
    [anchor] = (await anchors(client))["anchors"]
    assert (anchor["treeSize"], anchor["rootHash"]) == (0, EMPTY_ROOT)


@pytest.mark.parametrize("users", [3, 5])
async def test_every_receipt_verifies_in_trees_of_sizes_not_a_power_of_two(
    gql, client, settings, users
):
    staff = await officer(gql)
    await published(gql, staff.token, "v1")
    people = [await consenting_user(gql, f"user{n}") for n in range(users)]
    for n in range(2):  # anonymous devices' chains are leaves too
        await set_consents(gql, {"analytics": True}, device_id=device_id(f"anchor-device-{n}"))
    await run_job(settings)
    [anchor] = (await anchors(client))["anchors"]
    assert anchor["treeSize"] == users + 2
    keys = await jwks(client)
    indexes = set()
    for user, events in people:
        for event in events:
            result = verify_receipt(await receipt(gql, event["id"], user.token), keys)
            assert result.root_hash == anchor["rootHash"]
        indexes.add(
            claims_of(await receipt(gql, events[0]["id"], user.token))["anchor"]["leafIndex"]
        )
    assert len(indexes) == users


@pytest.mark.parametrize(
    "query", ["?limit=0", "?limit=101", "?limit=x", "?before=-1", "?before=99999999999999999999"]
)
async def test_bad_page_parameters_are_typed_errors(client, query):
    response = await client.get(f"/.well-known/consent-anchors{query}")
    assert response.status_code == 400
    [error] = response.json()["errors"]
    assert error["code"] == "INVALID" and error["field"] in ("limit", "before")


async def test_the_sweeper_queues_the_job_once_a_period_and_the_worker_makes_it(
    gql, client, settings, redis_url, world
):
    _, _, queue = world
    await consenting_user(gql, "alice")
    assert (await sweep({"settings": settings, "queue": queue}))["anchor_enqueued"] == 1
    assert (await sweep({"settings": settings, "queue": queue}))["anchor_enqueued"] == 0
    await run_worker(settings, redis_url)
    [anchor] = (await anchors(client))["anchors"]
    assert anchor["treeSize"] == 1
    assert (await sweep({"settings": settings, "queue": queue}))["anchor_enqueued"] == 0
    await run_worker(settings, redis_url, sweep_first=True)
    assert len((await anchors(client))["anchors"]) == 1
