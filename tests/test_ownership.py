"""One account never sees or changes another's data, and signed-in mutations refuse
anonymous callers with a typed error on the payload."""

from __future__ import annotations

from datetime import timedelta

import pytest

from models.accounts.account import account_name_index
from models.accounts.bindings import Binding
from models.accounts.sessions import Session
from models.clock import now
from tests.accounts_api import (
    BIND_PROVIDER,
    CHANGE_PASSWORD,
    LOGOUT,
    OTHER_PASSWORD,
    PASSWORD,
    REGISTER,
    REVOKE_SESSION,
    UNBIND_PROVIDER,
    UPDATE_PROFILE,
    codes,
    login,
    register,
    registration,
    viewer,
)
from tests.ids import gid, key, pk
from tests.oidc_provider import new_subject, provider_app


@pytest.fixture
async def provider(app_with, tmp_path):
    async with provider_app(app_with, tmp_path) as app:
        yield app


async def two_accounts(gql) -> tuple[dict, dict]:
    a = await register(gql, "anna", nickname="Anna", region="SE", signature="anna's")
    b = await register(gql, "bert", password=OTHER_PASSWORD, nickname="Bert")
    return a, b


async def test_viewer_is_always_the_caller(gql):
    a, b = await two_accounts(gql)
    a2 = await login(gql, "anna")
    me_a, me_b = await viewer(gql, a["token"]), await viewer(gql, b["token"])
    assert me_a["id"] == a["account"]["id"] and me_a["accountName"] == "anna"
    assert me_b["id"] == b["account"]["id"] and me_b["accountName"] == "bert"
    assert me_b["signature"] == "" and me_b["region"] is None
    a_sessions = {s["id"] for s in (await viewer(gql, a2["token"]))["sessions"]}
    b_sessions = {s["id"] for s in me_b["sessions"]}
    assert len(a_sessions) == 2 and len(b_sessions) == 1
    assert not a_sessions & b_sessions


async def test_revoking_another_accounts_session_is_not_found(gql):
    a, b = await two_accounts(gql)
    a_session = (await viewer(gql, a["token"]))["sessions"][0]["id"]
    body = await gql(REVOKE_SESSION, {"input": {"id": a_session}}, token=b["token"])
    assert codes(body["data"]["revokeSession"]) == [("NOT_FOUND", "id")]
    assert (await viewer(gql, a["token"]))["accountName"] == "anna"
    assert await Session.filter(id=key(a_session)).exists()
    # Exactly the answer for an id that does not exist: nothing to learn from it.
    missing = await gql(
        REVOKE_SESSION, {"input": {"id": "7d3c1a4e-0000-4000-8000-000000000000"}}, token=b["token"]
    )
    assert missing["data"]["revokeSession"]["errors"] == body["data"]["revokeSession"]["errors"]


async def test_changes_touch_only_the_callers_account(gql):
    a, b = await two_accounts(gql)
    body = await gql(UPDATE_PROFILE, {"input": {"nickname": "Bertie"}}, token=b["token"])
    assert body["data"]["updateProfile"]["account"]["id"] == b["account"]["id"]
    changed = await gql(
        CHANGE_PASSWORD,
        {"input": {"currentPassword": PASSWORD, "newPassword": "marble-orchid-58-softly"}},
        token=b["token"],
    )
    # Anna's password is not Bert's current password.
    assert codes(changed["data"]["changePassword"]) == [("INVALID_CREDENTIALS", "currentPassword")]
    assert (await gql(LOGOUT, token=b["token"]))["data"]["logout"]["errors"] == []
    me_a = await viewer(gql, a["token"])
    assert me_a["nickname"] == "Anna"
    assert (await login(gql, "anna"))["errors"] == []


async def test_a_provider_bound_to_one_account_is_out_of_reach_of_another(provider):
    a, b = await two_accounts(provider.gql)
    subject = new_subject()
    body = await provider.gql(
        BIND_PROVIDER,
        {"input": {"provider": "acme", "idToken": provider.acme.id_token(subject)}},
        token=a["token"],
    )
    assert body["data"]["bindProvider"]["errors"] == []

    unbind = await provider.gql(UNBIND_PROVIDER, {"input": {"provider": "acme"}}, token=b["token"])
    assert codes(unbind["data"]["unbindProvider"]) == [("NOT_BOUND", "provider")]
    # Even with Anna's identity token in hand, Bert cannot unbind it from her.
    with_token = await provider.gql(
        UNBIND_PROVIDER,
        {"input": {"provider": "acme", "idToken": provider.acme.id_token(subject)}},
        token=b["token"],
    )
    assert codes(with_token["data"]["unbindProvider"]) == [("NOT_BOUND", "idToken")]
    steal = await provider.gql(
        BIND_PROVIDER,
        {"input": {"provider": "acme", "idToken": provider.acme.id_token(subject)}},
        token=b["token"],
    )
    assert codes(steal["data"]["bindProvider"]) == [("ALREADY_BOUND", "idToken")]
    assert await Binding.filter(account_id=pk(a["account"]["id"])).count() == 1
    assert (await viewer(provider.gql, b["token"]))["bindings"] == []
    assert [x["provider"] for x in (await viewer(provider.gql, a["token"]))["bindings"]] == ["acme"]


async def test_a_payload_shows_the_new_accounts_own_lists_not_the_callers(gql):
    """Register while signed in as Anna: the payload shows Carl's account as Carl's new
    token reads it (its one session, current), never Anna's sessions or bindings."""
    a, _ = await two_accounts(gql)
    body = await gql(
        REGISTER.replace(
            "hasPassword }", "hasPassword sessions { id current } bindings { provider } }"
        ),
        {"input": registration("carl", password="granite-meadow-71-boldly", nickname="Carl")},
        token=a["token"],
    )
    account = body["data"]["register"]["account"]
    assert account["accountName"] == "carl"
    carls = await Session.filter(
        account__account_name_index=await account_name_index("carl")
    ).values_list("id", flat=True)
    assert account["sessions"] == [{"id": gid("Session", carls[0]), "current": True}]
    assert account["bindings"] == []


# --- signed-in mutations refuse anonymous callers in the payload ---------------------------

SIGNED_IN_MUTATIONS = [
    ("logout", LOGOUT, None),
    ("revokeSession", REVOKE_SESSION, {"id": "7d3c1a4e-0000-4000-8000-000000000000"}),
    ("updateProfile", UPDATE_PROFILE, {"nickname": "Nobody"}),
    ("changePassword", CHANGE_PASSWORD, {"currentPassword": PASSWORD, "newPassword": "x" * 20}),
    ("bindProvider", BIND_PROVIDER, {"provider": "acme", "idToken": "x.y.z"}),
    ("unbindProvider", UNBIND_PROVIDER, {"provider": "acme", "password": PASSWORD}),
]


async def _stale_tokens(gql) -> dict[str, str | None]:
    """No token, a made-up one, a logged-out one, an idle-expired one and an expired one."""
    logged_out = (await register(gql, "olga"))["token"]
    await gql(LOGOUT, token=logged_out)
    idle = (await register(gql, "ivan"))["token"]
    await Session.filter(account__account_name_index=await account_name_index("ivan")).update(
        last_seen_at=now() - timedelta(days=365)
    )
    expired = (await register(gql, "ezra"))["token"]
    await Session.filter(account__account_name_index=await account_name_index("ezra")).update(
        expires_at=now() - timedelta(seconds=1)
    )
    return {
        "none": None,
        "made up": "Zm9yZ2VkLXRva2VuLXRoYXQtZG9lcy1ub3QtZXhpc3Q",
        "logged out": logged_out,
        "idle": idle,
        "expired": expired,
    }


@pytest.mark.parametrize(("name", "document", "variables"), SIGNED_IN_MUTATIONS)
async def test_signed_in_mutations_refuse_anonymous_callers(gql, name, document, variables):
    tokens = await _stale_tokens(gql)
    for kind, token in tokens.items():
        body = await gql(document, {"input": variables} if variables else None, token=token)
        assert "errors" not in body, kind
        assert codes(body["data"][name]) == [("NOT_AUTHENTICATED", None)], kind
    # Nothing was changed on anyone's behalf.
    assert await Binding.all().count() == 0
    assert (await login(gql, "olga"))["errors"] == []
