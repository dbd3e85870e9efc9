"""Consent webhooks (issue 19): staff register a processor's endpoint; every consent change
for its purposes reaches it through the outbox and a real arq worker, signed (Standard
Webhooks), at least once, in per-subject order, retried with backoff, dead after the last
attempt (visible to staff) and replayed from a sequence number."""

from __future__ import annotations

import base64
import hashlib
import hmac
from datetime import UTC, datetime

import pytest
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from models.accounts.account import Role
from models.rights.audit import StaffAction, StaffAuditEntry
from models.webhooks import signing
from models.webhooks.endpoints import ConsentWebhook
from tests.consent_helpers import officer, published, register, set_consents
from tests.ids import pk
from tests.notification_helpers import run_worker
from tests.webhook_helpers import (
    CREATE,
    DELETE,
    DISABLE,
    REPLAY,
    ROTATE,
    WEBHOOKS,
    create_webhook,
    deliveries,
    local_http,
    receiver,
)

#: Retries a few hundredths of a second apart: the schedule is the same, only shorter.
FAST_RETRIES = {"webhook_retry_first_seconds": 0.02, "webhook_retry_longest_seconds": 0.1}


def verified(secret: str, received) -> dict:
    """The body, once its signature checks out under ``secret`` (the receiver's side, with
    the Standard Webhooks library)."""
    return Webhook(secret).verify(received.body, received.headers)


def test_the_signature_is_the_specs_test_vector():
    # Standard Webhooks' own example: secret, id, timestamp and body give this signature.
    secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
    sent_at = datetime.fromtimestamp(1614265330, UTC)
    body = '{"test": 2432232314}'
    headers = signing.headers(secret, "msg_p5jXN8AQM9LWM0D4loKWxJek", sent_at, body)
    assert headers["webhook-signature"] == "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
    assert headers["webhook-timestamp"] == "1614265330"
    assert headers["webhook-id"] == "msg_p5jXN8AQM9LWM0D4loKWxJek"
    # And by hand: base64 HMAC-SHA256 of "{id}.{timestamp}.{body}" under the decoded key.
    key = base64.b64decode(secret.removeprefix("whsec_"))
    signed = b"msg_p5jXN8AQM9LWM0D4loKWxJek.1614265330." + body.encode()
    expected = base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
    assert headers["webhook-signature"] == f"v1,{expected}"


async def test_each_change_arrives_once_in_order_signed_and_pseudonymous(
    gql, app_with, settings, redis_url
):
    staff = await officer(gql)
    await published(gql, staff.token, "v1")
    alice = await register(gql, "alice.hooks")
    bob = await register(gql, "bob.hooks")
    async with receiver() as processor, local_http(app_with) as local:
        processor.answers = [500, 503]  # fails twice, then takes everything
        created = await create_webhook(
            local, staff.token, processor.url, ["analytics", "advertising"]
        )
        assert created["errors"] == []
        secret = created["secret"]
        assert secret.startswith("whsec_") and len(base64.b64decode(secret[6:])) == 24
        assert created["webhook"]["enabled"] and created["webhook"]["lastSequence"] == 0

        changes = [
            (alice, {"analytics": True, "personalization": True}),
            (bob, {"analytics": True}),
            (alice, {"analytics": False}),
            (alice, {"advertising": True}),
            (bob, {"personalization": False}),  # not a purpose of this endpoint
        ]
        for who, decisions in changes:
            assert (await set_consents(gql, decisions, token=who.token))["errors"] == []

        worker = await run_worker(settings, redis_url, **FAST_RETRIES)
        assert worker.jobs_failed == 0

    bodies = [verified(secret, r) for r in processor.received]
    assert len(processor.refused) == 2, "two refusals, retried"
    ids = [r.headers["webhook-id"] for r in processor.received]
    assert len(ids) == len(set(ids)) == 4, "each event once"
    assert sorted(b["data"]["sequence"] for b in bodies) == [1, 2, 3, 4]
    # The refused requests were events that then arrived under the same webhook-id.
    assert {r.headers["webhook-id"] for r in processor.refused} <= set(ids)

    by_subject: dict[str, list[dict]] = {}
    for body in bodies:
        by_subject.setdefault(body["data"]["subjectId"], []).append(body)
    assert len(by_subject) == 2
    alice_events, bob_events = sorted(by_subject.values(), key=len, reverse=True)
    assert [(b["type"], b["data"]["purpose"]) for b in alice_events] == [
        ("consent.granted", "analytics"),
        ("consent.withdrawn", "analytics"),
        ("consent.granted", "advertising"),
    ], "one subject's changes in the order they were made"
    assert [b["data"]["granted"] for b in alice_events] == [True, False, True]
    assert [(b["type"], b["data"]["purpose"]) for b in bob_events] == [
        ("consent.granted", "analytics")
    ]
    for body in bodies:
        data = body["data"]
        assert data["purpose"] != "personalization", "only the endpoint's purposes"
        assert data["policyVersion"] == "v1" and data["source"] == "WEB"
        assert data["subjectId"].startswith("sub_") and "subject" not in data
        text = str(body)
        for who in (alice, bob):
            assert who.name not in text
            assert f"account:{pk(who.id)}" not in text
    # Signed with this endpoint's secret and no other.
    with pytest.raises(WebhookVerificationError):
        verified(
            "whsec_" + base64.b64encode(b"another secret, 24 bytes").decode(), processor.received[0]
        )

    # Staff see every delivery DELIVERED, with the attempts it took.
    rows = await deliveries(gql, staff.token, created["webhook"]["id"])
    assert [r["state"] for r in rows] == ["DELIVERED"] * 4
    assert sum(r["attempts"] for r in rows) == 6
    assert [r["messageId"] for r in rows] == [
        r.headers["webhook-id"]
        for r in sorted(processor.received, key=lambda r: r.json["data"]["sequence"])
    ]
    # The secret is stored sealed, never in the clear; the registration is audited.
    stored = await ConsentWebhook.filter().values_list("secret", flat=True)
    assert stored and secret not in str(stored)
    entry = await StaffAuditEntry.get(action=StaffAction.MANAGE_CONSENT_WEBHOOK)
    assert entry.staff_id == pk(staff.id) and entry.resource == "ConsentWebhook"
    assert entry.reason.startswith("registered the consent webhook to 127.0.0.1")


async def test_a_dead_letter_is_shown_to_staff_and_a_replay_redelivers_in_order(
    gql, app_with, settings, redis_url
):
    staff = await officer(gql)
    operator = await register(gql, "operator.hooks", role=Role.OPERATOR)
    await published(gql, staff.token, "v1")
    alice = await register(gql, "alice.dead")
    async with receiver() as processor, local_http(app_with) as local:
        processor.status = 503  # down
        created = await create_webhook(
            local, staff.token, processor.url, ["analytics"], includePersonalData=True
        )
        hook_id = created["webhook"]["id"]
        for granted in (True, False):
            await set_consents(gql, {"analytics": granted}, token=alice.token)
        await run_worker(settings, redis_url, webhook_max_attempts=3, **FAST_RETRIES)
        assert processor.received == [] and len(processor.refused) == 3

        dead = await deliveries(gql, operator.token, hook_id, "DEAD")
        assert [(d["sequence"], d["attempts"]) for d in dead] == [(1, 3)]
        assert dead[0]["lastError"].startswith("HTTP 503")
        # The second change waits behind the first: never tried, so never out of order.
        waiting = await deliveries(gql, operator.token, hook_id, "PENDING")
        assert [(d["sequence"], d["attempts"]) for d in waiting] == [(2, 0)]
        first_id = dead[0]["messageId"]
        assert {r.headers["webhook-id"] for r in processor.refused} == {first_id}

        # The processor is back; staff rotate the secret and replay from the first event.
        rotated = (await gql(ROTATE, {"i": {"id": hook_id}}, token=staff.token))["data"]
        secret = rotated["rotateConsentWebhookSecret"]["secret"]
        assert secret != created["secret"]
        processor.status = 200
        replay = await gql(REPLAY, {"i": {"id": hook_id, "fromSequence": 1}}, token=staff.token)
        assert replay["data"]["replayConsentWebhook"]["replayed"] == 2
        await run_worker(settings, redis_url, **FAST_RETRIES)
        bodies = [verified(secret, r) for r in processor.received]
        assert [b["data"]["sequence"] for b in bodies] == [1, 2]
        assert processor.received[0].headers["webhook-id"] == first_id, "same id: dedupe"
        # This endpoint asked for personal data: the body names the ledger's subject.
        assert {b["data"]["subject"] for b in bodies} == {f"account:{pk(alice.id)}"}
        with pytest.raises(WebhookVerificationError):
            verified(created["secret"], processor.received[0])

        # A replay of what was delivered sends it again, under the same id.
        replay = await gql(REPLAY, {"i": {"id": hook_id, "fromSequence": 2}}, token=staff.token)
        assert replay["data"]["replayConsentWebhook"]["replayed"] == 1
        await run_worker(settings, redis_url, **FAST_RETRIES)
        assert [r.headers["webhook-id"] for r in processor.received[2:]] == [
            processor.received[1].headers["webhook-id"]
        ]

        # Disabled: a change is promised to it no more.
        disabled = await gql(DISABLE, {"i": {"id": hook_id}}, token=staff.token)
        assert disabled["data"]["disableConsentWebhook"]["webhook"]["enabled"] is False
        await set_consents(gql, {"analytics": True}, token=alice.token)
        listed = (await gql(WEBHOOKS, token=operator.token))["data"]["consentWebhooks"]
        assert [(w["id"], w["lastSequence"], w["enabled"]) for w in listed] == [(hook_id, 2, False)]
        removed = await gql(DELETE, {"i": {"id": hook_id}}, token=staff.token)
        assert removed["data"]["deleteConsentWebhook"] == {"deletedId": hook_id, "errors": []}
        assert (await gql(WEBHOOKS, token=operator.token))["data"]["consentWebhooks"] == []
    audited = await StaffAuditEntry.filter(action=StaffAction.MANAGE_CONSENT_WEBHOOK).order_by(
        "seq"
    )
    assert [e.reason.split(" the consent webhook")[0] for e in audited] == [
        "registered",
        "rotated the secret of",
        "replayed",
        "replayed",
        "disabled",
        "deleted",
    ]


async def test_only_the_privacy_office_registers_and_only_staff_read(gql, app_with):
    user = await register(gql, "plain.hooks")
    operator = await register(gql, "operator.only", role=Role.OPERATOR)
    refused = await create_webhook(gql, user.token, "https://processor.example/c", ["analytics"])
    assert refused == {
        "webhook": None,
        "secret": None,
        "errors": [
            {"code": "FORBIDDEN", "field": None, "message": refused["errors"][0]["message"]}
        ],
    }
    refused = await create_webhook(
        gql, operator.token, "https://processor.example/c", ["analytics"]
    )
    assert [e["code"] for e in refused["errors"]] == ["FORBIDDEN"]
    anonymous = await create_webhook(gql, None, "https://processor.example/c", ["analytics"])
    assert [e["code"] for e in anonymous["errors"]] == ["NOT_AUTHENTICATED"]
    body = await gql(WEBHOOKS, token=user.token, expect_errors=True)
    assert body["data"] is None or body["data"]["consentWebhooks"] is None
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert await ConsentWebhook.all().count() == 0


@pytest.mark.parametrize(
    ("url", "purposes", "code", "field"),
    [
        ("http://processor.example/consent", ["analytics"], "INSECURE_URL", "url"),
        ("http://127.0.0.1:9/consent", ["analytics"], "INSECURE_URL", "url"),  # not in this app
        ("ftp://processor.example/consent", ["analytics"], "INVALID", "url"),
        ("processor.example/consent", ["analytics"], "INVALID", "url"),
        ("https://user:pass@processor.example/c", ["analytics"], "INVALID", "url"),
        ("https://processor.example:99999/c", ["analytics"], "INVALID", "url"),
        ("https://processor.example/a b", ["analytics"], "INVALID", "url"),
        ("https://" + "a" * 2000 + ".example/", ["analytics"], "INVALID", "url"),
        ("", ["analytics"], "REQUIRED", "url"),
        ("https://processor.example/c", [], "REQUIRED", "purposes"),
        ("https://processor.example/c", ["analytics", "nope"], "UNKNOWN_PURPOSE", "purposes"),
    ],
)
async def test_a_bad_endpoint_is_a_typed_error(gql, url, purposes, code, field):
    staff = await register(gql, "admin.hooks", role=Role.ADMIN)
    result = await create_webhook(gql, staff.token, url, purposes)
    assert [(e["code"], e["field"]) for e in result["errors"]] == [(code, field)]
    assert result["webhook"] is None and result["secret"] is None
    assert await ConsentWebhook.all().count() == 0


async def test_an_admin_registers_an_https_endpoint(gql):
    admin = await register(gql, "admin.https", role=Role.ADMIN)
    result = await create_webhook(
        gql, admin.token, "https://processor.example/c?x=1", ["analytics"]
    )
    assert result["errors"] == [] and result["webhook"]["url"] == "https://processor.example/c?x=1"
    body = await gql(
        CREATE, {"i": {"url": "https://p.example/", "purposes": ["necessary"]}}, token=admin.token
    )
    assert body["data"]["createConsentWebhook"]["errors"] == []
