"""Live streams end with their session (issue 12, defect 2): a subscription opened with a
token stops, with a typed error and then ``complete``, within seconds of that session being
logged out, revoked, ended by a password change or an account cancellation, expiring, or of
its account losing the role the stream needs; and nothing is delivered after that.

Everything goes through the graphql-transport-ws protocol against the real app."""

from __future__ import annotations

import asyncio
import time
from datetime import timedelta

import pytest
import redis.asyncio as aioredis
from asgi_lifespan import LifespanManager

from models.accounts.account import Account, Role
from models.accounts.sessions import Session, hash_token
from models.clock import now
from models.notifications.campaigns import Campaign
from tests.consent_helpers import (
    PASSWORD,
    WebSocketSession,
    officer,
    published,
    register,
    set_consents,
)
from tests.device_ids import device_id
from tests.ids import pk
from tests.notification_helpers import person

CONSENT = """
subscription { consentChanged { id purpose { code } } }
"""

PROGRESS = """
subscription($id: ID!) { campaignProgress(id: $id) { status total } }
"""

LOGIN = """
mutation($input: LoginInput!) { login(input: $input) { token errors { code } } }
"""

OTHER_DEVICE = device_id("device-other-0001")
#: What "promptly" means here: well under the periodic re-check (5 s by default), so a
#: stream ending in time was told at once.
PROMPTLY = 2.0


async def _subscribed(redis_url: str, channel: str, wait: float = 2.0) -> None:
    """Wait (a while, not forever) until something listens on ``channel``."""
    client = aioredis.from_url(redis_url)
    try:
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline:
            counts = dict(await client.pubsub_numsub(channel))
            if counts.get(channel.encode(), 0) > 0:
                return
            await asyncio.sleep(0.01)
    finally:
        await client.aclose()


async def _open(ws: WebSocketSession, token: str, query: str, variables=None) -> None:
    await ws.send({"type": "connection_init", "payload": {"authorization": f"Bearer {token}"}})
    assert (await ws.receive())["type"] == "connection_ack"
    await ws.send(
        {"id": "1", "type": "subscribe", "payload": {"query": query, "variables": variables}}
    )


async def _consent_stream(ws, token, account_id, settings, redis_url) -> None:
    """A consentChanged stream that really listens (for events and for its session)."""
    await _open(ws, token, CONSENT)
    prefix = settings.redis_key_prefix
    await _subscribed(redis_url, f"{prefix}:consent:{account_id}")
    await _subscribed(redis_url, f"{prefix}:account:{account_id}")


async def _ends_with(ws: WebSocketSession, code: str, within: float) -> None:
    """The stream ends within ``within`` seconds: an error carrying ``code`` (as ``error``,
    or ``next`` with errors and no data), then ``complete``; no data on the way."""
    started = time.monotonic()
    message = await ws.receive(wait=within)
    assert message["type"] in ("error", "next"), message
    if message["type"] == "error":
        errors = message["payload"]
    else:
        assert message["payload"].get("data") is None, message
        errors = message["payload"]["errors"]
        message = await ws.receive(wait=max(0.1, within - (time.monotonic() - started)))
        assert message == {"id": "1", "type": "complete"}, message
    assert [e["extensions"]["code"] for e in errors] == [code], errors
    assert time.monotonic() - started <= within


async def _nothing_more(gql, ws: WebSocketSession, token: str | None) -> None:
    """An event the stream would have carried is recorded; nothing arrives."""
    if token is not None:
        result = await set_consents(gql, {"analytics": True}, token=token, device_id=OTHER_DEVICE)
        assert result["errors"] == [], result
    assert await ws.nothing_for(0.5)


async def _second_session(gql, name: str) -> str:
    body = await gql(LOGIN, {"input": {"accountName": name, "password": PASSWORD}})
    assert body["data"]["login"]["errors"] == [], body
    return body["data"]["login"]["token"]


@pytest.fixture
async def alice(gql):
    staff = await officer(gql)
    await published(gql, staff.token, "v1")
    return await register(gql, "alice")


async def test_logout_ends_the_stream(app, gql, settings, redis_url, alice):
    other = await _second_session(gql, "alice")
    async with WebSocketSession(app) as ws:
        await _consent_stream(ws, alice.token, alice.id, settings, redis_url)
        # While the session lives, events flow.
        await set_consents(gql, {"advertising": True}, token=other, device_id=OTHER_DEVICE)
        assert (await ws.receive())["type"] == "next"

        body = await gql("mutation { logout { errors { code } } }", token=alice.token)
        assert body["data"]["logout"]["errors"] == []
        await _ends_with(ws, "NOT_AUTHENTICATED", PROMPTLY)
        await _nothing_more(gql, ws, other)


async def test_revoke_session_ends_the_stream(app, gql, settings, redis_url, alice):
    laptop = await _second_session(gql, "alice")
    async with WebSocketSession(app) as ws:
        await _consent_stream(ws, alice.token, alice.id, settings, redis_url)
        phone = await Session.get(token_hash=hash_token(alice.token))
        body = await gql(
            "mutation($i: RevokeSessionInput!) { revokeSession(input: $i) { errors { code } } }",
            {"i": {"id": str(phone.id)}},
            token=laptop,
        )
        assert body["data"]["revokeSession"]["errors"] == []
        await _ends_with(ws, "NOT_AUTHENTICATED", PROMPTLY)
        await _nothing_more(gql, ws, laptop)


async def test_change_password_ends_the_other_sessions_streams(
    app, gql, settings, redis_url, alice
):
    laptop = await _second_session(gql, "alice")
    async with WebSocketSession(app) as phone_ws, WebSocketSession(app) as laptop_ws:
        await _consent_stream(phone_ws, alice.token, alice.id, settings, redis_url)
        await _open(laptop_ws, laptop, CONSENT)
        body = await gql(
            "mutation($i: ChangePasswordInput!) { changePassword(input: $i) { errors { code } } }",
            {"i": {"currentPassword": PASSWORD, "newPassword": "copper-lantern-17-swiftly"}},
            token=laptop,
        )
        assert body["data"]["changePassword"]["errors"] == []
        await _ends_with(phone_ws, "NOT_AUTHENTICATED", PROMPTLY)
        # The session that changed the password stays signed in, and so does its stream.
        await set_consents(gql, {"analytics": True}, token=laptop, device_id=OTHER_DEVICE)
        assert (await laptop_ws.receive())["type"] == "next"
        assert await phone_ws.nothing_for(0.5)


async def test_cancel_account_ends_the_stream(app, gql, settings, redis_url, alice):
    async with WebSocketSession(app) as ws:
        await _consent_stream(ws, alice.token, alice.id, settings, redis_url)
        body = await gql(
            "mutation($i: CancelAccountInput!) { cancelAccount(input: $i) { errors { code } } }",
            {"i": {"password": PASSWORD}},
            token=alice.token,
        )
        assert body["data"]["cancelAccount"]["errors"] == []
        await _ends_with(ws, "NOT_AUTHENTICATED", PROMPTLY)
        await _nothing_more(gql, ws, None)


@pytest.fixture
async def quick_app(app, settings, redis_url):
    """A second app over the same database whose streams re-check their session every
    second (the default is a few seconds)."""
    from api.app import create_app

    quick = settings.model_copy(update={"live_stream_recheck": timedelta(seconds=1)})
    async with LifespanManager(create_app(quick, redis_url, own_orm=False)) as manager:
        yield manager.app


async def test_a_session_that_expires_ends_its_stream(quick_app, gql, settings, redis_url, alice):
    """Nothing is announced when a session runs out: the periodic re-check finds it."""
    async with WebSocketSession(quick_app) as ws:
        await _consent_stream(ws, alice.token, alice.id, settings, redis_url)
        await Session.filter(token_hash=hash_token(alice.token)).update(
            expires_at=now() - timedelta(seconds=1)
        )
        await _ends_with(ws, "NOT_AUTHENTICATED", 3.0)


async def test_a_staffer_who_loses_the_role_loses_campaign_progress(quick_app, gql):
    """A role is changed from the command line (``accord create-staff``), with no Redis at
    hand: the stream's periodic re-check ends it, with FORBIDDEN."""
    staff = await person(gql, "officer.live", role=Role.PRIVACY_OFFICER)
    operator = await person(gql, "operator.live", role=Role.OPERATOR)
    await person(gql, "member.live")
    await published(gql, staff.token, "v2", material=True, categories=["OTHER"])
    campaign_id = str((await Campaign.get()).id)  # no worker runs: it stays FANNING_OUT

    async with WebSocketSession(quick_app) as ws:
        await _open(ws, operator.token, PROGRESS, {"id": campaign_id})
        first = await ws.receive()
        assert first["type"] == "next" and first["payload"]["data"]["campaignProgress"], first
        await Account.filter(id=pk(operator.id)).update(role=Role.USER)
        await _ends_with(ws, "FORBIDDEN", 3.0)
        assert await ws.nothing_for(0.5)


async def test_a_campaign_stream_ends_at_logout(app, gql, settings, redis_url):
    staff = await person(gql, "officer.out", role=Role.PRIVACY_OFFICER)
    await published(gql, staff.token, "v2", material=True, categories=["OTHER"])
    campaign_id = str((await Campaign.get()).id)

    async with WebSocketSession(app) as ws:
        await _open(ws, staff.token, PROGRESS, {"id": campaign_id})
        assert (await ws.receive())["type"] == "next"
        await _subscribed(redis_url, f"{settings.redis_key_prefix}:account:{staff.id}")
        body = await gql("mutation { logout { errors { code } } }", token=staff.token)
        assert body["data"]["logout"]["errors"] == []
        await _ends_with(ws, "NOT_AUTHENTICATED", PROMPTLY)
        assert await ws.nothing_for(0.5)


async def test_a_stream_the_client_completes_stops_listening(app, gql, settings, redis_url, alice):
    """Ending a stream from the client side leaves no Redis subscription behind."""
    prefix = settings.redis_key_prefix
    channels = [f"{prefix}:consent:{alice.id}", f"{prefix}:account:{alice.id}"]
    async with WebSocketSession(app) as ws:
        await _consent_stream(ws, alice.token, alice.id, settings, redis_url)
        await ws.send({"id": "1", "type": "complete"})
        client = aioredis.from_url(redis_url)
        try:
            for _ in range(200):
                counts = dict(await client.pubsub_numsub(*channels))
                if not any(counts.values()):
                    break
                await asyncio.sleep(0.01)
            assert not any(counts.values()), counts
        finally:
            await client.aclose()


async def _operation(ws: WebSocketSession, op_id: str, query: str, variables=None) -> dict:
    """A query or mutation sent over the open connection: its one result."""
    await ws.send(
        {"id": op_id, "type": "subscribe", "payload": {"query": query, "variables": variables}}
    )
    result = await ws.receive()
    assert result["type"] == "next" and result["id"] == op_id, result
    assert await ws.receive() == {"id": op_id, "type": "complete"}
    return result["payload"]


async def test_operations_on_an_open_connection_stop_acting_for_a_session_that_ended(
    app, gql, alice
):
    """A websocket opened with a token must not keep acting as its user once the session
    ends: every operation sent over it reads the session afresh, streams or no streams."""
    viewer = "{ viewer { id } }"
    add = """mutation($i: AddFavoriteInput!) { addFavorite(input: $i) {
        favorite { id } errors { code } } }"""
    async with WebSocketSession(app) as ws:
        await ws.send(
            {"type": "connection_init", "payload": {"authorization": f"Bearer {alice.token}"}}
        )
        assert (await ws.receive())["type"] == "connection_ack"
        assert (await _operation(ws, "q1", viewer))["data"]["viewer"] == {"id": alice.id}

        body = await gql("mutation { logout { errors { code } } }", token=alice.token)
        assert body["data"]["logout"]["errors"] == []

        assert (await _operation(ws, "q2", viewer))["data"]["viewer"] is None
        added = await _operation(ws, "m1", add, {"i": {"itemType": "book", "itemId": "b-1"}})
        assert added["data"]["addFavorite"] == {
            "favorite": None,
            "errors": [{"code": "NOT_AUTHENTICATED"}],
        }
