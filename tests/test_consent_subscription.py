"""consentChanged over graphql-transport-ws: a signed-in client hears what its account's
other devices record, and not what it records itself."""

from __future__ import annotations

import asyncio

import redis.asyncio as aioredis

from tests.consent_helpers import (
    WebSocketSession,
    event,
    officer,
    published,
    register,
    set_consents,
    sync,
)
from tests.device_ids import device_id
from tests.ids import pk

SUBSCRIBE = """
subscription($deviceId: String) {
  consentChanged(deviceId: $deviceId) { id kind granted deviceId purpose { code } }
}
"""

DEVICE_A = device_id("device-A-0001")
DEVICE_B = device_id("device-B-0002")


async def _listening(redis_url: str, channel: str) -> None:
    """Wait until the subscription really listens on its Redis channel."""
    client = aioredis.from_url(redis_url)
    try:
        for _ in range(200):
            counts = dict(await client.pubsub_numsub(channel))
            if counts.get(channel.encode(), 0) > 0:
                return
            await asyncio.sleep(0.01)
    finally:
        await client.aclose()
    raise AssertionError(f"nobody subscribed to {channel}")


async def _subscribe(ws: WebSocketSession, token: str | None, device_id: str | None) -> None:
    init: dict = {"type": "connection_init"}
    if token:
        init["payload"] = {"authorization": f"Bearer {token}"}
    await ws.send(init)
    assert (await ws.receive())["type"] == "connection_ack"
    await ws.send(
        {
            "id": "1",
            "type": "subscribe",
            "payload": {"query": SUBSCRIBE, "variables": {"deviceId": device_id}},
        }
    )


async def test_a_device_hears_its_other_devices(app, gql, settings, redis_url):
    staff = await officer(gql)
    await published(gql, staff.token, "v1")
    alice = await register(gql, "alice")
    bob = await register(gql, "bob")
    channel = f"{settings.redis_key_prefix}:consent:{pk(alice.id)}"

    async with WebSocketSession(app) as ws:
        await _subscribe(ws, alice.token, DEVICE_A)
        await _listening(redis_url, channel)

        # What device A records itself does not come back to it; another account's
        # decisions never reach it.
        mine = await set_consents(gql, {"analytics": True}, token=alice.token, device_id=DEVICE_A)
        assert mine["errors"] == []
        assert (await set_consents(gql, {"advertising": True}, token=bob.token))["errors"] == []
        # Device B records a decision: A receives it.
        theirs = await set_consents(
            gql, {"personalization": True}, token=alice.token, device_id=DEVICE_B
        )
        [recorded] = theirs["consents"]
        message = await ws.receive()
        assert message["type"] == "next" and message["id"] == "1"
        assert message["payload"]["data"]["consentChanged"] == {
            "id": recorded["id"],
            "kind": "GRANTED",
            "granted": True,
            "deviceId": DEVICE_B,
            "purpose": {"code": "personalization"},
        }
        # Offline syncs from B arrive too, one message per stored event, in order.
        batch = [event("analytics", False), event("advertising", False)]
        synced = await sync(gql, batch, device_id=DEVICE_B, token=alice.token)
        assert [r["status"] for r in synced["results"]] == ["ACCEPTED"] * 2
        received = [await ws.receive() for _ in range(2)]
        assert [m["payload"]["data"]["consentChanged"]["purpose"]["code"] for m in received] == [
            "analytics",
            "advertising",
        ]
        # A retried batch stores nothing and announces nothing; A's own sync is not echoed.
        await sync(gql, batch, device_id=DEVICE_B, token=alice.token)
        await sync(gql, [event("activity_log", True)], device_id=DEVICE_A, token=alice.token)
        assert await ws.nothing_for(0.3)

        await ws.send({"id": "1", "type": "complete"})


async def test_a_signed_out_subscription_is_refused(app):
    async with WebSocketSession(app) as ws:
        await _subscribe(ws, None, DEVICE_A)
        message = await ws.receive()
        assert message["type"] in ("error", "next"), message
        errors = message["payload"] if message["type"] == "error" else message["payload"]["errors"]
        assert [e["extensions"]["code"] for e in errors] == ["NOT_AUTHENTICATED"]


async def test_a_failed_announcement_does_not_fail_the_write(gql, monkeypatch):
    """Live updates are best effort: with Redis pub/sub failing, the decision is still
    recorded and confirmed, so the client does not retry it (and record it twice)."""
    from models.consent.ledger import ConsentEvent
    from models.queue import Broadcast

    staff = await officer(gql)
    await published(gql, staff.token, "v1")
    alice = await register(gql, "alice")

    async def broken(self, name: str, message: str) -> None:
        raise ConnectionError("pub/sub is down")

    monkeypatch.setattr(Broadcast, "publish", broken)
    result = await set_consents(gql, {"analytics": True}, token=alice.token, device_id=DEVICE_B)
    assert result["errors"] == [] and len(result["consents"]) == 1
    synced = await sync(gql, [event("advertising", True)], device_id=DEVICE_B, token=alice.token)
    assert [r["status"] for r in synced["results"]] == ["ACCEPTED"]
    body = await gql(
        'mutation { acceptPolicy(input: {policyVersion: "v1"}) { errors { code } } }',
        token=alice.token,
    )
    assert body["data"]["acceptPolicy"]["errors"] == []
    assert await ConsentEvent.all().count() == 3
