"""Sign-in notices (issue 15): a sign-in from a new device or a new client network tells
the account's owner in the inbox and by e-mail (time, approximate place, user agent), with a
one-tap "this wasn't me" that ends exactly that session: ``disownSignIn`` in GraphQL, and
the page the e-mail links to (GET asks, only POST acts)."""

from __future__ import annotations

import html
from datetime import timedelta

import pytest

from models.accounts.sessions import Session, hash_token
from models.accounts.sign_ins import KnownSignIn, SignInNotice
from models.clock import now
from models.notifications.inbox import Channel, DeliveryStatus, Notification
from tests.accounts_api import LOGIN, PASSWORD, SIGN_IN_WITH_PROVIDER
from tests.consent_helpers import WebSocketSession, officer, published
from tests.notification_helpers import body_of, recipients, run_worker
from tests.oidc_provider import new_subject, provider_app
from tests.sign_in_helpers import (
    CHROME_MAC,
    CHROME_MAC_UPDATED,
    DISOWN,
    ELSEWHERE,
    FIREFOX_LINUX,
    HOME,
    HOME_NEIGHBOUR,
    IPHONE,
    browser,
    inbox,
    link_in,
    login_on,
    register_on,
    signed_in,
    token_in,
)
from tests.test_live_streams import PROMPTLY, _consent_stream, _ends_with

SUBJECT = "New sign-in to your account"


def notices(items: list[dict]) -> list[dict]:
    return [n for n in items if n["kind"] == "NEW_SIGN_IN"]


async def disown(gql, token: str) -> dict:
    return (await gql(DISOWN, {"input": {"token": token}}))["data"]["disownSignIn"]


# --- when a notice is sent -------------------------------------------------------------------


async def test_registration_records_the_first_device_and_network_without_a_notice(app):
    async with browser(app, HOME, CHROME_MAC) as laptop:
        token = await register_on(laptop, "ada", email="ada@mail.example")
        assert notices(await inbox(laptop, token)) == []
        # The same device and network again: still nothing.
        again = await login_on(laptop, "ada")
        assert notices(await inbox(laptop, again)) == []
    assert await Notification.filter(kind="NEW_SIGN_IN").count() == 0
    rows = await KnownSignIn.all().values("kind", "value_hash")
    assert sorted(r["kind"] for r in rows) == ["DEVICE", "NETWORK"]
    # Keyed hashes only: no network, address or agent can be read from the table.
    for row in rows:
        assert len(row["value_hash"]) == 64
        assert "203.0.113" not in row["value_hash"] and "Chrome" not in row["value_hash"]


async def test_a_new_device_gets_an_in_app_and_an_e_mail_notice(app, settings, redis_url, mailbox):
    async with (
        browser(app, HOME, CHROME_MAC) as laptop,
        browser(app, HOME_NEIGHBOUR, IPHONE) as phone,
    ):
        first = await register_on(laptop, "bob", email="bob@mail.example")
        before = len(mailbox.received)
        await login_on(phone, "bob")
        (notice,) = notices(await inbox(laptop, first))
    assert notice["title"] == SUBJECT
    body = notice["body"]
    assert "new device" in body and "new network" not in body
    assert "203.0.113.0/24" in body  # the approximate place: the network, not the address
    assert HOME_NEIGHBOUR not in body
    assert f'"{IPHONE}"' in body and "Mobile Safari 17 on iOS (iPhone)" in body
    assert f"{now():%Y-%m-%d}" in body and "UTC" in body
    assert link_in(body).startswith("http://127.0.0.1:8000/sign-in/not-me?token=")

    await run_worker(settings, redis_url)  # the job the sign-in enqueued
    mine = [m for m in mailbox.received[before:] if "bob@mail.example" in recipients(m)]
    assert [m["Subject"] for m in mine] == [SUBJECT]
    assert body_of(mine[0]).replace("\r\n", "\n").strip() == body.strip()
    assert (
        await Notification.filter(
            kind="NEW_SIGN_IN", channel=Channel.EMAIL, status=DeliveryStatus.SENT
        ).count()
        == 1
    )


async def test_a_new_network_alone_sends_a_notice(app):
    async with (
        browser(app, HOME, CHROME_MAC) as home,
        browser(app, ELSEWHERE, CHROME_MAC) as travelling,
    ):
        first = await register_on(home, "cat")
        await login_on(travelling, "cat")
        (notice,) = notices(await inbox(home, first))
    assert "new network" in notice["body"] and "new device" not in notice["body"]
    assert "198.51.100.0/24" in notice["body"]
    # Without an e-mail address nothing is owed by e-mail.
    assert await Notification.filter(kind="NEW_SIGN_IN", channel=Channel.EMAIL).count() == 0


async def test_what_is_known_sends_nothing_again(app):
    async with (
        browser(app, HOME, CHROME_MAC) as laptop,
        browser(app, ELSEWHERE, FIREFOX_LINUX) as desktop,
        browser(app, HOME_NEIGHBOUR, CHROME_MAC_UPDATED) as updated,
    ):
        first = await register_on(laptop, "dan")
        await login_on(desktop, "dan")
        await login_on(desktop, "dan")  # known now
        await login_on(updated, "dan")  # the same browser, updated, on the same /24
        assert len(notices(await inbox(laptop, first))) == 1


async def test_a_known_device_is_marked_seen_at_most_once_a_day(app, clock):
    async with browser(app, HOME, CHROME_MAC) as laptop:
        await register_on(laptop, "dot")
        first_seen = {r.kind: r.last_seen_at for r in await KnownSignIn.all()}
        await login_on(laptop, "dot")
        assert {r.kind: r.last_seen_at for r in await KnownSignIn.all()} == first_seen
        later = now() + timedelta(days=2)
        clock.use(lambda: later)
        token = await login_on(laptop, "dot")
        assert {r.last_seen_at for r in await KnownSignIn.all()} == {later}
        assert {r.first_seen_at for r in await KnownSignIn.all()} == set(first_seen.values())
        assert notices(await inbox(laptop, token)) == []


async def test_every_way_of_signing_in_sends_notices_but_creating_an_account(app_with, tmp_path):
    async with provider_app(app_with, tmp_path) as p:
        subject = new_subject()
        token = p.acme.id_token(subject)
        created = await p.gql(
            SIGN_IN_WITH_PROVIDER,
            {"input": {"provider": "acme", "idToken": token}},
            headers={"user-agent": CHROME_MAC},
        )
        payload = created["data"]["signInWithProvider"]
        assert payload["created"] is True
        assert notices(await inbox(p.gql, payload["token"])) == []
        again = await p.gql(
            SIGN_IN_WITH_PROVIDER,
            {"input": {"provider": "acme", "idToken": p.acme.id_token(subject)}},
            headers={"user-agent": IPHONE},
        )
        assert again["data"]["signInWithProvider"]["created"] is False
        assert len(notices(await inbox(p.gql, payload["token"]))) == 1


async def test_the_link_leads_to_the_public_url(app_with):
    async with app_with(public_url="https://accounts.example.com/") as http:
        from tests.conftest import GraphQL

        gql = GraphQL(http)
        first = await register_on(gql, "eve")
        await gql(
            "mutation($i: LoginInput!) { login(input: $i) { token } }",
            {"i": {"accountName": "eve", "password": PASSWORD}},
            headers={"user-agent": IPHONE},
        )
        (notice,) = notices(await inbox(gql, first))
    assert link_in(notice["body"]).startswith("https://accounts.example.com/sign-in/not-me?token=")


async def test_control_characters_of_a_user_agent_do_not_reach_the_notice(app):
    """HTTP keeps line breaks out of a header, but not escapes, DEL or C1 controls (a
    header's bytes are read as Latin-1: UTF-8 direction marks arrive as C1 controls)."""
    crafted = b"Evil/1.0 \x1b[31m\x7f" + "\u202e".encode()
    async with browser(app, HOME, CHROME_MAC) as laptop:
        first = await register_on(laptop, "fay")
        body = await laptop(
            LOGIN,
            {"input": {"accountName": "fay", "password": PASSWORD}},
            headers={"user-agent": crafted},  # type: ignore[dict-item]
        )
        assert body["data"]["login"]["errors"] == []
        (notice,) = notices(await inbox(laptop, first))
    assert "Evil/1.0 ?[31m?" in notice["body"]
    assert not any(c in notice["body"] for c in "\x1b\x7f\x80\x81\x82\x83\x84\x85\x86")


# --- "this wasn't me" ------------------------------------------------------------------------


async def _noticed(app, name: str) -> tuple[str, str, str]:
    """An account signed in at home, then from a phone elsewhere: (home token, phone token,
    the notice's disown token)."""
    async with (
        browser(app, HOME, CHROME_MAC) as laptop,
        browser(app, ELSEWHERE, IPHONE) as phone,
    ):
        home = await register_on(laptop, name)
        intruder = await login_on(phone, name)
        (notice,) = notices(await inbox(laptop, home))
    return home, intruder, token_in(notice["body"])


async def test_disown_ends_exactly_that_session(app, gql):
    home, intruder, token = await _noticed(app, "gus")
    other = await login_on(gql, "gus")
    answer = await disown(gql, token)
    assert answer == {"sessionEnded": True, "errors": []}
    assert not await signed_in(gql, intruder)
    assert await signed_in(gql, home) and await signed_in(gql, other)
    assert (await SignInNotice.get(token_hash=hash_token(token))).used_at is not None

    # A replay is harmless: nothing more ends, and it is no error.
    assert await disown(gql, token) == {"sessionEnded": False, "errors": []}
    assert await signed_in(gql, home) and await signed_in(gql, other)


async def test_disown_forgets_the_device_so_it_is_reported_again(app):
    home, _, token = await _noticed(app, "hal")
    async with browser(app, HOME, CHROME_MAC) as laptop:
        assert (await disown(laptop, token))["sessionEnded"] is True
    async with browser(app, ELSEWHERE, IPHONE) as phone:
        await login_on(phone, "hal")
    async with browser(app, HOME, CHROME_MAC) as laptop:
        assert len(notices(await inbox(laptop, home))) == 2


@pytest.mark.parametrize(
    ("token", "code"),
    [
        ("", "INVALID_TOKEN"),
        ("wrong", "INVALID_TOKEN"),
        ("x" * 5000, "INVALID_TOKEN"),
        ("a\u0000b", "INVALID"),  # refused by the guard of every string argument
    ],
)
async def test_a_wrong_token_is_a_typed_error(gql, token, code):
    answer = await disown(gql, token)
    assert answer["sessionEnded"] is False
    assert [(e["code"], e["field"]) for e in answer["errors"]] == [(code, "token")]


async def test_an_expired_token_is_refused_and_ends_nothing(app, gql, clock):
    _, intruder, token = await _noticed(app, "ida")
    later = now() + timedelta(days=7, seconds=1)
    clock.use(lambda: later)
    answer = await disown(gql, token)
    assert [e["code"] for e in answer["errors"]] == ["INVALID_TOKEN"]
    clock.restore()
    assert await Session.filter(token_hash=hash_token(intruder)).exists()


async def test_disown_ends_the_sessions_live_streams(app, gql, settings, redis_url):
    staff = await officer(gql)
    await published(gql, staff.token, "v1")
    _, intruder, token = await _noticed(app, "jon")
    account_id = (await Session.get(token_hash=hash_token(intruder))).account_id
    async with WebSocketSession(app) as ws:
        await _consent_stream(ws, intruder, account_id, settings, redis_url)
        assert (await disown(gql, token))["sessionEnded"] is True
        await _ends_with(ws, "NOT_AUTHENTICATED", PROMPTLY)


# --- the page the e-mail links to ------------------------------------------------------------


async def test_the_page_asks_on_get_and_ends_the_session_on_post(app, client, gql):
    _, intruder, token = await _noticed(app, "kim")
    # Mail scanners fetch links: a GET, however often, changes nothing.
    for _ in range(2):
        page = await client.get("/sign-in/not-me", params={"token": token})
        assert page.status_code == 200
        assert page.headers["content-type"].startswith("text/html")
        assert page.headers["cache-control"] == "no-store"
        assert page.headers["referrer-policy"] == "no-referrer"
        assert '<form method="post" action="/sign-in/not-me">' in page.text
        assert f'name="token" value="{html.escape(token)}"' in page.text
    assert await signed_in(gql, intruder)
    assert (await SignInNotice.get()).used_at is None

    done = await client.post("/sign-in/not-me", data={"token": token})
    assert done.status_code == 200 and "Session ended" in done.text
    assert not await signed_in(gql, intruder)

    again = await client.post("/sign-in/not-me", data={"token": token})
    assert again.status_code == 200 and "Nothing left to end" in again.text
    after = await client.get("/sign-in/not-me", params={"token": token})
    assert "Nothing left to end" in after.text and "<form" not in after.text


@pytest.mark.parametrize("token", ["", "<script>alert(1)</script>", "x" * 5000])
async def test_the_page_refuses_a_wrong_token_without_echoing_it(client, token):
    for answer in (
        await client.get("/sign-in/not-me", params={"token": token}),
        await client.post("/sign-in/not-me", data={"token": token}),
    ):
        assert answer.status_code == 404
        assert "Link not valid" in answer.text
        assert "<script>" not in answer.text


def test_without_a_public_url_prod_notices_point_to_the_app_instead():
    from accord.settings import Settings
    from models.notifications.inbox import NotificationKind
    from models.notifications.messages import render

    assert Settings(env="prod").link_base is None
    assert Settings(env="dev").link_base == "http://127.0.0.1:8000"
    assert Settings(env="prod", public_url="https://a.example/").link_base == "https://a.example"
    message = render(
        NotificationKind.NEW_SIGN_IN,
        {
            "what_is_new": "new device",
            "time": "2026-01-01 10:00 UTC",
            "network": "203.0.113.0/24",
            "device": "Chrome 131 on Windows",
            "user_agent": "Mozilla/5.0",
            "link": "",
            "valid_days": 7,
        },
    )
    assert "http" not in message.body
    assert "from the list of your sessions in the app" in message.body
