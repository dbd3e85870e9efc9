"""Breached passwords (issue 15): a new password on the shipped list of the most common
passwords is refused as BREACHED_PASSWORD at register, changePassword and resetPassword,
whatever the strength setting; where the deployment allows it, so is one that Have I Been
Pwned's range API knows, asked by k-anonymity (here a fake range server on 127.0.0.1), and
an outage of that service does not stop anyone."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import pytest
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from models.accounts.account import Account, account_name_index
from tests.accounts_api import (
    CHANGE_PASSWORD,
    LOGIN,
    OTHER_PASSWORD,
    PASSWORD,
    REGISTER,
    codes,
    register,
    registration,
)
from tests.conftest import GraphQL
from tests.notification_helpers import free_port
from tests.oidc_provider import new_subject, provider_app
from tests.test_providers import bind, recover, reset

BREACHED = [("BREACHED_PASSWORD", "password")]


def fullwidth(text: str) -> str:
    return "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in text)


# --- the shipped list ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "password",
    ["password1234", "qwertyuiop", "1q2w3e4r5t6y", "QwertyUiop", fullwidth("iloveyou123")],
)
async def test_a_common_password_is_refused_at_registration(gql, password):
    body = await gql(REGISTER, {"input": registration("ann", password=password)})
    payload = body["data"]["register"]
    assert codes(payload) == BREACHED
    assert "most common passwords" in payload["errors"][0]["message"]
    assert await Account.all().count() == 0


async def test_the_list_holds_where_the_strength_check_is_lowered(app_with):
    async with app_with(min_password_score=0) as http:
        gql = GraphQL(http)
        weak = await gql(REGISTER, {"input": registration("bea", password="passwordpassword")})
        assert weak["data"]["register"]["errors"] == []  # score 0 is allowed here
        common = await gql(REGISTER, {"input": registration("cyd", password="password1234")})
        assert codes(common["data"]["register"]) == BREACHED


async def test_a_common_password_is_refused_at_change_password(gql):
    me = await register(gql, "dee")
    body = await gql(
        CHANGE_PASSWORD,
        {"input": {"currentPassword": PASSWORD, "newPassword": "1234567890"}},
        token=me["token"],
    )
    assert codes(body["data"]["changePassword"]) == [("BREACHED_PASSWORD", "newPassword")]


async def test_a_common_password_is_refused_at_reset_password(app_with, tmp_path):
    async with provider_app(app_with, tmp_path) as p:
        me = await register(p.gql, "eli")
        subject = new_subject()
        assert (await bind(p, me["token"], p.acme.id_token(subject)))["errors"] == []
        reset_token = (await recover(p, p.acme.id_token(subject)))["resetToken"]
        refused = await reset(p, reset_token, "qwertyuiop123")
        assert codes(refused) == [("BREACHED_PASSWORD", "newPassword")]
        assert (await reset(p, reset_token))["errors"] == []  # the token was not spent


# --- Have I Been Pwned's range API -----------------------------------------------------------


def sha1(text: str) -> str:
    return hashlib.sha1(text.encode()).hexdigest().upper()


#: Strong by zxcvbn's measure and on no list, but "breached" on the fake server.
PWNED = "juniper-falcon-58-brightly"


@dataclass
class RangeServer:
    """A stand-in for api.pwnedpasswords.com/range/: answers each 5-character prefix with
    the suffixes of ``breached`` under it, plus padding lines of count 0 (as Add-Padding
    asks), and records what it was asked."""

    url: str = ""
    breached: set[str] = field(default_factory=lambda: {PWNED})
    asked: list[str] = field(default_factory=list)
    headers: list[dict[str, str]] = field(default_factory=list)
    status: int = 200
    delay: float = 0.0


@contextlib.asynccontextmanager
async def range_server() -> AsyncIterator[RangeServer]:
    server_state = RangeServer()

    async def answer(request: Request) -> PlainTextResponse:
        prefix = request.path_params["prefix"]
        server_state.asked.append(prefix)
        server_state.headers.append(dict(request.headers))
        if server_state.delay:
            await asyncio.sleep(server_state.delay)
        lines = [
            f"{sha1(p)[5:]}:{1000 + i}"
            for i, p in enumerate(sorted(server_state.breached))
            if sha1(p).startswith(prefix)
        ]
        # Padding: made-up suffixes with a count of 0, including the one of a password
        # that is NOT breached (a count of 0 means "not found").
        lines += [f"{'0' * 34}{i:01X}:0" for i in range(5)]
        lines.append(f"{sha1(OTHER_PASSWORD)[5:]}:0")
        return PlainTextResponse("\r\n".join(lines), status_code=server_state.status)

    app = Starlette(routes=[Route("/range/{prefix}", answer)])
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off")
    )
    task = asyncio.create_task(server.serve())
    for _ in range(500):
        if server.started:
            break
        await asyncio.sleep(0.01)
    server_state.url = f"http://127.0.0.1:{port}/range/"
    try:
        yield server_state
    finally:
        server.should_exit = True
        await asyncio.wait_for(task, 10)


async def test_a_pwned_password_is_refused_and_only_a_prefix_leaves(app_with):
    async with range_server() as hibp, app_with(pwned_passwords_url=hibp.url) as http:
        gql = GraphQL(http)
        body = await gql(REGISTER, {"input": registration("fox", password=PWNED)})
        payload = body["data"]["register"]
        assert codes(payload) == BREACHED
        assert "known data breaches" in payload["errors"][0]["message"]
        assert hibp.asked == [sha1(PWNED)[:5]]  # five hex characters, nothing more
        assert hibp.headers[0]["add-padding"] == "true"

        # A password the service lists only as padding (count 0) is not breached.
        ok = await gql(REGISTER, {"input": registration("gil", password=OTHER_PASSWORD)})
        assert ok["data"]["register"]["errors"] == []
        assert await Account.filter(account_name_index=await account_name_index("gil")).exists()


async def test_the_range_api_is_asked_at_change_password_and_never_at_login(app_with):
    async with range_server() as hibp, app_with(pwned_passwords_url=hibp.url) as http:
        gql = GraphQL(http)
        me = (await gql(REGISTER, {"input": registration("hub")}))["data"]["register"]
        assert me["errors"] == []
        asked = len(hibp.asked)
        login = await gql(LOGIN, {"input": {"accountName": "hub", "password": PASSWORD}})
        assert login["data"]["login"]["errors"] == []
        assert len(hibp.asked) == asked  # login stays off the network

        body = await gql(
            CHANGE_PASSWORD,
            {"input": {"currentPassword": PASSWORD, "newPassword": PWNED}},
            token=me["token"],
        )
        assert codes(body["data"]["changePassword"]) == [("BREACHED_PASSWORD", "newPassword")]
        assert hibp.asked[-1] == sha1(PWNED)[:5]


async def test_the_range_api_is_asked_at_reset_password(app_with, tmp_path):
    async with (
        range_server() as hibp,
        provider_app(app_with, tmp_path, pwned_passwords_url=hibp.url) as p,
    ):
        me = await register(p.gql, "ivy")
        subject = new_subject()
        assert (await bind(p, me["token"], p.acme.id_token(subject)))["errors"] == []
        reset_token = (await recover(p, p.acme.id_token(subject)))["resetToken"]
        assert codes(await reset(p, reset_token, PWNED)) == [("BREACHED_PASSWORD", "newPassword")]


@pytest.mark.parametrize("failure", ["down", "error", "slow"])
async def test_when_the_range_api_fails_sign_up_goes_on(app_with, failure):
    async with range_server() as hibp:
        url = hibp.url
        if failure == "error":
            hibp.status = 503
        if failure == "slow":
            hibp.delay = 2.0
        if failure == "down":
            url = f"http://127.0.0.1:{free_port()}/range/"  # nothing listens there
        async with app_with(pwned_passwords_url=url, pwned_passwords_timeout=0.3) as http:
            gql = GraphQL(http)
            body = await gql(REGISTER, {"input": registration("jay", password=PWNED)})
            assert body["data"]["register"]["errors"] == []
            # The shipped list still holds while the service is away.
            common = await gql(REGISTER, {"input": registration("kay", password="qwertyuiop")})
            assert codes(common["data"]["register"]) == BREACHED


def test_the_setting_takes_https_or_a_loopback_address_only():
    from accord.settings import SettingsError, load_settings

    assert load_settings(pwned_passwords_url="").pwned_passwords_url == ""
    url = "https://api.pwnedpasswords.com/range/"
    assert load_settings(pwned_passwords_url=url).pwned_passwords_url == url
    with pytest.raises(SettingsError, match="ACCORD_PWNED_PASSWORDS_URL"):
        load_settings(pwned_passwords_url="http://pwned.example/range/")
