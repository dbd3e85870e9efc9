"""Providers configured by discovery: their keys fetched over HTTP, cached, fetched again on
a rotation, never more than once per refresh interval, and a provider that is down is a
typed error, never a 500."""

from __future__ import annotations

import asyncio
import secrets
import time

import pytest

from accord.settings import SettingsError, load_settings
from tests.accounts_api import SIGN_IN_WITH_PROVIDER
from tests.conftest import GraphQL
from tests.oidc_provider import ServedIdP, new_subject
from tests.processes import free_port


@pytest.fixture
def served():
    with ServedIdP("rotating") as idp:
        yield idp


async def sign_in(gql: GraphQL, token: str, **extra) -> dict:
    body = await gql(
        SIGN_IN_WITH_PROVIDER, {"input": {"provider": "rotating", "idToken": token, **extra}}
    )
    return body["data"]["signInWithProvider"]


def error_codes(payload: dict) -> list[str]:
    return [e["code"] for e in payload["errors"]]


def app_trusting(app_with, idp: ServedIdP, config=None, **settings):
    return app_with(oidc_providers={"rotating": config or idp.config()}, **settings)


async def test_keys_come_from_the_discovery_document_and_are_kept(app_with, served):
    async with app_trusting(app_with, served) as http:
        gql = GraphQL(http)
        for _ in range(3):
            result = await sign_in(gql, served.id_token(new_subject()))
            assert result["errors"] == [] and result["created"], result
    assert served.fetches == {"discovery": 1, "jwks": 1}


async def test_issuer_discovery_finds_the_document_from_the_issuer(app_with, served):
    config = {"issuer": served.issuer, "client_id": served.idp.client_id, "discovery": True}
    async with app_trusting(app_with, served, config) as http:
        result = await sign_in(GraphQL(http), served.id_token(new_subject()))
    assert result["errors"] == [], result
    assert served.fetches["discovery"] == 1


async def test_a_rotated_key_is_picked_up_without_a_restart(app_with, served):
    async with app_trusting(app_with, served, oidc_keys_refresh_interval=0.3) as http:
        gql = GraphQL(http)
        subject = new_subject()
        assert (await sign_in(gql, served.id_token(subject)))["errors"] == []
        served.rotate()  # the old key is gone, a new kid signs
        await asyncio.sleep(0.35)
        result = await sign_in(gql, served.id_token(subject))
        assert result["errors"] == [] and not result["created"], result
        assert served.fetches["jwks"] == 2
        # ... and the new keys are kept: no fetch for the next token.
        assert (await sign_in(gql, served.id_token(subject)))["errors"] == []
    assert served.fetches["jwks"] == 2


async def test_made_up_key_ids_cost_the_provider_one_fetch_per_interval(app_with, served):
    async with app_trusting(app_with, served, oidc_keys_refresh_interval=2) as http:
        gql = GraphQL(http)
        assert (await sign_in(gql, served.id_token(new_subject())))["errors"] == []
        await asyncio.sleep(2.05)  # a fetch is allowed again; both floods fit in the next 2 s

        async def forged() -> list[str]:
            token = served.idp.id_token(
                new_subject(),
                alg="ES256",
                key=served.idp.stranger_ec,
                kid="made-up-" + secrets.token_hex(8),
            )
            return error_codes(await sign_in(gql, token))

        # A flood at once: one fetch between them all, every token refused.
        results = await asyncio.gather(*(forged() for _ in range(20)))
        assert all(r == ["INVALID_TOKEN"] for r in results), results
        assert served.fetches["jwks"] == 2
        # Within the interval, no fetch at all.
        results = await asyncio.gather(*(forged() for _ in range(20)))
        assert all(r == ["INVALID_TOKEN"] for r in results), results
        assert served.fetches["jwks"] == 2
        # A real key still signs in meanwhile.
        assert (await sign_in(gql, served.id_token(new_subject())))["errors"] == []


@pytest.mark.parametrize("outage", ["HTTP 503", "nothing listening"])
async def test_a_provider_that_is_down_is_a_typed_error(app_with, served, outage):
    config = served.config()
    if outage == "HTTP 503":
        served.failing_with = 503
    else:
        config["discovery"] = f"http://127.0.0.1:{free_port()}/.well-known/openid-configuration"
    async with app_trusting(app_with, served, config) as http:
        gql = GraphQL(http)
        result = await sign_in(gql, served.id_token(new_subject()))
        [error] = result["errors"]
        assert (error["code"], error["field"]) == ("PROVIDER_UNAVAILABLE", "provider"), result
        assert 1 <= error["retryAfter"] <= 60  # the refresh interval, a minute by default
        # Asked again only after the refresh interval: the next sign-in fails at once.
        started = time.monotonic()
        assert error_codes(await sign_in(gql, served.id_token(new_subject()))) == [
            "PROVIDER_UNAVAILABLE"
        ]
        assert time.monotonic() - started < 1
    assert served.fetches["discovery"] == (1 if outage == "HTTP 503" else 0)


async def test_keys_fetched_before_an_outage_still_verify(app_with, served):
    async with app_trusting(
        app_with, served, oidc_keys_max_age=0.2, oidc_keys_refresh_interval=0.2
    ) as http:
        gql = GraphQL(http)
        subject = new_subject()
        assert (await sign_in(gql, served.id_token(subject)))["errors"] == []
        served.failing_with = 503
        await asyncio.sleep(0.25)  # the keys are past their age: a fetch is tried and fails
        assert (await sign_in(gql, served.id_token(subject)))["errors"] == []
        await asyncio.sleep(0.25)
        served.rotate()  # a kid we have never seen, and no way to ask the provider
        assert error_codes(await sign_in(gql, served.id_token(subject))) == ["PROVIDER_UNAVAILABLE"]
    assert served.fetches["jwks"] == 1


async def test_a_discovery_document_of_another_issuer_is_not_trusted(app_with, served):
    served.discovery_issuer = "https://evil.example"
    async with app_trusting(app_with, served) as http:
        result = await sign_in(GraphQL(http), served.id_token(new_subject()))
    assert error_codes(result) == ["PROVIDER_UNAVAILABLE"]
    assert served.fetches["jwks"] == 0


async def test_discovered_keys_still_check_every_claim(app_with, served):
    idp = served.idp
    async with app_trusting(app_with, served) as http:
        gql = GraphQL(http)
        refused = [
            idp.expired(alg="ES256"),
            idp.wrong_audience(alg="ES256"),
            idp.wrong_issuer(alg="ES256"),
            idp.wrong_key(alg="ES256"),
            idp.alg_none(),
        ]
        for token in refused:
            assert error_codes(await sign_in(gql, token)) == ["INVALID_TOKEN"], token
        token = served.id_token(new_subject(), nonce="n-1")
        assert error_codes(await sign_in(gql, token, nonce="n-2")) == ["INVALID_TOKEN"]
        assert (await sign_in(gql, token, nonce="n-1"))["errors"] == []


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ({"discovery": "http://id.example/.well-known/openid-configuration"}, "https"),
        ({"jwks_uri": "ftp://id.example/keys"}, "https"),
        ({}, "needs discovery, jwks_uri, jwks or jwks_file"),
    ],
)
def test_providers_are_checked_at_start_up(config, message):
    providers = {"p": {"issuer": "https://id.example", "client_id": "c", **config}}
    with pytest.raises(SettingsError, match="ACCORD_OIDC_PROVIDERS") as error:
        load_settings(oidc_providers=providers)
    assert message in str(error.value)
