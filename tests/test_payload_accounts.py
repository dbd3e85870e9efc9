"""An `Account` a mutation returns resolves exactly as `viewer` does for it (issue 14).

Apollo caches both as `Account:<id>`: a payload that answered `requiresReconsent: false`,
no favorites, no sessions and no bindings (as for a stranger) overwrote the right values,
and an app routing on `requiresReconsent` skipped the re-consent screen. Every mutation
whose payload holds an `Account` is found by walking the schema, so a new one fails here
until it has a recipe below.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import pyotp
import pytest

from tests.accounts_api import PASSWORD
from tests.authenticator import SoftwareAuthenticator
from tests.consent_helpers import officer, published
from tests.contact_helpers import add_and_verify_email, add_email, mailed_code
from tests.oidc_provider import ProviderApp, new_subject, provider_app
from tests.passkeys_api import add_passkey, begin_sign_in
from tests.personal_helpers import favorite

#: Every field of `Account` that depends on who reads it, and enough of the rest.
ACCOUNT = """
  id accountName
  requiresReconsent
  consents { purpose { code } granted }
  favorites(first: 10) { edges { node { id itemId } } }
  feedback(first: 10) { edges { node { id } } }
  supportThreads(first: 10) { edges { node { id } } }
  notifications(first: 10) { edges { node { id } } }
  consentHistory(first: 10) { edges { node { id kind } } }
  bindings { provider nickname }
  passkeys { id name }
  sessions { id current }
  email pendingEmail { address attemptsLeft }
"""

VIEWER = f"{{ viewer {{ {ACCOUNT} }} }}"

PAYLOAD_HOLDERS = """
{ __schema { mutationType { fields { name type { ofType { name fields {
    name type { name kind ofType { name } } } } } } } } }
"""


def mutation(name: str, input_type: str, extra: str = "") -> str:
    return f"""
mutation($input: {input_type}!) {{
  {name}(input: $input) {{ account {{ {ACCOUNT} }} {extra} errors {{ code field }} }}
}}"""


@dataclass
class User:
    name: str
    token: str
    subject: str


async def _call(p: ProviderApp, name: str, given: dict, token: str | None = None) -> dict:
    input_type = name[0].upper() + name[1:] + "Input"
    signs_in = name in (
        "register",
        "login",
        "signInWithProvider",
        "restoreAccount",
        "completeSignIn",
        "finishPasskeySignIn",
    )
    extra = "token" if signs_in else ""
    body = await p.gql(mutation(name, input_type, extra), {"input": given}, token=token)
    result = body["data"][name]
    assert result["errors"] == [], result
    return result


async def _viewer(p: ProviderApp, token: str) -> dict[str, Any]:
    account = (await p.gql(VIEWER, token=token))["data"]["viewer"]
    assert account is not None
    return account


async def _world(p: ProviderApp) -> User:
    """A material policy not yet accepted; a user with a password, a favorite, a bound
    provider and two sessions."""
    staff = await officer(p.gql)
    await published(p.gql, staff.token, "v1", material=True, categories=["OTHER"])
    result = await _call(
        p, "register", {"accountName": "ada", "password": PASSWORD, "nickname": "Ada"}
    )
    token = result["token"]
    await favorite(p.gql, token, itemId="p-42")
    subject = new_subject()
    body = await p.gql(
        """mutation($input: BindProviderInput!) {
             bindProvider(input: $input) { errors { code } } }""",
        {"input": {"provider": "acme", "idToken": p.acme.id_token(subject)}},
        token=token,
    )
    assert body["data"]["bindProvider"]["errors"] == []
    second = await _call(p, "login", {"accountName": "ada", "password": PASSWORD})
    return User("ada", second["token"], subject)


Recipe = Callable[[ProviderApp], Awaitable[tuple[dict, dict]]]


async def _register(p: ProviderApp) -> tuple[dict, dict]:
    staff = await officer(p.gql)
    await published(p.gql, staff.token, "v1", material=True, categories=["OTHER"])
    result = await _call(
        p, "register", {"accountName": "grace", "password": PASSWORD, "nickname": "G"}
    )
    return result["account"], await _viewer(p, result["token"])


async def _login(p: ProviderApp) -> tuple[dict, dict]:
    user = await _world(p)
    result = await _call(p, "login", {"accountName": user.name, "password": PASSWORD})
    return result["account"], await _viewer(p, result["token"])


async def _sign_in_with_provider(p: ProviderApp) -> tuple[dict, dict]:
    user = await _world(p)
    given = {"provider": "acme", "idToken": p.acme.id_token(user.subject)}
    result = await _call(p, "signInWithProvider", given)
    return result["account"], await _viewer(p, result["token"])


async def _finish_passkey_sign_in(p: ProviderApp) -> tuple[dict, dict]:
    user = await _world(p)
    device = SoftwareAuthenticator()
    await add_passkey(p.gql, user.token, device)
    begun = await begin_sign_in(p.gql)
    given = {"challengeId": begun["challengeId"], "credential": device.get(begun["options"])}
    result = await _call(p, "finishPasskeySignIn", given)
    assert [k["name"] for k in result["account"]["passkeys"]] == ["Phone"]
    return result["account"], await _viewer(p, result["token"])


async def _restore_account(p: ProviderApp) -> tuple[dict, dict]:
    user = await _world(p)
    await _call(p, "cancelAccount", {"password": PASSWORD}, token=user.token)
    result = await _call(p, "restoreAccount", {"accountName": user.name, "password": PASSWORD})
    return result["account"], await _viewer(p, result["token"])


async def _update_profile(p: ProviderApp) -> tuple[dict, dict]:
    user = await _world(p)
    result = await _call(p, "updateProfile", {"nickname": "Countess"}, token=user.token)
    return result["account"], await _viewer(p, user.token)


async def _cancel_account(p: ProviderApp) -> tuple[dict, dict]:
    """After cancelling there is no viewer (every session ended): the payload shows the
    account as it was just before, with no sessions left and the cancellation notice."""
    user = await _world(p)
    before = await _viewer(p, user.token)
    result = await _call(p, "cancelAccount", {"password": PASSWORD}, token=user.token)
    returned = result["account"]
    notice = returned["notifications"]["edges"][:1]
    assert len(notice) == 1
    notices = {"edges": notice + before["notifications"]["edges"]}
    return returned, {**before, "sessions": [], "notifications": notices}


async def _enroll(p: ProviderApp, token: str) -> tuple[pyotp.TOTP, dict]:
    """An authenticator for the account of ``token``: it, and confirmTotp's payload."""
    body = await p.gql("mutation { enrollTotp { secret errors { code } } }", token=token)
    totp = pyotp.TOTP(body["data"]["enrollTotp"]["secret"])
    return totp, await _call(p, "confirmTotp", {"code": totp.now()}, token=token)


async def _confirm_totp(p: ProviderApp) -> tuple[dict, dict]:
    user = await _world(p)
    _, result = await _enroll(p, user.token)
    return result["account"], await _viewer(p, user.token)


async def _remove_totp(p: ProviderApp) -> tuple[dict, dict]:
    """Every other session ends: the one left is the caller's."""
    user = await _world(p)
    await _enroll(p, user.token)
    body = await p.gql(
        f"mutation {{ removeTotp {{ account {{ {ACCOUNT} }} errors {{ code }} }} }}",
        token=user.token,
    )
    result = body["data"]["removeTotp"]
    assert result["errors"] == [], result
    return result["account"], await _viewer(p, user.token)


async def _complete_sign_in(p: ProviderApp) -> tuple[dict, dict]:
    user = await _world(p)
    totp, _ = await _enroll(p, user.token)
    body = await p.gql(
        """mutation($input: LoginInput!) {
             login(input: $input) { secondFactor { challenge } errors { code } } }""",
        {"input": {"accountName": user.name, "password": PASSWORD}},
    )
    challenge = body["data"]["login"]["secondFactor"]["challenge"]
    # The next step's code: the current one confirmed the authenticator.
    code = totp.at(int(time.time()) + totp.interval)
    result = await _call(p, "completeSignIn", {"challenge": challenge, "totpCode": code})
    return result["account"], await _viewer(p, result["token"])


async def _verify_contact(p: ProviderApp) -> tuple[dict, dict]:
    user = await _world(p)
    added = await add_email(p.gql, user.token, "ada@mail.example")
    assert added["errors"] == [], added
    code = await mailed_code("ada@mail.example")
    result = await _call(p, "verifyContact", {"channel": "EMAIL", "code": code}, token=user.token)
    assert result["account"]["email"] == "ada@mail.example"
    return result["account"], await _viewer(p, user.token)


async def _remove_contact(p: ProviderApp) -> tuple[dict, dict]:
    user = await _world(p)
    await add_and_verify_email(p.gql, user.token, "ada@mail.example")
    await add_email(p.gql, user.token, "ada@new.example")
    result = await _call(p, "removeContact", {"channel": "EMAIL"}, token=user.token)
    assert result["account"]["email"] is None and result["account"]["pendingEmail"] is None
    return result["account"], await _viewer(p, user.token)


RECIPES: dict[str, Recipe] = {
    "confirmTotp": _confirm_totp,
    "removeTotp": _remove_totp,
    "completeSignIn": _complete_sign_in,
    "register": _register,
    "login": _login,
    "signInWithProvider": _sign_in_with_provider,
    "finishPasskeySignIn": _finish_passkey_sign_in,
    "restoreAccount": _restore_account,
    "updateProfile": _update_profile,
    "cancelAccount": _cancel_account,
    "verifyContact": _verify_contact,
    "removeContact": _remove_contact,
}


@pytest.fixture
async def provider(app_with, tmp_path):
    async with provider_app(app_with, tmp_path) as app:
        yield app


async def test_every_payload_holding_an_account_has_a_recipe(gql):
    body = await gql(PAYLOAD_HOLDERS)
    holders = set()
    for field in body["data"]["__schema"]["mutationType"]["fields"]:
        payload_type = field["type"]["ofType"]
        for member in payload_type["fields"] or []:
            named = member["type"]["ofType"] or member["type"]
            if named["name"] == "Account":
                holders.add(field["name"])
    assert holders == set(RECIPES)


@pytest.mark.parametrize("name", sorted(RECIPES))
async def test_the_account_a_payload_returns_resolves_as_viewer(provider, name):
    returned, as_viewer = await RECIPES[name](provider)
    assert returned == as_viewer
    # Not vacuous: the owner's own data is there.
    assert returned["requiresReconsent"] is True
    if name != "register":
        assert [b["provider"] for b in returned["bindings"]] == ["acme"]
        assert [e["node"]["itemId"] for e in returned["favorites"]["edges"]] == ["p-42"]
    if name != "cancelAccount":
        assert [s["current"] for s in returned["sessions"]].count(True) == 1


async def test_a_sign_in_lends_nothing_to_the_rest_of_the_request(gql):
    """The payload's account reads as the new session; the caller is still who the
    request's token says (here nobody), so a later field cannot act for the account."""
    await _call_plain(gql, "register", {"accountName": "eve", "password": PASSWORD})
    body = await gql(
        """mutation($input: LoginInput!) {
             login(input: $input) { account { sessions { current } } errors { code } }
             logout { errors { code } }
           }""",
        {"input": {"accountName": "eve", "password": PASSWORD}},
    )
    sessions = body["data"]["login"]["account"]["sessions"]
    assert sorted(s["current"] for s in sessions) == [False, True]
    assert [e["code"] for e in body["data"]["logout"]["errors"]] == ["NOT_AUTHENTICATED"]


async def _call_plain(gql, name: str, given: dict) -> None:
    body = await gql(
        f"mutation($input: RegisterInput!) {{ {name}(input: $input) {{ errors {{ code }} }} }}",
        {"input": {"nickname": "E", **given}},
    )
    assert body["data"][name]["errors"] == []
