"""Sessions as users expect (issue 15): each session shows its device, user agent,
approximate place (the client network, never the address), when it signed in and was last
used, and which one is asking; "sign out of every other session"; a password change ends
the others."""

from __future__ import annotations

from models.accounts.sessions import Session, hash_token
from tests.accounts_api import CHANGE_PASSWORD, OTHER_PASSWORD, PASSWORD
from tests.consent_helpers import WebSocketSession, officer, published
from tests.sign_in_helpers import (
    CHROME_MAC,
    ELSEWHERE,
    FIREFOX_LINUX,
    HOME,
    IPHONE,
    IPV6,
    SIGN_OUT_OTHERS,
    browser,
    login_on,
    register_on,
    sessions,
    signed_in,
)
from tests.test_live_streams import PROMPTLY, _consent_stream, _ends_with


async def test_each_session_shows_device_agent_place_and_times(app):
    async with (
        browser(app, HOME, CHROME_MAC) as laptop,
        browser(app, ELSEWHERE, IPHONE) as phone,
        browser(app, IPV6, FIREFOX_LINUX) as desktop,
    ):
        first = await register_on(laptop, "sam")
        second = await login_on(phone, "sam")
        third = await login_on(desktop, "sam")
        listed = await sessions(phone, second)
        assert await signed_in(laptop, first) and await signed_in(desktop, third)
    assert [s["device"] for s in listed] == [  # newest first
        "Firefox 133 on Linux",
        "Mobile Safari 17 on iOS (iPhone)",
        "Chrome 131 on Mac OS X",
    ]
    assert [s["userAgent"] for s in listed] == [FIREFOX_LINUX, IPHONE, CHROME_MAC]
    assert [s["network"] for s in listed] == [
        "2001:db8:1234::/48",
        "198.51.100.0/24",
        "203.0.113.0/24",
    ]
    assert [s["current"] for s in listed] == [False, True, False]
    for session in listed:
        assert session["createdAt"] <= session["lastSeenAt"]
    assert listed[0]["createdAt"] >= listed[1]["createdAt"] >= listed[2]["createdAt"]
    # Only the network is stored, never the address.
    stored = {s.network for s in await Session.all()}
    assert stored == {"2001:db8:1234::/48", "198.51.100.0/24", "203.0.113.0/24"}
    assert not {HOME, ELSEWHERE, IPV6} & stored


async def test_a_session_without_a_user_agent_or_a_readable_one(app):
    async with browser(app, HOME, "") as bare, browser(app, HOME, "PrivateTool/7") as tool:
        await register_on(bare, "tia")
        token = await login_on(tool, "tia")
        listed = await sessions(tool, token)
    assert [(s["device"], s["userAgent"]) for s in listed] == [
        ("PrivateTool/7", "PrivateTool/7"),
        ("Unknown device", ""),
    ]


async def test_a_session_of_an_unknown_network_shows_none(app):
    """A transport without a client address (and sessions older than the column)."""
    async with browser(app, "not-an-address", CHROME_MAC) as odd:
        token = await register_on(odd, "una")
        assert [s["network"] for s in await sessions(odd, token)] == [None]


async def test_sign_out_other_sessions_ends_every_other_one(app):
    async with (
        browser(app, HOME, CHROME_MAC) as laptop,
        browser(app, ELSEWHERE, IPHONE) as phone,
    ):
        first = await register_on(laptop, "vic")
        second = await login_on(phone, "vic")
        third = await login_on(laptop, "vic")
        other_account = await register_on(laptop, "wes")

        body = await phone(SIGN_OUT_OTHERS, token=second)
        assert body["data"]["signOutOtherSessions"] == {"ended": 2, "errors": []}
        assert not await signed_in(laptop, first)
        assert not await signed_in(laptop, third)
        assert await signed_in(phone, second)
        assert await signed_in(laptop, other_account)  # another account's are untouched
        assert [s["current"] for s in await sessions(phone, second)] == [True]

        again = await phone(SIGN_OUT_OTHERS, token=second)
        assert again["data"]["signOutOtherSessions"] == {"ended": 0, "errors": []}


async def test_sign_out_other_sessions_needs_a_session(gql):
    body = await gql(SIGN_OUT_OTHERS)
    assert body["data"]["signOutOtherSessions"]["ended"] == 0
    assert [e["code"] for e in body["data"]["signOutOtherSessions"]["errors"]] == [
        "NOT_AUTHENTICATED"
    ]


async def test_sign_out_other_sessions_ends_their_live_streams(app, gql, settings, redis_url):
    staff = await officer(gql)
    await published(gql, staff.token, "v1")
    phone = await register_on(gql, "xia")
    laptop = await login_on(gql, "xia")
    account_id = (await Session.get(token_hash=hash_token(phone))).account_id
    async with WebSocketSession(app) as ws:
        await _consent_stream(ws, phone, account_id, settings, redis_url)
        body = await gql(SIGN_OUT_OTHERS, token=laptop)
        assert body["data"]["signOutOtherSessions"]["ended"] == 1
        await _ends_with(ws, "NOT_AUTHENTICATED", PROMPTLY)


async def test_a_password_change_ends_every_other_session(app):
    async with (
        browser(app, HOME, CHROME_MAC) as laptop,
        browser(app, ELSEWHERE, IPHONE) as phone,
    ):
        first = await register_on(laptop, "yan")
        second = await login_on(phone, "yan")
        body = await phone(
            CHANGE_PASSWORD,
            {"input": {"currentPassword": PASSWORD, "newPassword": OTHER_PASSWORD}},
            token=second,
        )
        assert body["data"]["changePassword"]["errors"] == []
        assert not await signed_in(laptop, first)
        assert [s["current"] for s in await sessions(phone, second)] == [True]
