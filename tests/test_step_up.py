"""Step-up through GraphQL: sensitive operations want an authentication younger than
ACCORD_RECENT_AUTH_WINDOW at the account's strongest level, say which factors `stepUp`
takes when it is stale, and staff need a second factor when the deployment says so."""

from __future__ import annotations

from datetime import timedelta

import pytest

from models.accounts.account import Account, Role, account_name_index
from models.accounts.levels import AuthLevel, Factor
from models.accounts.levels import level_of as level_reached
from models.accounts.recovery_codes import RecoveryCode
from models.accounts.sessions import Session, hash_token
from models.rights.audit import StaffAuditEntry
from tests.accounts_api import (
    CHANGE_PASSWORD,
    OTHER_PASSWORD,
    PASSWORD,
    SIGN_IN_WITH_PROVIDER,
    register,
    viewer,
)
from tests.authenticator import SoftwareAuthenticator
from tests.conftest import GraphQL
from tests.oidc_provider import acme, new_subject, provider_app
from tests.passkeys_api import add_passkey, assertion, sign_in_with
from tests.personal_helpers import CONTACT_SUPPORT, STAFF_REPLY, SUPPORT_QUEUE, SUPPORT_THREAD
from tests.second_factor_helpers import (
    ENROLL_TOTP,
    ERRORS,
    FACTORS,
    REGENERATE,
    REMOVE_TOTP,
    Moment,
    codes,
    complete,
    enroll,
    first_step,
    sign_in_with_totp,
    step_up,
)

CANCEL = f"""
mutation($input: CancelAccountInput!) {{ cancelAccount(input: $input) {{ {ERRORS} }} }}"""
UNBIND = f"""
mutation($input: UnbindProviderInput!) {{ unbindProvider(input: $input) {{ {ERRORS} }} }}"""


@pytest.fixture
def moment(clock) -> Moment:
    return Moment(clock)


def stale(moment: Moment, settings) -> None:
    """Every session's authentication is now older than the window."""
    moment.advance(settings.recent_auth_window + timedelta(seconds=1))


async def level_of(token: str) -> AuthLevel:
    return (await Session.get(token_hash=hash_token(token))).auth_level


# --- an account without a second factor --------------------------------------------------------


async def test_single_factor_account_stale_session_is_told_to_give_its_password(
    gql, moment, settings
):
    alice = await register(gql, "alice")
    token = alice["token"]
    # Fresh: no proof needed.
    assert (await gql(REGENERATE, token=token))["data"]["regenerateRecoveryCodes"]["errors"][0][
        "code"
    ] == "NOT_FOUND"
    stale(moment, settings)
    refused = (await gql(ENROLL_TOTP, token=token))["data"]["enrollTotp"]
    assert codes(refused) == [("REAUTHENTICATION_REQUIRED", None)]
    assert refused["errors"][0]["factors"] == ["PASSWORD"]
    assert refused["secret"] is None

    wrong = await step_up(gql, token, password=OTHER_PASSWORD)
    assert codes(wrong) == [("INVALID_CREDENTIALS", "password")]
    assert wrong["authLevel"] is None
    done = await step_up(gql, token, password=PASSWORD)
    assert done["errors"] == [] and done["authLevel"] == "SINGLE_FACTOR"
    assert (await gql(ENROLL_TOTP, token=token))["data"]["enrollTotp"]["errors"] == []


async def test_inline_password_still_works_for_a_single_factor_account(gql, moment, settings):
    alice = await register(gql, "alice")
    stale(moment, settings)
    refused = await gql(CANCEL, {"input": {}}, token=alice["token"])
    assert codes(refused["data"]["cancelAccount"]) == [("REAUTHENTICATION_REQUIRED", None)]
    done = await gql(CANCEL, {"input": {"password": PASSWORD}}, token=alice["token"])
    assert done["data"]["cancelAccount"]["errors"] == []


async def test_step_up_needs_a_first_factor(gql, moment):
    alice = await register(gql, "alice")
    refused = await step_up(gql, alice["token"], totpCode="123456")
    assert codes(refused) == [("REAUTHENTICATION_REQUIRED", None)]
    assert refused["errors"][0]["factors"] == ["PASSWORD"]
    signed_out = await gql('mutation { stepUp(input: {password: "x"}) { errors { code } } }')
    assert signed_out["data"]["stepUp"]["errors"] == [{"code": "NOT_AUTHENTICATED"}]


# --- an account with a second factor -------------------------------------------------------------


async def test_stale_multi_factor_session_needs_both_factors(gql, moment, settings):
    alice = await register(gql, "alice")
    secret, recovery = await enroll(gql, alice["token"], moment)
    token = await sign_in_with_totp(gql, moment, secret)
    # Fresh after a two-step sign-in: nothing more needed.
    fresh = (await gql(REGENERATE, token=token))["data"]["regenerateRecoveryCodes"]
    assert fresh["errors"] == [] and len(fresh["recoveryCodes"]) == 10
    stale(moment, settings)
    refused = (await gql(REGENERATE, token=token))["data"]["regenerateRecoveryCodes"]
    assert codes(refused) == [("REAUTHENTICATION_REQUIRED", None)]
    assert refused["errors"][0]["factors"] == ["PASSWORD", "TOTP", "RECOVERY_CODE"]
    assert refused["recoveryCodes"] == []

    # The password alone no longer reaches the account's level.
    alone = await step_up(gql, token, password=PASSWORD)
    assert codes(alone) == [("REAUTHENTICATION_REQUIRED", None)]
    assert alone["errors"][0]["factors"] == ["PASSWORD", "TOTP", "RECOVERY_CODE"]
    wrong = await step_up(gql, token, password=PASSWORD, totpCode="000000")
    if moment.code(secret) != "000000":
        assert codes(wrong) == [("INVALID_CREDENTIALS", "totpCode")]
    wrong_password = await step_up(
        gql, token, password=OTHER_PASSWORD, totpCode=moment.code(secret)
    )
    assert codes(wrong_password) == [("INVALID_CREDENTIALS", "password")]

    done = await step_up(gql, token, password=PASSWORD, totpCode=moment.code(secret))
    assert done["errors"] == [] and done["authLevel"] == "MULTI_FACTOR"
    renewed = (await gql(REGENERATE, token=token))["data"]["regenerateRecoveryCodes"]
    assert renewed["errors"] == []
    # The old codes stopped working, the new ones did not.
    assert await RecoveryCode.all().count() == 10
    started = await first_step(gql)
    challenge = started["secondFactor"]["challenge"]
    assert codes(await complete(gql, challenge, recoveryCode=recovery[0])) == [
        ("INVALID_CREDENTIALS", "recoveryCode")
    ]
    done = await complete(gql, challenge, recoveryCode=renewed["recoveryCodes"][0])
    assert done["errors"] == []


async def test_step_up_with_a_recovery_code(gql, moment, settings):
    alice = await register(gql, "alice")
    secret, recovery = await enroll(gql, alice["token"], moment)
    token = await sign_in_with_totp(gql, moment, secret)
    stale(moment, settings)
    done = await step_up(gql, token, password=PASSWORD, recoveryCode=recovery[3])
    assert done["authLevel"] == "MULTI_FACTOR"
    again = await step_up(gql, token, password=PASSWORD, recoveryCode=recovery[3])
    assert codes(again) == [("INVALID_CREDENTIALS", "recoveryCode")]
    assert (await gql(FACTORS, token=token))["data"]["viewer"]["recoveryCodesLeft"] == 9


async def test_inline_password_does_not_reach_a_multi_factor_account(gql, moment, settings):
    alice = await register(gql, "alice")
    secret, _ = await enroll(gql, alice["token"], moment)
    token = await sign_in_with_totp(gql, moment, secret)
    stale(moment, settings)
    refused = await gql(CANCEL, {"input": {"password": PASSWORD}}, token=token)
    assert codes(refused["data"]["cancelAccount"]) == [("REAUTHENTICATION_REQUIRED", None)]
    changed = await gql(
        CHANGE_PASSWORD,
        {"input": {"currentPassword": PASSWORD, "newPassword": "brand-new-passphrase-81"}},
        token=token,
    )
    assert codes(changed["data"]["changePassword"]) == [("REAUTHENTICATION_REQUIRED", None)]
    unbind = await gql(UNBIND, {"input": {"provider": "acme", "password": PASSWORD}}, token=token)
    assert codes(unbind["data"]["unbindProvider"]) == [("REAUTHENTICATION_REQUIRED", None)]

    await step_up(gql, token, password=PASSWORD, totpCode=moment.code(secret))
    changed = await gql(
        CHANGE_PASSWORD,
        {"input": {"currentPassword": PASSWORD, "newPassword": "brand-new-passphrase-81"}},
        token=token,
    )
    assert changed["data"]["changePassword"]["errors"] == []


async def test_a_single_factor_session_of_a_multi_factor_account_must_step_up(gql, moment):
    """A session signed in before the authenticator was set up is recent but single-factor."""
    alice = await register(gql, "alice")
    other = (await first_step(gql))["token"]
    secret, _ = await enroll(gql, alice["token"], moment)
    assert await level_of(alice["token"]) == AuthLevel.MULTI_FACTOR  # it confirmed the code
    assert await level_of(other) == AuthLevel.SINGLE_FACTOR
    refused = (await gql(REGENERATE, token=other))["data"]["regenerateRecoveryCodes"]
    assert codes(refused) == [("REAUTHENTICATION_REQUIRED", None)]
    assert (await step_up(gql, other, password=PASSWORD, totpCode=moment.code(secret)))[
        "authLevel"
    ] == "MULTI_FACTOR"
    assert (await gql(REGENERATE, token=other))["data"]["regenerateRecoveryCodes"]["errors"] == []


async def test_removing_the_authenticator_ends_every_other_session(gql, moment, settings):
    alice = await register(gql, "alice")
    secret, _ = await enroll(gql, alice["token"], moment)
    token = await sign_in_with_totp(gql, moment, secret)
    other = await sign_in_with_totp(gql, moment, secret)
    stale(moment, settings)
    refused = (await gql(REMOVE_TOTP, token=token))["data"]["removeTotp"]
    assert codes(refused) == [("REAUTHENTICATION_REQUIRED", None)]
    await step_up(gql, token, password=PASSWORD, totpCode=moment.code(secret))
    removed = (await gql(REMOVE_TOTP, token=token))["data"]["removeTotp"]
    assert removed["errors"] == [] and removed["account"]["secondFactors"] == []
    assert await viewer(gql, other) is None
    assert await viewer(gql, alice["token"]) is None
    assert (await viewer(gql, token))["accountName"] == "alice"
    assert await level_of(token) == AuthLevel.SINGLE_FACTOR
    assert await RecoveryCode.all().count() == 0
    # One step again.
    assert (await first_step(gql))["token"]
    again = (await gql(REMOVE_TOTP, token=token))["data"]["removeTotp"]
    assert codes(again) == [("NOT_FOUND", None)]


async def test_the_window_is_the_setting(gql, moment, settings):
    assert settings.recent_auth_window == timedelta(minutes=5)
    alice = await register(gql, "alice")
    moment.advance(settings.recent_auth_window - timedelta(seconds=5))
    assert (await gql(ENROLL_TOTP, token=alice["token"]))["data"]["enrollTotp"]["errors"] == []
    moment.advance(timedelta(seconds=10))
    assert codes((await gql(ENROLL_TOTP, token=alice["token"]))["data"]["enrollTotp"]) == [
        ("REAUTHENTICATION_REQUIRED", None)
    ]


# --- passkeys ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("proven", "level"),
    [
        ({Factor.PASSKEY}, AuthLevel.MULTI_FACTOR),
        ({Factor.PASSWORD, Factor.PASSKEY}, AuthLevel.MULTI_FACTOR),
        ({Factor.PASSWORD, Factor.TOTP}, AuthLevel.MULTI_FACTOR),
        ({Factor.PROVIDER, Factor.RECOVERY_CODE}, AuthLevel.MULTI_FACTOR),
        ({Factor.PASSWORD}, AuthLevel.SINGLE_FACTOR),
        ({Factor.PROVIDER}, AuthLevel.SINGLE_FACTOR),
        ({Factor.PASSWORD, Factor.PROVIDER}, AuthLevel.SINGLE_FACTOR),
        ({Factor.TOTP}, AuthLevel.SINGLE_FACTOR),
        ({Factor.TOTP, Factor.RECOVERY_CODE}, AuthLevel.SINGLE_FACTOR),
        (set(), AuthLevel.SINGLE_FACTOR),
    ],
)
def test_the_level_factors_reach_together(proven, level):
    """A passkey with user verification is multi-factor by itself; other second factors
    count only beside a first factor, and two first factors are still one kind."""
    assert level_reached(proven) == level


async def test_step_up_with_a_passkey_alone_reaches_multi_factor(gql, moment, settings):
    device = SoftwareAuthenticator()
    alice = await register(gql, "alice")
    token = alice["token"]
    await add_passkey(gql, token, device)
    stale(moment, settings)
    refused = (await gql(REGENERATE, token=token))["data"]["regenerateRecoveryCodes"]
    assert codes(refused) == [("REAUTHENTICATION_REQUIRED", None)]
    assert refused["errors"][0]["factors"] == ["PASSWORD", "PASSKEY", "RECOVERY_CODE"]
    alone = await step_up(gql, token, password=PASSWORD)
    assert codes(alone) == [("REAUTHENTICATION_REQUIRED", None)]
    assert alone["errors"][0]["factors"] == ["PASSWORD", "PASSKEY", "RECOVERY_CODE"]

    done = await step_up(gql, token, passkey=await assertion(gql, device))
    assert done["errors"] == [] and done["authLevel"] == "MULTI_FACTOR"
    assert await level_of(token) == AuthLevel.MULTI_FACTOR
    renewed = (await gql(REGENERATE, token=token))["data"]["regenerateRecoveryCodes"]
    assert renewed["errors"] == []
    # With the password too, both are checked.
    stale(moment, settings)
    wrong = await step_up(gql, token, password=OTHER_PASSWORD, passkey=await assertion(gql, device))
    assert codes(wrong) == [("INVALID_CREDENTIALS", "password")]
    both = await step_up(gql, token, password=PASSWORD, passkey=await assertion(gql, device))
    assert both["errors"] == [] and both["authLevel"] == "MULTI_FACTOR"


async def test_step_up_with_another_accounts_passkey_is_refused(gql, moment, settings):
    alices, bobs = SoftwareAuthenticator(), SoftwareAuthenticator()
    alice = await register(gql, "alice")
    bob = await register(gql, "bob")
    await add_passkey(gql, alice["token"], alices)
    await add_passkey(gql, bob["token"], bobs)
    stale(moment, settings)
    refused = await step_up(gql, alice["token"], passkey=await assertion(gql, bobs))
    assert codes(refused) == [("INVALID_CREDENTIALS", "credential")]
    assert refused["authLevel"] is None
    # A replayed answer is refused too.
    answer = await assertion(gql, alices)
    assert (await step_up(gql, alice["token"], passkey=answer))["errors"] == []
    replayed = await step_up(gql, alice["token"], passkey=answer)
    assert codes(replayed) == [("INVALID_CHALLENGE", "challengeId")]
    # An account without a passkey has none to step up with.
    carol = await register(gql, "carol")
    none = await step_up(gql, carol["token"], passkey=await assertion(gql, alices))
    assert codes(none) == [("INVALID_CREDENTIALS", "credential")]


async def test_an_account_with_totp_and_a_passkey_steps_up_with_either(gql, moment, settings):
    device = SoftwareAuthenticator()
    alice = await register(gql, "alice")
    secret, _ = await enroll(gql, alice["token"], moment)
    await add_passkey(gql, alice["token"], device)
    token = (await sign_in_with(gql, device))["token"]
    stale(moment, settings)
    refused = (await gql(REGENERATE, token=token))["data"]["regenerateRecoveryCodes"]
    assert refused["errors"][0]["factors"] == ["PASSWORD", "PASSKEY", "TOTP", "RECOVERY_CODE"]
    done = await step_up(gql, token, password=PASSWORD, totpCode=moment.code(secret))
    assert done["authLevel"] == "MULTI_FACTOR"
    stale(moment, settings)
    done = await step_up(gql, token, passkey=await assertion(gql, device))
    assert done["authLevel"] == "MULTI_FACTOR"


# --- staff -------------------------------------------------------------------------------------


async def _support_thread(gql: GraphQL, customer: str) -> str:
    body = await gql(
        CONTACT_SUPPORT, {"input": {"subject": "Help", "message": "Where is it?"}}, token=customer
    )
    return body["data"]["contactSupport"]["thread"]["id"]


async def test_staff_reading_a_users_thread_needs_a_recent_sign_in(gql, moment, settings):
    customer = await register(gql, "carol")
    staff = await register(gql, "helper")
    await Account.filter(account_name_index=await account_name_index("helper")).update(
        role=Role.SUPPORT
    )
    thread = await _support_thread(gql, customer["token"])
    reply = {"input": {"threadId": thread, "message": "On it."}}
    assert (await gql(STAFF_REPLY, reply, token=staff["token"]))["data"]["staffReply"][
        "errors"
    ] == []
    assert (await gql(SUPPORT_THREAD, {"id": thread}, token=staff["token"]))["data"][
        "supportThread"
    ]["id"] == thread

    stale(moment, settings)
    body = await gql(SUPPORT_THREAD, {"id": thread}, token=staff["token"], expect_errors=True)
    (error,) = body["errors"]
    assert error["extensions"] == {"code": "REAUTHENTICATION_REQUIRED", "factors": ["PASSWORD"]}
    assert body["data"] is None or body["data"]["supportThread"] is None
    assert await StaffAuditEntry.all().count() == 1
    await step_up(gql, staff["token"], password=PASSWORD)
    assert (await gql(SUPPORT_THREAD, {"id": thread}, token=staff["token"]))["data"][
        "supportThread"
    ]["id"] == thread


async def test_staff_need_a_second_factor_when_the_setting_is_on(app_with, clock):
    moment = Moment(clock)
    async with app_with(staff_second_factor=True) as http:
        gql = GraphQL(http)
        customer = await register(gql, "carol")
        staff = await register(gql, "helper")
        await Account.filter(account_name_index=await account_name_index("helper")).update(
            role=Role.SUPPORT
        )
        thread = await _support_thread(gql, customer["token"])
        # A plain user is not concerned.
        assert (await viewer(gql, customer["token"]))["accountName"] == "carol"

        body = await gql(SUPPORT_QUEUE, token=staff["token"], expect_errors=True)
        assert [e["extensions"]["code"] for e in body["errors"]] == ["SECOND_FACTOR_REQUIRED"]
        reply = {"input": {"threadId": thread, "message": "On it."}}
        refused = (await gql(STAFF_REPLY, reply, token=staff["token"]))["data"]["staffReply"]
        assert [e["code"] for e in refused["errors"]] == ["SECOND_FACTOR_REQUIRED"]

        # Staff may still set up their own second factor; confirming it in this session
        # makes the session multi-factor.
        secret, _ = await enroll(gql, staff["token"], moment)
        assert (await gql(SUPPORT_QUEUE, token=staff["token"]))["data"]["supportQueue"]
        # A new sign-in takes both steps and may act.
        token = await sign_in_with_totp(gql, moment, secret, name="helper")
        replied = (await gql(STAFF_REPLY, reply, token=token))["data"]["staffReply"]
        assert replied["errors"] == []
        # A session from before the second factor (signed in with the password only) may not.
        await Session.filter(token_hash=hash_token(token)).update(
            auth_level=AuthLevel.SINGLE_FACTOR
        )
        body = await gql(SUPPORT_QUEUE, token=token, expect_errors=True)
        assert [e["extensions"]["code"] for e in body["errors"]] == ["SECOND_FACTOR_REQUIRED"]


async def test_staff_act_without_a_second_factor_when_the_setting_is_off(gql, settings):
    assert settings.staff_need_second_factor is False
    staff = await register(gql, "helper")
    await Account.filter(account_name_index=await account_name_index("helper")).update(
        role=Role.SUPPORT
    )
    assert (await gql(SUPPORT_QUEUE, token=staff["token"]))["data"]["supportQueue"] == []


def test_the_setting_defaults_on_in_production_only(settings):
    prod = settings.model_copy(update={"env": "prod"})
    assert prod.staff_need_second_factor is True
    assert (
        settings.model_copy(
            update={"staff_second_factor": False, "env": "prod"}
        ).staff_need_second_factor
        is False
    )
    assert settings.staff_need_second_factor is False


NODE = "query($id: ID!) { node(id: $id) { id ... on SupportThread { subject } } }"


async def test_staff_reach_through_node_needs_a_recent_sign_in_too(gql, moment, settings):
    """``node(id:)`` answers null, as to a stranger, where the staff query would refuse."""
    customer = await register(gql, "carol")
    staff = await register(gql, "helper")
    await Account.filter(account_name_index=await account_name_index("helper")).update(
        role=Role.ADMIN
    )
    thread = await _support_thread(gql, customer["token"])
    read = await gql(NODE, {"id": thread}, token=staff["token"])
    assert read["data"]["node"] == {"id": thread, "subject": "Help"}
    stale(moment, settings)
    assert (await gql(NODE, {"id": thread}, token=staff["token"]))["data"]["node"] is None
    # The customer's own read needs nothing.
    assert (await gql(NODE, {"id": thread}, token=customer["token"]))["data"]["node"]
    await step_up(gql, staff["token"], password=PASSWORD)
    assert (await gql(NODE, {"id": thread}, token=staff["token"]))["data"]["node"]


async def test_step_up_with_a_fresh_provider_token_and_a_code(app_with, tmp_path, clock):
    moment = Moment(clock)
    async with provider_app(app_with, tmp_path) as p:
        subject = new_subject()
        first = await p.gql(
            SIGN_IN_WITH_PROVIDER,
            {"input": {"provider": "acme", "idToken": acme().id_token(subject)}},
        )
        token = first["data"]["signInWithProvider"]["token"]
        secret, _ = await enroll(p.gql, token, moment)
        moment.advance(timedelta(minutes=6))
        refused = (await p.gql(REGENERATE, token=token))["data"]["regenerateRecoveryCodes"]
        assert refused["errors"][0]["factors"] == ["PROVIDER", "TOTP", "RECOVERY_CODE"]
        done = await step_up(
            p.gql,
            token,
            provider="acme",
            idToken=acme().id_token(subject),
            totpCode=moment.code(secret),
        )
        assert done["errors"] == [] and done["authLevel"] == "MULTI_FACTOR"
        renewed = (await p.gql(REGENERATE, token=token))["data"]["regenerateRecoveryCodes"]
        assert renewed["errors"] == []


async def test_staff_with_a_passkey_may_act_after_a_passkey_sign_in(app_with, clock):
    Moment(clock)
    device = SoftwareAuthenticator()
    async with app_with(staff_second_factor=True) as http:
        gql = GraphQL(http)
        staff = await register(gql, "helper")
        await Account.filter(account_name_index=await account_name_index("helper")).update(
            role=Role.SUPPORT
        )
        body = await gql(SUPPORT_QUEUE, token=staff["token"], expect_errors=True)
        assert [e["extensions"]["code"] for e in body["errors"]] == ["SECOND_FACTOR_REQUIRED"]
        await add_passkey(gql, staff["token"], device)
        # Registering it showed the passkey: this session may act.
        assert (await gql(SUPPORT_QUEUE, token=staff["token"]))["data"]["supportQueue"] == []
        # A passkey sign-in is multi-factor by itself.
        signed_in = await sign_in_with(gql, device)
        assert signed_in["errors"] == []
        assert (await gql(SUPPORT_QUEUE, token=signed_in["token"]))["data"]["supportQueue"] == []
        # A password sign-in completed with the passkey may act too.
        started = await first_step(gql, "helper")
        done = await complete(
            gql, started["secondFactor"]["challenge"], passkey=await assertion(gql, device)
        )
        assert (await gql(SUPPORT_QUEUE, token=done["token"]))["data"]["supportQueue"] == []
