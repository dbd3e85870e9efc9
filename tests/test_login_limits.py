"""Brute-force protection without a lock for an attacker to turn on the user: failed logins
are limited per (account, client address) and per client address, the account as a whole
only far above that (and then only for addresses that guessed wrong), and a request carries
at most one login (aliases and JSON-array batches alike)."""

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
ATTACKER = "198.51.100.1"
USER = "203.0.113.50"

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
    """A GraphQL client of the limited app that can pose as any client address (the app
    believes X-Forwarded-For from the test transport, as ACCORD_TRUSTED_PROXIES says)."""

    ADDRESS = ATTACKER

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
async def limited(app_with, **limits: str):
    """An app with these login limits (``per_account_and_address``, ``per_address``,
    ``per_account``; the defaults otherwise) behind a trusted proxy."""
    settings = {f"login_limit_{kind}": value for kind, value in limits.items()}
    async with app_with(**settings, trusted_proxies=["127.0.0.1"]) as http:
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


def assert_refused(payload: dict) -> None:
    assert codes(payload) == [("INVALID_CREDENTIALS", None)]


def assert_signed_in(payload: dict) -> None:
    assert payload["errors"] == []
    assert payload["token"]


# --- an attacker's guesses are no lock on the user -----------------------------------------


async def test_an_attackers_guesses_do_not_lock_the_user_out(app_with, verifications):
    """With the default limits: five wrong guesses from one address close that address to
    the account for now, and only that address."""
    async with limited(app_with) as c:
        for _ in range(5):
            assert_refused(await c.login("alice", WRONG))
        checked = len(verifications)
        assert_rate_limited(await c.login("alice", WRONG))
        # The attacker's address is refused even the right password, and costs no hash.
        assert_rate_limited(await c.login("alice", PASSWORD))
        assert_rate_limited(await c.login(" ALICE ", PASSWORD))
        assert len(verifications) == checked
        # The user, from an address that has not guessed wrong, signs in.
        assert_signed_in(await c.login("alice", PASSWORD, address=USER))
        # That clears the user's address only: the attacker's stays closed.
        assert_rate_limited(await c.login("alice", PASSWORD))
        # And the attacker's address may still sign in to other accounts.
        assert_signed_in(await c.login("bob", OTHER_PASSWORD))


async def test_the_attackers_address_may_try_again_when_its_window_has_passed(app_with):
    async with limited(app_with, per_account_and_address="2/2 seconds") as c:
        for _ in range(2):
            assert_refused(await c.login("alice", WRONG))
        payload = await c.login("alice", PASSWORD)
        assert_rate_limited(payload, longest=2)
        await asyncio.sleep(payload["errors"][0]["retryAfter"] + 0.2)
        assert_signed_in(await c.login("alice", PASSWORD))


async def test_the_account_wide_cap_closes_only_addresses_that_guessed_wrong(
    app_with, verifications
):
    """A distributed attack reaches the account's own cap; then an address with a recent
    wrong guess for the account is refused, and one without gets one try."""
    second, third = "198.51.100.2", "198.51.100.3"
    async with limited(app_with, per_account_and_address="3/minute", per_account="4/minute") as c:
        for _ in range(3):
            assert_refused(await c.login("alice", WRONG))
        assert_rate_limited(await c.login("alice", WRONG))  # this address's own limit
        assert_refused(await c.login("alice", WRONG, address=second))  # the 4th failure
        checked = len(verifications)
        # The second address has budget left of its own, but has guessed wrong: refused.
        assert_rate_limited(await c.login("alice", WRONG, address=second))
        assert_rate_limited(await c.login("alice", PASSWORD, address=second))
        assert len(verifications) == checked
        # A fresh address gets one guess, then it has guessed wrong too.
        assert_refused(await c.login("alice", WRONG, address=third))
        assert_rate_limited(await c.login("alice", PASSWORD, address=third))
        assert len(verifications) == checked + 1
        # The user, from an address that has not guessed wrong, still signs in.
        assert_signed_in(await c.login("alice", PASSWORD, address=USER))
        # Other accounts are not affected.
        assert_signed_in(await c.login("bob", OTHER_PASSWORD, address=second))


async def test_successful_logins_do_not_count_toward_the_account_wide_cap(app_with):
    async with limited(app_with, per_account="2/minute") as c:
        for i in range(4):
            assert_signed_in(await c.login("alice", PASSWORD, address=f"192.0.2.{i}"))
            assert_signed_in(await c.login("alice", PASSWORD))
        assert_refused(await c.login("alice", WRONG))
        assert_refused(await c.login("alice", WRONG))  # the cap is reached
        assert_rate_limited(await c.login("alice", PASSWORD))
        assert_signed_in(await c.login("alice", PASSWORD, address=USER))


async def test_guesses_sent_at_once_cannot_slip_past_the_limit(app_with, verifications):
    # Every attempt is counted before its password is checked, so twelve guesses in flight
    # together from one address get exactly three verifications.
    async with limited(app_with, per_account_and_address="3/minute") as c:
        payloads = await asyncio.gather(*(c.login("alice", WRONG) for _ in range(12)))
        results = sorted(codes(p)[0][0] for p in payloads)
        assert results == ["INVALID_CREDENTIALS"] * 3 + ["RATE_LIMITED"] * 9
        assert len(verifications) == 3


async def test_past_the_account_wide_cap_each_address_gets_one_guess(app_with, verifications):
    """The documented price of never locking the user out: once the account's cap is
    reached, every address that has not guessed wrong gets one guess, sent at once or not,
    and then no more until its failures age out."""
    addresses = [f"192.0.2.{i}" for i in range(12)]
    async with limited(app_with, per_account="3/minute") as c:
        payloads = await asyncio.gather(*(c.login("alice", WRONG, a) for a in addresses))
        assert all(codes(p) == [("INVALID_CREDENTIALS", None)] for p in payloads)
        assert len(verifications) == 12
        payloads = await asyncio.gather(*(c.login("alice", PASSWORD, a) for a in addresses))
        for payload in payloads:
            assert_rate_limited(payload)
        assert len(verifications) == 12


async def test_unknown_account_names_are_limited_too(app_with):
    async with limited(app_with, per_account_and_address="3/minute") as c:
        for _ in range(3):
            assert_refused(await c.login("nobody", WRONG))
        assert_rate_limited(await c.login("nobody", WRONG))


async def test_a_successful_login_clears_the_counter_of_its_address(app_with):
    async with limited(app_with, per_account_and_address="3/minute") as c:
        for _ in range(2):
            assert_refused(await c.login("alice", WRONG))
        assert_signed_in(await c.login("alice", PASSWORD))
        for _ in range(3):
            assert_refused(await c.login("alice", WRONG))
        assert_rate_limited(await c.login("alice", WRONG))


async def test_several_windows_and_the_longest_retry_after(app_with):
    async with limited(app_with, per_account_and_address="100/minute;3/hour") as c:
        for _ in range(3):
            assert_refused(await c.login("alice", WRONG))
        payload = await c.login("alice", WRONG)
        assert_rate_limited(payload, longest=3600)
        assert payload["errors"][0]["retryAfter"] > 60


# --- per client address --------------------------------------------------------------------


async def test_failed_logins_are_limited_per_client_address(app_with):
    async with limited(app_with, per_address="3/minute") as c:
        for name in ("alice", "bob", "carol"):
            assert_refused(await c.login(name, WRONG))
        assert_rate_limited(await c.login("dave", WRONG))
        assert_rate_limited(await c.login("alice", PASSWORD))
        # Another address is not affected.
        assert_signed_in(await c.login("alice", PASSWORD, address="192.0.2.77"))


async def test_an_ipv6_client_address_is_its_64_bit_prefix(app_with):
    """One subscriber's /64 is one address: its 2^64 addresses buy no fresh budget."""
    async with limited(app_with, per_address="2/minute") as c:
        assert_refused(await c.login("carol", WRONG, address="2001:db8:0:1::1"))
        assert_refused(await c.login("dave", WRONG, address="2001:db8:0:1::2"))
        assert_rate_limited(await c.login("erin", WRONG, address="2001:db8:0:1:ffff::9"))
        assert_signed_in(await c.login("alice", PASSWORD, address="2001:db8:0:2::1"))


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
    async with limited(app_with, per_account_and_address="3/minute") as c:
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
    async with limited(app_with, per_account_and_address="3/minute") as c:
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
    async with limited(app_with, per_account_and_address="3/minute") as c:
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
    async with limited(app_with, per_account_and_address="3/minute") as c:
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
        # A stolen session's guesses close its own address only.
        assert_signed_in(await c.login("alice", PASSWORD, address=USER))


async def test_a_right_current_password_clears_the_counter(app_with):
    async with limited(app_with, per_account_and_address="3/minute") as c:
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
        app_with,
        tmp_path,
        login_limit_per_account_and_address="3/minute",
        login_limit_per_address="100/minute",
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
