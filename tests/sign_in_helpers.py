"""Shared steps of the session and sign-in notice tests (issue 15): clients that call the
app from a given address with a given browser, and the GraphQL documents they send."""

from __future__ import annotations

import contextlib
import re
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx

from tests.accounts_api import LOGIN, PASSWORD, REGISTER, registration
from tests.conftest import GraphQL
from tests.contact_helpers import add_and_verify_email

CHROME_MAC = (
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Safari/537.36"
)
#: The same browser a month later: a new version, not a new device.
CHROME_MAC_UPDATED = CHROME_MAC.replace("Chrome/131", "Chrome/132")
IPHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, "
    "like Gecko) Version/17.5 Mobile/15E148 Safari/604.1"
)
FIREFOX_LINUX = "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0"

HOME = "203.0.113.7"  # the ``gql`` fixture's address
HOME_NEIGHBOUR = "203.0.113.200"  # the same /24
ELSEWHERE = "198.51.100.23"
IPV6 = "2001:db8:1234:5678::9"

SESSIONS = """
{ viewer { sessions { id device userAgent network createdAt lastSeenAt current } } }"""

SIGN_OUT_OTHERS = "mutation { signOutOtherSessions { ended errors { code field message } } }"

DISOWN = """
mutation($input: DisownSignInInput!) {
  disownSignIn(input: $input) { sessionEnded errors { code field message } }
}"""

INBOX = """
{ viewer { notifications(first: 20) { edges { node { id kind title body createdAt } } } } }"""


@contextlib.asynccontextmanager
async def browser(app: Any, address: str, user_agent: str) -> AsyncIterator[GraphQL]:
    """The app as one browser on one network sees it: every request from ``address`` with
    ``user_agent``. ``.http`` is the underlying client, for plain HTTP."""
    transport = httpx.ASGITransport(app=app, client=(address, 40000))
    async with httpx.AsyncClient(
        transport=transport, base_url="http://accord.test", headers={"user-agent": user_agent}
    ) as http:
        yield GraphQL(http)


async def register_on(gql: GraphQL, name: str, email: str | None = None) -> str:
    body = await gql(REGISTER, {"input": registration(name)})
    token = body["data"]["register"]["token"]
    assert token, body
    if email:
        await add_and_verify_email(gql, token, email)
    return token


async def login_on(gql: GraphQL, name: str, password: str = PASSWORD) -> str:
    body = await gql(LOGIN, {"input": {"accountName": name, "password": password}})
    payload = body["data"]["login"]
    assert payload["errors"] == [], payload
    return payload["token"]


async def sessions(gql: GraphQL, token: str) -> list[dict[str, Any]]:
    viewer = (await gql(SESSIONS, token=token))["data"]["viewer"]
    assert viewer is not None
    return viewer["sessions"]


async def signed_in(gql: GraphQL, token: str) -> bool:
    return (await gql("{ viewer { id } }", token=token))["data"]["viewer"] is not None


async def inbox(gql: GraphQL, token: str) -> list[dict[str, Any]]:
    viewer = (await gql(INBOX, token=token))["data"]["viewer"]
    return [edge["node"] for edge in viewer["notifications"]["edges"]]


def link_in(text: str) -> str:
    found = re.search(r"https?://\S+", text)
    assert found, text
    return found.group(0)


def token_in(text: str) -> str:
    """The token of the "this wasn't me" link in a notice's text."""
    return parse_qs(urlsplit(link_in(text)).query)["token"][0]
