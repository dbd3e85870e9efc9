"""Third-party (OpenID Connect) sign-in, bind, unbind and recovery through the API."""

from __future__ import annotations

import base64
import json
import time
from datetime import timedelta

import pytest

from models.accounts.account import Account, account_name_index
from models.accounts.bindings import Binding, PasswordReset
from models.accounts.sessions import Session
from models.clock import now
from tests.accounts_api import (
    BIND_PROVIDER,
    OTHER_PASSWORD,
    PASSWORD,
    RECOVER_WITH_PROVIDER,
    RESET_PASSWORD,
    SIGN_IN_WITH_PROVIDER,
    UNBIND_PROVIDER,
    codes,
    login,
    register,
    viewer,
)
from tests.ids import pk
from tests.oidc_provider import acme, globex, new_subject, provider_app

NEW_PASSWORD = "emerald-thicket-93-gently"

#: Claims a provider may send that the privacy policy does not let us take.
PRIVATE_CLAIMS = {
    "email": "ada@example.com",
    "email_verified": True,
    "gender": "female",
    "birthdate": "1815-12-10",
    "locale": "en-GB",
    "zoneinfo": "Europe/London",
    "phone_number": "+44 20 7946 0000",
    "address": {"country": "GB"},
}


@pytest.fixture
async def provider(app_with, tmp_path):
    async with provider_app(app_with, tmp_path) as app:
        yield app


async def sign_in(p, token: str, provider_name: str = "acme", **extra) -> dict:
    body = await p.gql(
        SIGN_IN_WITH_PROVIDER,
        {"input": {"provider": provider_name, "idToken": token, **extra}},
    )
    return body["data"]["signInWithProvider"]


async def bind(p, session: str, token: str, provider_name: str = "acme", **extra) -> dict:
    body = await p.gql(
        BIND_PROVIDER,
        {"input": {"provider": provider_name, "idToken": token, **extra}},
        token=session,
    )
    return body["data"]["bindProvider"]


async def unbind(p, session: str, provider_name: str = "acme", **extra) -> dict:
    body = await p.gql(
        UNBIND_PROVIDER, {"input": {"provider": provider_name, **extra}}, token=session
    )
    return body["data"]["unbindProvider"]


async def recover(p, token: str, provider_name: str = "acme", **extra) -> dict:
    body = await p.gql(
        RECOVER_WITH_PROVIDER,
        {"input": {"provider": provider_name, "idToken": token, **extra}},
    )
    return body["data"]["recoverWithProvider"]


async def reset(p, reset_token: str, new_password: str = NEW_PASSWORD) -> dict:
    body = await p.gql(
        RESET_PASSWORD, {"input": {"resetToken": reset_token, "newPassword": new_password}}
    )
    return body["data"]["resetPassword"]


async def make_sessions_old(account_name: str, settings) -> None:
    """As if every session of the account signed in longer ago than the recent-auth window."""
    long_ago = now() - settings.recent_auth_window - timedelta(minutes=1)
    await Session.filter(account__account_name_index=await account_name_index(account_name)).update(
        authenticated_at=long_ago
    )


# --- signInWithProvider --------------------------------------------------------------------


async def test_first_sign_in_creates_an_account_from_public_claims_only(provider):
    token = provider.acme.id_token(
        "ada-1",
        name="Ada Lovelace",
        picture="https://avatars.acme.test/ada.png",
        **PRIVATE_CLAIMS,
    )
    payload = await sign_in(provider, token)
    assert payload["errors"] == []
    assert payload["created"] is True
    account = payload["account"]
    assert account["nickname"] == "Ada Lovelace"
    assert account["avatarUrl"] == "https://avatars.acme.test/ada.png"
    assert account["gender"] == "UNDISCLOSED"
    assert account["region"] is None
    assert account["signature"] == ""
    assert account["hasPassword"] is False
    assert account["role"] == "USER"
    row = await Account.get(id=pk(account["id"]))
    stored = repr(row.__dict__)
    for value in ("ada@example.com", "1815-12-10", "+44 20 7946 0000", "en-GB"):
        assert value not in stored
    me = await viewer(provider.gql, payload["token"])
    assert me["id"] == account["id"]
    assert [(b["provider"], b["nickname"], b["avatarUrl"]) for b in me["bindings"]] == [
        ("acme", "Ada Lovelace", "https://avatars.acme.test/ada.png")
    ]


async def test_second_sign_in_finds_the_same_account(provider):
    subject = new_subject()
    first = await sign_in(provider, provider.acme.id_token(subject, name="Ada"))
    second = await sign_in(provider, provider.acme.id_token(subject, name="Someone Else"))
    assert second["errors"] == []
    assert second["created"] is False
    assert second["account"]["id"] == first["account"]["id"]
    assert second["token"] != first["token"]
    assert (await viewer(provider.gql, first["token"]))["id"] == first["account"]["id"]
    assert (await viewer(provider.gql, second["token"]))["id"] == first["account"]["id"]
    assert await Account.all().count() == 1


async def test_the_same_subject_at_another_provider_is_another_identity(provider):
    subject = new_subject()
    at_acme = await sign_in(provider, provider.acme.id_token(subject))
    at_globex = await sign_in(provider, provider.globex.id_token(subject, alg="ES256"), "globex")
    assert at_acme["created"] is True and at_globex["created"] is True
    assert at_acme["account"]["id"] != at_globex["account"]["id"]


async def test_es256_tokens_and_a_jwks_file_are_accepted(provider):
    by_ec = await sign_in(provider, provider.acme.id_token(new_subject(), alg="ES256"))
    assert by_ec["errors"] == [] and by_ec["created"] is True
    from_file = await sign_in(
        provider, provider.globex.id_token(new_subject(), alg="ES256"), "globex"
    )
    assert from_file["errors"] == [] and from_file["created"] is True


@pytest.mark.parametrize(
    ("claims", "nickname"),
    [
        ({"nickname": "adal", "name": "Ada Lovelace"}, "adal"),
        ({"name": "Ada Lovelace"}, "Ada Lovelace"),
        ({"name": "A" * 60}, "A" * 32),
    ],
)
async def test_nickname_comes_from_the_nickname_or_name_claim(provider, claims, nickname):
    payload = await sign_in(provider, provider.acme.id_token(new_subject(), **claims))
    assert payload["account"]["nickname"] == nickname


@pytest.mark.parametrize(
    "claims",
    [
        {},
        {"name": ""},
        {"name": "evil\x00\x1bname"},
        {"name": 42},
        {"picture": "http://insecure.acme.test/a.png"},
        {"picture": "javascript:alert(1)"},
        {"picture": "https://acme.test/" + "p" * 3000},
        {"picture": ["https://acme.test/a.png"]},
    ],
)
async def test_unusable_public_claims_still_give_a_valid_account(provider, claims):
    payload = await sign_in(provider, provider.acme.id_token(new_subject(), **claims))
    assert payload["errors"] == [] and payload["created"] is True
    account = payload["account"]
    assert 1 <= len(account["nickname"]) <= 32
    assert "\x00" not in account["nickname"] and "\x1b" not in account["nickname"]
    assert account["avatarUrl"] is None or account["avatarUrl"].startswith("https://")
    assert account["avatarUrl"] is None or len(account["avatarUrl"]) <= 2048


def _bad_tokens(idp, other):
    now = int(time.time())
    return {
        "expired": idp.expired(),
        "wrong audience": idp.wrong_audience(),
        "audience list without us": idp.id_token(aud=["someone-else", "another"]),
        "several audiences, no authorized party": idp.id_token(aud=[idp.client_id, "other"]),
        "wrong issuer": idp.wrong_issuer(),
        "another provider's token": other.id_token(alg="ES256"),
        "wrong RSA key": idp.wrong_key(alg="RS256"),
        "wrong EC key": idp.wrong_key(alg="ES256"),
        "alg none": idp.alg_none(),
        "HS256 keyed with the public key": idp.hmac_with_public_key(),
        "issued in the future": idp.id_token(iat=now + 3600, exp=now + 7200),
        "no exp": idp.id_token(exp=None),
        "no iat": idp.id_token(iat=None),
        "no sub": idp.id_token(sub=None),
        "no iss": idp.id_token(iss=None),
        "no aud": idp.id_token(aud=None),
        "numeric sub": idp.id_token(sub=12345),
        "overlong sub": idp.id_token("s" * 300),
        "authorized party is another client": idp.id_token(
            aud=[idp.client_id, "other-client"], azp="other-client"
        ),
        "tampered claims": _tamper(idp.id_token("victim")),
        "garbage": "not-a-token",
        "three garbage parts": "a.b.c",
        "empty": "",
        "oversized": "x" * 20_000,
    }


def _tamper(token: str) -> str:
    """Swap the payload for one naming another subject, keeping the signature."""
    header, payload, signature = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims["sub"] = "attacker"
    forged = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    return f"{header}.{forged}.{signature}"


def _bad_token_ids():
    return list(_bad_tokens(acme(), globex()))


@pytest.mark.parametrize("case", _bad_token_ids())
async def test_bad_tokens_are_refused_everywhere(provider, case):
    token = _bad_tokens(provider.acme, provider.globex)[case]
    payload = await sign_in(provider, token)
    assert codes(payload) == [("INVALID_TOKEN", "idToken")]
    assert payload["token"] is None and payload["account"] is None
    assert await Account.all().count() == 0

    me = await register(provider.gql, "bea")
    assert codes(await bind(provider, me["token"], token)) == [("INVALID_TOKEN", "idToken")]
    assert codes(await recover(provider, token)) == [("INVALID_TOKEN", "idToken")]
    assert await Binding.all().count() == 0
    assert await PasswordReset.all().count() == 0


async def test_a_valid_token_signed_by_each_key_passes_the_same_checks(provider):
    """The control for the test above: the same provider's good tokens do work."""
    for alg in ("RS256", "ES256"):
        payload = await sign_in(provider, provider.acme.id_token(new_subject(), alg=alg))
        assert payload["errors"] == []
    listed = provider.acme.id_token(
        new_subject(), aud=["other", provider.acme.client_id], azp=provider.acme.client_id
    )
    assert (await sign_in(provider, listed))["errors"] == []


async def test_unknown_provider(provider):
    token = provider.acme.id_token()
    for name in ("nope", "", "ACME", "x" * 500):
        assert codes(await sign_in(provider, token, name)) == [("UNKNOWN_PROVIDER", "provider")]
        assert codes(await recover(provider, token, name)) == [("UNKNOWN_PROVIDER", "provider")]
    me = await register(provider.gql, "bea")
    assert codes(await bind(provider, me["token"], token, "nope")) == [
        ("UNKNOWN_PROVIDER", "provider")
    ]
    assert await Account.all().count() == 1


async def test_nonce_is_checked_when_given(provider):
    subject = new_subject()
    with_nonce = provider.acme.id_token(subject, nonce="n-0S6_WzA2Mj")
    assert (await sign_in(provider, with_nonce, nonce="n-0S6_WzA2Mj"))["errors"] == []
    assert codes(await sign_in(provider, with_nonce, nonce="another-nonce")) == [
        ("INVALID_TOKEN", "idToken")
    ]
    without = provider.acme.id_token(subject)
    assert codes(await sign_in(provider, without, nonce="n-0S6_WzA2Mj")) == [
        ("INVALID_TOKEN", "idToken")
    ]
    me = await register(provider.gql, "bea")
    other = provider.acme.id_token(new_subject(), nonce="abc")
    assert codes(await bind(provider, me["token"], other, nonce="xyz")) == [
        ("INVALID_TOKEN", "idToken")
    ]
    assert codes(await recover(provider, with_nonce, nonce="xyz")) == [("INVALID_TOKEN", "idToken")]


async def test_a_provider_only_account_cannot_log_in_with_a_password(provider):
    payload = await sign_in(provider, provider.acme.id_token(new_subject()))
    name = payload["account"]["accountName"]
    for guess in ("", PASSWORD, "x" * 12):
        assert codes(await login(provider.gql, name, guess)) == [("INVALID_CREDENTIALS", None)]


# --- bindProvider --------------------------------------------------------------------------


async def test_bind_then_sign_in_with_the_bound_identity(provider):
    me = await register(provider.gql, "bea")
    subject = new_subject()
    token = provider.acme.id_token(subject, nickname="bea-at-acme", email="bea@acme.test")
    payload = await bind(provider, me["token"], token)
    assert payload["errors"] == []
    assert payload["binding"]["provider"] == "acme"
    assert payload["binding"]["nickname"] == "bea-at-acme"
    bindings = (await viewer(provider.gql, me["token"]))["bindings"]
    assert [b["provider"] for b in bindings] == ["acme"]
    signed_in = await sign_in(provider, provider.acme.id_token(subject))
    assert signed_in["created"] is False
    assert signed_in["account"]["id"] == me["account"]["id"]
    # Binding does not change the profile.
    assert (await viewer(provider.gql, me["token"]))["nickname"] == "Alice"


async def test_binding_the_same_identity_again_is_harmless(provider):
    me = await register(provider.gql, "bea")
    subject = new_subject()
    assert (await bind(provider, me["token"], provider.acme.id_token(subject)))["errors"] == []
    again = await bind(provider, me["token"], provider.acme.id_token(subject))
    assert again["errors"] == []
    assert await Binding.all().count() == 1


async def test_one_identity_binds_to_at_most_one_account(provider):
    a = await register(provider.gql, "anna")
    b = await register(provider.gql, "bert", password=OTHER_PASSWORD)
    subject = new_subject()
    assert (await bind(provider, a["token"], provider.acme.id_token(subject)))["errors"] == []
    taken = await bind(provider, b["token"], provider.acme.id_token(subject))
    assert codes(taken) == [("ALREADY_BOUND", "idToken")]
    assert taken["binding"] is None
    assert (await viewer(provider.gql, b["token"]))["bindings"] == []
    signed_in = await sign_in(provider, provider.acme.id_token(subject))
    assert signed_in["account"]["id"] == a["account"]["id"]


async def test_an_identity_that_made_its_own_account_cannot_be_bound_elsewhere(provider):
    subject = new_subject()
    own = await sign_in(provider, provider.acme.id_token(subject))
    me = await register(provider.gql, "bea")
    assert codes(await bind(provider, me["token"], provider.acme.id_token(subject))) == [
        ("ALREADY_BOUND", "idToken")
    ]
    assert (await sign_in(provider, provider.acme.id_token(subject)))["account"]["id"] == own[
        "account"
    ]["id"]


async def test_one_identity_per_provider_per_account(provider):
    me = await register(provider.gql, "bea")
    assert (await bind(provider, me["token"], provider.acme.id_token(new_subject())))[
        "errors"
    ] == []
    second = await bind(provider, me["token"], provider.acme.id_token(new_subject()))
    assert codes(second) == [("ALREADY_BOUND", "provider")]
    globex = await bind(
        provider, me["token"], provider.globex.id_token(new_subject(), alg="ES256"), "globex"
    )
    assert globex["errors"] == []
    bindings = (await viewer(provider.gql, me["token"]))["bindings"]
    assert sorted(b["provider"] for b in bindings) == ["acme", "globex"]


# --- unbindProvider ------------------------------------------------------------------------


async def _bound(provider, name: str = "bea") -> tuple[dict, str]:
    me = await register(provider.gql, name)
    subject = new_subject()
    assert (await bind(provider, me["token"], provider.acme.id_token(subject)))["errors"] == []
    return me, subject


async def test_unbind_with_a_recently_signed_in_session(provider):
    me, subject = await _bound(provider)
    assert (await unbind(provider, me["token"]))["errors"] == []
    assert (await viewer(provider.gql, me["token"]))["bindings"] == []
    # The identity is free again: signing in with it now makes a new account.
    again = await sign_in(provider, provider.acme.id_token(subject))
    assert again["created"] is True and again["account"]["id"] != me["account"]["id"]


async def test_unbind_on_an_old_session_needs_reauthentication(provider, settings):
    me, _ = await _bound(provider)
    await make_sessions_old("bea", settings)
    payload = await unbind(provider, me["token"])
    assert codes(payload) == [("REAUTHENTICATION_REQUIRED", None)]
    assert await Binding.all().count() == 1


async def test_unbind_on_an_old_session_with_the_password(provider, settings):
    me, _ = await _bound(provider)
    await make_sessions_old("bea", settings)
    wrong = await unbind(provider, me["token"], password="not-my-password-at-all")
    assert codes(wrong) == [("INVALID_CREDENTIALS", "password")]
    assert await Binding.all().count() == 1
    assert (await unbind(provider, me["token"], password=PASSWORD))["errors"] == []
    assert await Binding.all().count() == 0


async def test_unbind_on_an_old_session_with_a_fresh_token(provider, settings):
    me, subject = await _bound(provider)
    await make_sessions_old("bea", settings)
    stranger = await unbind(provider, me["token"], idToken=provider.acme.id_token(new_subject()))
    assert codes(stranger) == [("NOT_BOUND", "idToken")]
    expired = await unbind(provider, me["token"], idToken=provider.acme.expired(subject))
    assert codes(expired) == [("INVALID_TOKEN", "idToken")]
    forged = await unbind(provider, me["token"], idToken=provider.acme.alg_none(subject))
    assert codes(forged) == [("INVALID_TOKEN", "idToken")]
    assert await Binding.all().count() == 1
    fresh = provider.acme.id_token(subject)
    assert (await unbind(provider, me["token"], idToken=fresh))["errors"] == []
    assert await Binding.all().count() == 0


async def test_an_old_but_unexpired_token_is_not_recent_authentication(provider, settings):
    me, subject = await _bound(provider)
    await make_sessions_old("bea", settings)
    issued = int(time.time()) - int(settings.recent_auth_window.total_seconds()) - 120
    stale = provider.acme.id_token(subject, iat=issued, exp=issued + 86_400)
    assert codes(await unbind(provider, me["token"], idToken=stale)) == [
        ("REAUTHENTICATION_REQUIRED", "idToken")
    ]
    # auth_time, when the provider sends it, is when the user last proved who they are.
    refreshed = provider.acme.id_token(subject, auth_time=issued)
    assert codes(await unbind(provider, me["token"], idToken=refreshed)) == [
        ("REAUTHENTICATION_REQUIRED", "idToken")
    ]
    assert await Binding.all().count() == 1


async def test_recent_auth_window_comes_from_settings(app_with, tmp_path):
    async with provider_app(app_with, tmp_path, recent_auth_window=1) as p:
        me, _ = await _bound(p)
        await Session.filter(account__account_name_index=await account_name_index("bea")).update(
            authenticated_at=now() - timedelta(seconds=3)
        )
        assert codes(await unbind(p, me["token"])) == [("REAUTHENTICATION_REQUIRED", None)]


async def test_unbind_of_a_provider_that_is_not_bound(provider):
    me = await register(provider.gql, "bea")
    assert codes(await unbind(provider, me["token"])) == [("NOT_BOUND", "provider")]
    assert codes(await unbind(provider, me["token"], provider_name="nope")) == [
        ("NOT_BOUND", "provider")
    ]


async def test_the_last_way_to_sign_in_cannot_be_unbound(provider):
    subject = new_subject()
    created = await sign_in(provider, provider.acme.id_token(subject))
    session = created["token"]
    assert codes(await unbind(provider, session)) == [("LAST_SIGN_IN_METHOD", "provider")]
    assert await Binding.all().count() == 1
    # With a second identity bound, either one may go, but not both.
    globex = await bind(
        provider, session, provider.globex.id_token(new_subject(), alg="ES256"), "globex"
    )
    assert globex["errors"] == []
    assert (await unbind(provider, session))["errors"] == []
    assert codes(await unbind(provider, session, provider_name="globex")) == [
        ("LAST_SIGN_IN_METHOD", "provider")
    ]
    me = await viewer(provider.gql, session)
    assert [b["provider"] for b in me["bindings"]] == ["globex"]


async def test_a_password_set_by_recovery_makes_the_last_binding_removable(provider):
    subject = new_subject()
    created = await sign_in(provider, provider.acme.id_token(subject))
    name = created["account"]["accountName"]
    reset_token = (await recover(provider, provider.acme.id_token(subject)))["resetToken"]
    assert (await reset(provider, reset_token))["errors"] == []
    session = (await login(provider.gql, name, NEW_PASSWORD))["token"]
    assert (await viewer(provider.gql, session))["hasPassword"] is True
    assert (await unbind(provider, session))["errors"] == []


# --- recoverWithProvider and resetPassword -------------------------------------------------


async def test_recovery_sets_the_password_and_ends_every_session(provider):
    me, subject = await _bound(provider)
    other = await login(provider.gql, "bea")
    payload = await recover(provider, provider.acme.id_token(subject))
    assert payload["errors"] == []
    reset_token = payload["resetToken"]
    assert reset_token and len(reset_token) >= 22
    assert (await reset(provider, reset_token))["errors"] == []
    assert await viewer(provider.gql, me["token"]) is None
    assert await viewer(provider.gql, other["token"]) is None
    assert codes(await login(provider.gql, "bea", PASSWORD)) == [("INVALID_CREDENTIALS", None)]
    assert (await login(provider.gql, "bea", NEW_PASSWORD))["errors"] == []


async def test_a_reset_token_works_once(provider):
    _, subject = await _bound(provider)
    reset_token = (await recover(provider, provider.acme.id_token(subject)))["resetToken"]
    assert (await reset(provider, reset_token))["errors"] == []
    again = await reset(provider, reset_token, OTHER_PASSWORD)
    assert codes(again) == [("INVALID_TOKEN", "resetToken")]
    assert (await login(provider.gql, "bea", NEW_PASSWORD))["errors"] == []


async def test_a_reset_ends_the_other_outstanding_reset_tokens(provider):
    _, subject = await _bound(provider)
    first = (await recover(provider, provider.acme.id_token(subject)))["resetToken"]
    second = (await recover(provider, provider.acme.id_token(subject)))["resetToken"]
    assert first != second
    assert (await reset(provider, second))["errors"] == []
    assert codes(await reset(provider, first, OTHER_PASSWORD)) == [("INVALID_TOKEN", "resetToken")]


async def test_an_expired_reset_token_is_refused(provider):
    _, subject = await _bound(provider)
    reset_token = (await recover(provider, provider.acme.id_token(subject)))["resetToken"]
    await PasswordReset.all().update(expires_at=now() - timedelta(seconds=1))
    assert codes(await reset(provider, reset_token)) == [("INVALID_TOKEN", "resetToken")]
    assert (await login(provider.gql, "bea", PASSWORD))["errors"] == []


async def test_reset_token_lifetime_comes_from_settings(app_with, tmp_path):
    async with provider_app(app_with, tmp_path, password_reset_ttl=120) as p:
        _, subject = await _bound(p)
        assert (await recover(p, p.acme.id_token(subject)))["errors"] == []
        row = await PasswordReset.get()
        assert timedelta(seconds=110) < row.expires_at - now() <= timedelta(seconds=120)


@pytest.mark.parametrize(
    ("new_password", "expected"),
    [
        ("passwordpassword", ("WEAK_PASSWORD", "newPassword")),
        ("password1234", ("BREACHED_PASSWORD", "newPassword")),
        ("bea", ("INVALID", "newPassword")),
        ("n" * 129, ("INVALID", "newPassword")),
    ],
)
async def test_a_refused_new_password_does_not_spend_the_token(provider, new_password, expected):
    me, subject = await _bound(provider)
    reset_token = (await recover(provider, provider.acme.id_token(subject)))["resetToken"]
    assert codes(await reset(provider, reset_token, new_password)) == [expected]
    # Nothing happened: the old password and session still work, and the token too.
    assert (await viewer(provider.gql, me["token"]))["accountName"] == "bea"
    assert (await reset(provider, reset_token))["errors"] == []
    assert (await login(provider.gql, "bea", NEW_PASSWORD))["errors"] == []


@pytest.mark.parametrize("reset_token", ["", "not-a-token", "x" * 5000])
async def test_made_up_reset_tokens_are_refused(provider, reset_token):
    await _bound(provider)
    assert codes(await reset(provider, reset_token)) == [("INVALID_TOKEN", "resetToken")]


async def test_recovery_with_an_unbound_identity(provider):
    await register(provider.gql, "bea")
    payload = await recover(provider, provider.acme.id_token(new_subject()))
    assert codes(payload) == [("NOT_BOUND", "idToken")]
    assert payload["resetToken"] is None
    assert await PasswordReset.all().count() == 0


async def test_reset_tokens_are_stored_only_as_hashes(provider):
    _, subject = await _bound(provider)
    reset_token = (await recover(provider, provider.acme.id_token(subject)))["resetToken"]
    rows = await PasswordReset.all().values()
    assert len(rows) == 1
    assert reset_token not in repr(rows)
