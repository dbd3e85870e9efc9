"""Brute-force protection: failed logins are limited per account and per client address,
and a request carries at most one login (aliases and JSON-array batches alike)."""

from __future__ import annotations

import asyncio
from contextlib import asynccontextmanager

import pytest
from argon2 import PasswordHasher

from tests.accounts_api import (
    BIND_PROVIDER,
    CHANGE_PASSWORD,
    ERRORS,
    LOGIN,
    OTHER_PASSWORD,
    PASSWORD,
    UNBIND_PROVIDER,
    codes,
    register,
)
from tests.conftest import GraphQL
from tests.oidc_provider import new_subject, provider_app

WRONG = "definitely-not-the-password"

TWO_LOGINS = f"""
mutation($a: LoginInput!, $b: LoginInput!) {{
  first: login(input: $a) {{ token {ERRORS} }}
  second: login(input: $b) {{ token {ERRORS} }}
}}"""

THREE_LOGINS = f"""
mutation($a: LoginInput!, $b: LoginInput!, $c: LoginInput!) {{
  first: login(input: $a) {{ token {ERRORS} }}
  second: login(input: $b) {{ token {ERRORS} }}
  third: login(input: $c) {{ token {ERRORS} }}
}}"""


def creds(name: str, password: str) -> dict[str, str]:
    return {"accountName": name, "password": password}


class Client:
    """A GraphQL client of the limited app that can pose as any client address."""

    ADDRESS = "198.51.100.1"

    def __init__(self, gql: GraphQL) -> None:
        self.gql = gql

    async def send(
        self, document: str, variables: dict, address: str = ADDRESS, token: str | None = None
    ) -> dict:
        return await self.gql(
            document, variables, token=token, headers={"x-forwarded-for": address}
        )

    async def login(self, name: str, password: str, address: str = ADDRESS) -> dict:
        body = await self.send(LOGIN, {"input": creds(name, password)}, address)
        return body["data"]["login"]


@asynccontextmanager
async def limited(app_with, per_account: str = "100/minute", per_address: str = "100/minute"):
    """An app with these limits that believes X-Forwarded-For from the test transport."""
    async with app_with(
        login_limit_per_account=per_account,
        login_limit_per_address=per_address,
        trusted_proxies=["127.0.0.1"],
    ) as http:
        gql = GraphQL(http)
        await register(gql, "alice")
        await register(gql, "bob", password=OTHER_PASSWORD, nickname="Bob")
        yield Client(gql)


@pytest.fixture
def verifications(monkeypatch) -> list[str]:
    """Every argon2 verification the app runs, by the hash it checked against."""
    seen: list[str] = []
    real = PasswordHasher.verify

    def counting(self, stored_hash, password):
        seen.append(stored_hash)
        return real(self, stored_hash, password)

    monkeypatch.setattr(PasswordHasher, "verify", counting)
    return seen


def assert_rate_limited(payload: dict, longest: int = 60) -> None:
    assert codes(payload) == [("RATE_LIMITED", None)]
    assert payload["token"] is None
    assert 1 <= payload["errors"][0]["retryAfter"] <= longest


# --- per account ---------------------------------------------------------------------------


async def test_failed_logins_are_limited_per_account(app_with, verifications):
    async with limited(app_with, per_account="3/minute") as c:
        for _ in range(3):
            assert codes(await c.login("alice", WRONG)) == [("INVALID_CREDENTIALS", None)]
        checked = len(verifications)
        assert_rate_limited(await c.login("alice", WRONG))
        # Even the right password is not tried now, and no hash work is spent.
        assert_rate_limited(await c.login("alice", PASSWORD))
        assert len(verifications) == checked
        # The limit is the account's, from any address and in any spelling of its name.
        assert_rate_limited(await c.login("alice", PASSWORD, address="192.0.2.200"))
        assert_rate_limited(await c.login("ALICE", PASSWORD, address="192.0.2.201"))
        # Other accounts are not affected.
        assert (await c.login("bob", OTHER_PASSWORD))["errors"] == []


async def test_guesses_sent_at_once_cannot_slip_past_the_limit(app_with, verifications):
    # Every attempt is counted before its password is checked, so twelve guesses in flight
    # together get exactly three verifications, from any mix of addresses.
    async with limited(app_with, per_account="3/minute") as c:
        payloads = await asyncio.gather(
            *(c.login("alice", WRONG, address=f"192.0.2.{i}") for i in range(12))
        )
        results = sorted(codes(p)[0][0] for p in payloads)
        assert results == ["INVALID_CREDENTIALS"] * 3 + ["RATE_LIMITED"] * 9
        assert len(verifications) == 3


async def test_unknown_account_names_are_limited_too(app_with):
    async with limited(app_with, per_account="3/minute") as c:
        for _ in range(3):
            assert codes(await c.login("nobody", WRONG)) == [("INVALID_CREDENTIALS", None)]
        assert_rate_limited(await c.login("nobody", WRONG))


async def test_a_successful_login_clears_the_account_counter(app_with):
    async with limited(app_with, per_account="3/minute") as c:
        for _ in range(2):
            assert codes(await c.login("alice", WRONG)) == [("INVALID_CREDENTIALS", None)]
        assert (await c.login("alice", PASSWORD))["errors"] == []
        for _ in range(3):
            assert codes(await c.login("alice", WRONG)) == [("INVALID_CREDENTIALS", None)]
        assert_rate_limited(await c.login("alice", WRONG))


async def test_several_windows_and_the_longest_retry_after(app_with):
    async with limited(app_with, per_account="100/minute;3/hour") as c:
        for _ in range(3):
            assert codes(await c.login("alice", WRONG)) == [("INVALID_CREDENTIALS", None)]
        payload = await c.login("alice", WRONG)
        assert_rate_limited(payload, longest=3600)
        assert payload["errors"][0]["retryAfter"] > 60


# --- per client address --------------------------------------------------------------------


async def test_failed_logins_are_limited_per_client_address(app_with):
    async with limited(app_with, per_address="3/minute") as c:
        for name in ("alice", "bob", "carol"):
            assert codes(await c.login(name, WRONG)) == [("INVALID_CREDENTIALS", None)]
        assert_rate_limited(await c.login("dave", WRONG))
        assert_rate_limited(await c.login("alice", PASSWORD))
        # Another address is not affected.
        assert (await c.login("alice", PASSWORD, address="192.0.2.77"))["errors"] == []


async def test_a_successful_login_does_not_clear_the_address_counter(app_with):
    async with limited(app_with, per_address="3/minute") as c:
        assert codes(await c.login("carol", WRONG)) == [("INVALID_CREDENTIALS", None)]
        assert codes(await c.login("dave", WRONG)) == [("INVALID_CREDENTIALS", None)]
        assert (await c.login("alice", PASSWORD))["errors"] == []
        assert_rate_limited(await c.login("erin", WRONG))


async def test_an_untrusted_forwarded_for_header_is_ignored(app_with):
    """Without trusted_proxies, X-Forwarded-For cannot buy an attacker new addresses."""
    async with app_with(login_limit_per_address="3/minute") as http:
        c = Client(GraphQL(http))
        for i in range(3):
            payload = await c.login(f"user{i}", WRONG, address=f"192.0.2.{i}")
            assert codes(payload) == [("INVALID_CREDENTIALS", None)]
        assert_rate_limited(await c.login("user9", WRONG, address="192.0.2.99"))


# --- one login per request -----------------------------------------------------------------


async def test_aliased_logins_the_second_is_refused_and_both_count(app_with, verifications):
    async with limited(app_with, per_account="3/minute") as c:
        before = len(verifications)
        body = await c.send(TWO_LOGINS, {"a": creds("alice", WRONG), "b": creds("alice", PASSWORD)})
        data = body["data"]
        assert codes(data["first"]) == [("INVALID_CREDENTIALS", None)]
        assert codes(data["second"]) == [("TOO_MANY_LOGINS", None)]
        assert data["second"]["token"] is None
        assert len(verifications) == before + 1  # the second password was never checked
        # Two of the three attempts are spent: one more failure, then the limit.
        assert codes(await c.login("alice", WRONG)) == [("INVALID_CREDENTIALS", None)]
        assert_rate_limited(await c.login("alice", PASSWORD))


async def test_the_extra_login_counts_against_the_account_however_it_is_spelled(app_with):
    async with limited(app_with, per_account="3/minute") as c:
        variants = [" ALICE ", "ａｌｉｃｅ"]  # noqa: RUF001 - fullwidth on purpose
        for variant in variants:
            body = await c.send(
                TWO_LOGINS, {"a": creds("bob", WRONG), "b": creds(variant, PASSWORD)}
            )
            assert codes(body["data"]["second"]) == [("TOO_MANY_LOGINS", None)]
        assert codes(await c.login("alice", WRONG)) == [("INVALID_CREDENTIALS", None)]
        assert_rate_limited(await c.login("alice", PASSWORD))


async def test_every_extra_alias_is_refused_and_counted_per_address(app_with):
    async with limited(app_with, per_address="4/minute") as c:
        body = await c.send(
            THREE_LOGINS,
            {"a": creds("alice", PASSWORD), "b": creds("bob", WRONG), "c": creds("carol", WRONG)},
        )
        data = body["data"]
        assert data["first"]["errors"] == [] and data["first"]["token"]
        assert codes(data["second"]) == [("TOO_MANY_LOGINS", None)]
        assert codes(data["third"]) == [("TOO_MANY_LOGINS", None)]
        assert codes(await c.login("dave", WRONG)) == [("INVALID_CREDENTIALS", None)]
        assert_rate_limited(await c.login("alice", PASSWORD))


async def test_a_batch_of_logins_gets_one_login_and_counts_them_all(app_with, verifications):
    async with limited(app_with, per_account="3/minute") as c:
        before = len(verifications)
        operations = [
            {"query": LOGIN, "variables": {"input": creds("alice", WRONG)}},
            {"query": LOGIN, "variables": {"input": creds("alice", WRONG)}},
        ]
        response = await c.gql.http.post(
            "/graphql", json=operations, headers={"x-forwarded-for": "198.51.100.1"}
        )
        assert response.status_code == 200
        results = [r["data"]["login"] for r in response.json()]
        assert sorted(codes(r)[0][0] for r in results) == [
            "INVALID_CREDENTIALS",
            "TOO_MANY_LOGINS",
        ]
        assert len(verifications) == before + 1
        assert codes(await c.login("alice", WRONG)) == [("INVALID_CREDENTIALS", None)]
        assert_rate_limited(await c.login("alice", PASSWORD))


async def test_a_batch_with_one_login_and_other_operations_is_fine(app_with):
    async with limited(app_with) as c:
        operations = [
            {"query": "{ __typename }"},
            {"query": LOGIN, "variables": {"input": creds("alice", PASSWORD)}},
            {"query": "{ viewer { id } }"},
        ]
        response = await c.gql.http.post("/graphql", json=operations)
        results = response.json()
        assert results[1]["data"]["login"]["errors"] == []
        assert results[1]["data"]["login"]["token"]


async def test_the_next_request_may_log_in_again(app_with):
    async with limited(app_with) as c:
        body = await c.send(
            TWO_LOGINS, {"a": creds("alice", PASSWORD), "b": creds("bob", OTHER_PASSWORD)}
        )
        assert codes(body["data"]["second"]) == [("TOO_MANY_LOGINS", None)]
        assert (await c.login("bob", OTHER_PASSWORD))["errors"] == []


# --- password checks of a signed-in session count too --------------------------------------


async def test_change_password_guesses_count_as_failed_logins(app_with):
    async with limited(app_with, per_account="3/minute") as c:
        session = (await c.login("alice", PASSWORD))["token"]  # a success: the counter is clear

        async def change(current: str) -> dict:
            variables = {"input": {"currentPassword": current, "newPassword": OTHER_PASSWORD}}
            body = await c.send(CHANGE_PASSWORD, variables, token=session)
            return body["data"]["changePassword"]

        for _ in range(3):
            assert codes(await change(WRONG)) == [("INVALID_CREDENTIALS", "currentPassword")]
        limited_change = await change(PASSWORD)
        assert codes(limited_change) == [("RATE_LIMITED", None)]
        assert limited_change["errors"][0]["retryAfter"] >= 1
        assert_rate_limited(await c.login("alice", PASSWORD))


async def test_a_right_current_password_clears_the_counter(app_with):
    async with limited(app_with, per_account="3/minute") as c:
        session = (await c.login("alice", PASSWORD))["token"]
        variables = {"input": {"currentPassword": WRONG, "newPassword": OTHER_PASSWORD}}
        for _ in range(2):
            await c.send(CHANGE_PASSWORD, variables, token=session)
        variables["input"]["currentPassword"] = PASSWORD
        body = await c.send(CHANGE_PASSWORD, variables, token=session)
        assert body["data"]["changePassword"]["errors"] == []
        for _ in range(3):
            assert codes(await c.login("alice", WRONG)) == [("INVALID_CREDENTIALS", None)]


async def test_unbind_password_guesses_count_as_failed_logins(app_with, tmp_path):
    async with provider_app(
        app_with, tmp_path, login_limit_per_account="3/minute", login_limit_per_address="100/minute"
    ) as p:
        me = await register(p.gql, "alice")
        token = p.acme.id_token(new_subject())
        bound = await p.gql(
            BIND_PROVIDER, {"input": {"provider": "acme", "idToken": token}}, token=me["token"]
        )
        assert bound["data"]["bindProvider"]["errors"] == []

        async def unbind(password: str) -> dict:
            body = await p.gql(
                UNBIND_PROVIDER,
                {"input": {"provider": "acme", "password": password}},
                token=me["token"],
            )
            return body["data"]["unbindProvider"]

        for _ in range(3):
            assert codes(await unbind(WRONG)) == [("INVALID_CREDENTIALS", "password")]
        assert codes(await unbind(PASSWORD)) == [("RATE_LIMITED", None)]
