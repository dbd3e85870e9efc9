"""Passkeys (WebAuthn) through the API, answered by a software authenticator
(``tests/authenticator.py``): register, list, rename, sign in, remove, and every way an
answer can be wrong (a typed error each, never a top-level error)."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from models import clock as domain_clock
from models.accounts.account import account_name_index
from models.accounts.levels import AuthLevel
from models.accounts.passkeys import Passkey, WebAuthnChallenge
from models.accounts.recovery_codes import RecoveryCode
from models.accounts.sessions import Session, hash_token
from models.accounts.sign_in_challenges import SignInChallenge
from tests.accounts_api import PASSWORD, codes, login, register, viewer
from tests.authenticator import SoftwareAuthenticator, b64url
from tests.ids import gid, pk
from tests.oidc_provider import new_subject, provider_app
from tests.passkeys_api import (
    BEGIN_SIGN_IN,
    REMOVE,
    RENAME,
    add_passkey,
    assertion,
    begin_registration,
    begin_sign_in,
    finish_registration,
    finish_sign_in,
    passkeys_of,
    sign_in_with,
)
from tests.second_factor_helpers import (
    FACTORS,
    REGENERATE,
    REMOVE_TOTP,
    Moment,
    complete,
    enroll,
    first_step,
    step_up,
)
from tests.test_providers import bind, make_sessions_old, sign_in, unbind


@pytest.fixture
def device() -> SoftwareAuthenticator:
    return SoftwareAuthenticator()


# --- register, list, rename, sign in -------------------------------------------------------


async def test_register_list_rename_and_sign_in(gql, device):
    me = await register(gql, "alice")
    begun = await begin_registration(gql, me["token"])
    options = json.loads(begun["options"])
    assert options["rp"] == {"id": "localhost", "name": "Accord"}
    assert options["user"]["name"] == "alice" and options["user"]["displayName"] == "Alice"
    # The WebAuthn user id is random, not the account's row id.
    assert options["user"]["id"] != b64url(str(pk(me["account"]["id"])).encode())
    assert len(options["user"]["id"]) == 43
    assert options["authenticatorSelection"]["residentKey"] == "required"
    assert options["authenticatorSelection"]["userVerification"] == "required"
    assert options["excludeCredentials"] == []

    made = await finish_registration(
        gql, me["token"], begun["challengeId"], device.create(begun["options"]), "  Phone  "
    )
    assert made["errors"] == []
    passkey = made["passkey"]
    assert passkey["name"] == "Phone" and passkey["lastUsedAt"] is None
    assert passkey["credentialId"] == b64url(device.credentials[0].credential_id)
    assert passkey["backupEligible"] is True and passkey["backedUp"] is True
    assert await passkeys_of(gql, me["token"]) == [
        {k: v for k, v in passkey.items() if k != "backupEligible"}
    ]
    node = await gql(
        "query($id: ID!) { node(id: $id) { ... on Passkey { name } } }",
        {"id": passkey["id"]},
        token=me["token"],
    )
    assert node["data"]["node"] == {"name": "Phone"}

    # A second registration excludes the first passkey (the same user id is used again).
    again = json.loads((await begin_registration(gql, me["token"]))["options"])
    assert [d["id"] for d in again["excludeCredentials"]] == [passkey["credentialId"]]
    assert again["excludeCredentials"][0]["transports"] == ["internal", "hybrid"]
    assert again["user"]["id"] == options["user"]["id"]

    renamed = await gql(
        RENAME, {"input": {"id": passkey["id"], "name": "Work laptop"}}, token=me["token"]
    )
    assert renamed["data"]["renamePasskey"]["passkey"]["name"] == "Work laptop"

    signed_in = await sign_in_with(gql, device)
    assert signed_in["errors"] == []
    assert signed_in["account"]["accountName"] == "alice"
    assert signed_in["account"]["passkeys"][0]["lastUsedAt"] is not None
    assert (await viewer(gql, signed_in["token"]))["accountName"] == "alice"
    row = await Passkey.get(id=pk(passkey["id"]))
    assert row.sign_count == 1 and row.last_used_at is not None


async def test_sign_in_links_the_device(gql, device):
    me = await register(gql, "alice")
    await add_passkey(gql, me["token"], device)
    begun = await begin_sign_in(gql)
    bad = await finish_sign_in(
        gql, begun["challengeId"], device.get(begun["options"]), deviceId="short"
    )
    assert codes(bad) == [("INVALID", "deviceId")]
    device_id = "5f0c4a52-9a0e-4d4b-8d6e-2f1b7c3e9a10"
    begun = await begin_sign_in(gql)
    good = await finish_sign_in(
        gql, begun["challengeId"], device.get(begun["options"]), deviceId=device_id
    )
    assert good["errors"] == []


async def test_names_are_checked(gql, device):
    me = await register(gql, "alice")
    begun = await begin_registration(gql, me["token"])
    credential = device.create(begun["options"])
    for name in ("", "   ", "x" * 65, "line\nbreak"):
        refused = await finish_registration(
            gql, me["token"], begun["challengeId"], credential, name
        )
        assert codes(refused) == [("INVALID", "name")], name
    # A refused name does not spend the challenge.
    assert (await finish_registration(gql, me["token"], begun["challengeId"], credential))[
        "errors"
    ] == []
    passkey_id = (await passkeys_of(gql, me["token"]))[0]["id"]
    refused = await gql(RENAME, {"input": {"id": passkey_id, "name": ""}}, token=me["token"])
    assert codes(refused["data"]["renamePasskey"]) == [("INVALID", "name")]


async def test_adding_a_passkey_needs_recent_authentication(gql, device, settings):
    me = await register(gql, "alice")
    await make_sessions_old("alice", settings)
    stale = await begin_registration(gql, me["token"])
    assert codes(stale) == [("REAUTHENTICATION_REQUIRED", None)]
    wrong = await begin_registration(gql, me["token"], password="not-the-password-at-all")
    assert codes(wrong) == [("INVALID_CREDENTIALS", "password")]
    begun = await begin_registration(gql, me["token"], password=PASSWORD)
    assert begun["errors"] == []


async def test_signed_out_callers_cannot_register(gql, device):
    refused = await begin_registration(gql, "no-such-token")
    assert codes(refused) == [("NOT_AUTHENTICATED", None)]
    refused = await finish_registration(gql, "", "x", "{}")
    assert codes(refused) == [("NOT_AUTHENTICATED", None)]


# --- wrong answers ---------------------------------------------------------------------------


async def test_a_replayed_assertion_is_refused(gql, device):
    me = await register(gql, "alice")
    await add_passkey(gql, me["token"], device)
    begun = await begin_sign_in(gql)
    answer = device.get(begun["options"])
    assert (await finish_sign_in(gql, begun["challengeId"], answer))["errors"] == []
    # The same answer to the same challenge: spent.
    replay = await finish_sign_in(gql, begun["challengeId"], answer)
    assert codes(replay) == [("INVALID_CHALLENGE", "challengeId")]
    assert replay["token"] is None
    # The same answer to a fresh challenge: it signed another challenge.
    fresh = await begin_sign_in(gql)
    replay = await finish_sign_in(gql, fresh["challengeId"], answer)
    assert codes(replay) == [("INVALID_CREDENTIALS", "credential")]
    assert (
        await Session.filter(account__account_name_index=await account_name_index("alice")).count()
        == 2
    )


async def test_expired_challenges_are_refused(gql, device, clock):
    me = await register(gql, "alice")
    begun = await begin_registration(gql, me["token"])
    credential = device.create(begun["options"])
    real = domain_clock.now
    clock.use(lambda: real() + timedelta(minutes=5, seconds=1))
    late = await finish_registration(gql, me["token"], begun["challengeId"], credential)
    assert codes(late) == [("INVALID_CHALLENGE", "challengeId")]
    assert "expired" in late["errors"][0]["message"]
    clock.restore()

    await add_passkey(gql, me["token"], device)
    begun = await begin_sign_in(gql)
    answer = device.get(begun["options"])
    clock.use(lambda: real() + timedelta(minutes=6))
    late = await finish_sign_in(gql, begun["challengeId"], answer)
    assert codes(late) == [("INVALID_CHALLENGE", "challengeId")]


async def test_spent_and_expired_challenges_are_purged(gql, device, settings, clock):
    from models.personal.retention import clean_up

    me = await register(gql, "alice")
    await add_passkey(gql, me["token"], device)
    await begin_sign_in(gql)
    assert await WebAuthnChallenge.all().count() == 2
    assert (await clean_up(settings))["webauthn_challenges"] == 0
    real = domain_clock.now
    clock.use(lambda: real() + timedelta(minutes=5, seconds=1))
    assert (await clean_up(settings))["webauthn_challenges"] == 2
    assert await WebAuthnChallenge.all().count() == 0


@pytest.mark.parametrize(
    ("answer", "message"),
    [
        ({"origin": "https://evil.example"}, "not used on 'https://evil.example'"),
        ({"origin": "http://127.0.0.1:8000"}, "not used on"),
        ({"rp_id": "evil.example"}, "RP ID"),
        ({"user_verified": False}, "User verification"),
    ],
)
async def test_answers_for_another_site_or_without_verification_are_refused(
    gql, device, answer, message
):
    me = await register(gql, "alice")
    await add_passkey(gql, me["token"], device)
    refused = await sign_in_with(gql, device, **answer)
    assert codes(refused) == [("INVALID_CREDENTIALS", "credential")]
    assert message in refused["errors"][0]["message"]
    assert refused["token"] is None and refused["account"] is None


@pytest.mark.parametrize(
    ("answer", "message"),
    [
        ({"origin": "https://evil.example"}, "not made on"),
        ({"rp_id": "evil.example"}, "RP ID"),
        ({"user_verified": False}, "User verification"),
    ],
)
async def test_registrations_for_another_site_or_without_verification_are_refused(
    gql, device, answer, message
):
    me = await register(gql, "alice")
    begun = await begin_registration(gql, me["token"])
    refused = await finish_registration(
        gql, me["token"], begun["challengeId"], device.create(begun["options"], **answer)
    )
    assert codes(refused) == [("INVALID", "credential")]
    assert message in refused["errors"][0]["message"]
    assert await Passkey.all().count() == 0


async def test_a_counter_that_goes_back_is_refused(gql, device):
    me = await register(gql, "alice")
    await add_passkey(gql, me["token"], device)
    assert (await sign_in_with(gql, device, counter=7))["errors"] == []
    for counter in (7, 3):
        refused = await sign_in_with(gql, device, counter=counter)
        assert codes(refused) == [("INVALID_CREDENTIALS", "credential")]
        assert "sign count" in refused["errors"][0]["message"]
    assert (await sign_in_with(gql, device, counter=8))["errors"] == []
    assert (await Passkey.get()).sign_count == 8


async def test_an_authenticator_without_a_counter_signs_in_every_time(gql, device):
    """Synced passkeys (iCloud, Google) always answer 0: not a regression."""
    me = await register(gql, "alice")
    await add_passkey(gql, me["token"], device)
    for _ in range(2):
        assert (await sign_in_with(gql, device, counter=0))["errors"] == []


async def test_an_unknown_or_removed_passkey_is_refused(gql, device):
    stranger = SoftwareAuthenticator()
    me = await register(gql, "alice")
    await add_passkey(gql, me["token"], device)
    begun = await begin_sign_in(gql)
    # A passkey of this site the server does not know (another server's, or one removed).
    stranger.create(
        json.dumps(
            {
                "rp": {"id": "localhost"},
                "user": {"id": b64url(b"someone"), "name": "x"},
                "challenge": "AA",
            }
        )
    )
    refused = await finish_sign_in(gql, begun["challengeId"], stranger.get(begun["options"]))
    assert codes(refused) == [("INVALID_CREDENTIALS", "credential")]


async def test_a_user_handle_that_is_not_the_accounts_is_refused(gql, device):
    me = await register(gql, "alice")
    await add_passkey(gql, me["token"], device)
    device.credentials[0].user_handle = b"someone else"
    refused = await sign_in_with(gql, device)
    assert codes(refused) == [("INVALID_CREDENTIALS", "credential")]


@pytest.mark.parametrize(
    "credential",
    [
        "",
        "not json",
        "null",
        "[]",
        '{"id": "AA"}',
        '{"id": "AA", "rawId": "AA", "type": "public-key", "response": {}}',
        '{"id": "AA", "rawId": "AA", "type": "public-key", "response": '
        '{"clientDataJSON": "!!", "authenticatorData": "AA", "signature": "AA"}}',
        "x" * 70_000,
    ],
)
async def test_malformed_credentials_are_typed_errors(gql, device, credential):
    me = await register(gql, "alice")
    begun = await begin_registration(gql, me["token"])
    refused = await finish_registration(gql, me["token"], begun["challengeId"], credential)
    assert codes(refused)[0][1] == "credential"
    signing_in = await begin_sign_in(gql)
    refused = await finish_sign_in(gql, signing_in["challengeId"], credential)
    assert codes(refused)[0] in {("INVALID", "credential"), ("INVALID_CREDENTIALS", "credential")}


async def test_a_garbled_assertion_is_refused(gql, device):
    me = await register(gql, "alice")
    await add_passkey(gql, me["token"], device)
    begun = await begin_sign_in(gql)
    answer = json.loads(device.get(begun["options"]))
    answer["response"]["signature"] = b64url(b"\x30\x06\x02\x01\x01\x02\x01\x01")
    answer["response"]["authenticatorData"] = "AAAA"
    refused = await finish_sign_in(gql, begun["challengeId"], json.dumps(answer))
    assert codes(refused) == [("INVALID_CREDENTIALS", "credential")]


@pytest.mark.parametrize("challenge_id", ["", "nonsense", "00000000-0000-0000-0000-000000000000"])
async def test_unknown_challenges_are_refused(gql, device, challenge_id):
    me = await register(gql, "alice")
    begun = await begin_registration(gql, me["token"])
    credential = device.create(begun["options"])
    refused = await finish_registration(gql, me["token"], challenge_id, credential)
    assert codes(refused) == [("INVALID_CHALLENGE", "challengeId")]
    refused = await finish_sign_in(gql, challenge_id, credential)
    assert codes(refused)[0][0] in {"INVALID_CHALLENGE", "INVALID"}


async def test_challenges_serve_one_ceremony_of_one_account(gql, device):
    alice = await register(gql, "alice")
    bob = await register(gql, "bob")
    begun = await begin_registration(gql, alice["token"])
    credential = device.create(begun["options"])
    # Bob cannot finish Alice's registration.
    refused = await finish_registration(gql, bob["token"], begun["challengeId"], credential)
    assert codes(refused) == [("INVALID_CHALLENGE", "challengeId")]
    # A registration challenge is no sign-in challenge, and the other way round.
    await add_passkey(gql, alice["token"], device)
    signing_in = await begin_sign_in(gql)
    assertion = device.get(signing_in["options"])
    refused = await finish_registration(gql, alice["token"], signing_in["challengeId"], credential)
    assert codes(refused) == [("INVALID_CHALLENGE", "challengeId")]
    refused = await finish_sign_in(gql, begun["challengeId"], assertion)
    assert codes(refused) == [("INVALID_CHALLENGE", "challengeId")]


async def test_failed_passkey_sign_ins_count_toward_the_login_limits(gql, device):
    me = await register(gql, "alice")
    await add_passkey(gql, me["token"], device)
    for _ in range(5):
        refused = await sign_in_with(gql, device, origin="https://evil.example")
        assert codes(refused) == [("INVALID_CREDENTIALS", "credential")]
    limited = await sign_in_with(gql, device)
    assert codes(limited) == [("RATE_LIMITED", None)] and limited["errors"][0]["retryAfter"] > 0
    # ... and so does the password, from this address.
    assert codes(await login(gql, "alice")) == [("RATE_LIMITED", None)]


async def test_handing_out_sign_in_challenges_is_limited_per_address(gql):
    for _ in range(20):
        await begin_sign_in(gql)
    refused = (await gql(BEGIN_SIGN_IN))["data"]["beginPasskeySignIn"]
    assert codes(refused) == [("RATE_LIMITED", None)] and refused["challengeId"] is None


# --- remove ----------------------------------------------------------------------------------


async def test_remove_ends_every_other_session(gql, device):
    me = await register(gql, "alice")
    passkey = await add_passkey(gql, me["token"], device)
    other = await sign_in_with(gql, device)
    removed = await gql(REMOVE, {"input": {"id": passkey["id"]}}, token=me["token"])
    assert removed["data"]["removePasskey"]["errors"] == []
    assert await passkeys_of(gql, me["token"]) == []
    assert await viewer(gql, other["token"]) is None
    assert (await viewer(gql, me["token"]))["accountName"] == "alice"
    # The removed passkey no longer signs in.
    assert codes(await sign_in_with(gql, device)) == [("INVALID_CREDENTIALS", "credential")]


async def test_remove_needs_a_recent_multi_factor_authentication(gql, device, settings):
    """A passkey is a second factor: the password alone no longer reaches the account."""
    me = await register(gql, "alice")
    passkey = await add_passkey(gql, me["token"], device)
    await make_sessions_old("alice", settings)
    stale = await gql(REMOVE, {"input": {"id": passkey["id"]}}, token=me["token"])
    assert codes(stale["data"]["removePasskey"]) == [("REAUTHENTICATION_REQUIRED", None)]
    assert stale["data"]["removePasskey"]["errors"][0]["factors"] == [
        "PASSWORD",
        "PASSKEY",
        "RECOVERY_CODE",
    ]
    inline = await gql(
        REMOVE, {"input": {"id": passkey["id"], "password": PASSWORD}}, token=me["token"]
    )
    assert codes(inline["data"]["removePasskey"]) == [("REAUTHENTICATION_REQUIRED", None)]
    stepped = await step_up(gql, me["token"], passkey=await assertion(gql, device))
    assert stepped["errors"] == [] and stepped["authLevel"] == "MULTI_FACTOR"
    fresh = await gql(REMOVE, {"input": {"id": passkey["id"]}}, token=me["token"])
    assert fresh["data"]["removePasskey"]["errors"] == []


async def test_another_account_cannot_see_rename_or_remove_yours(gql, device):
    alice = await register(gql, "alice")
    bob = await register(gql, "bob")
    passkey = await add_passkey(gql, alice["token"], device)
    for document, key, extra in (
        (RENAME, "renamePasskey", {"name": "Mine"}),
        (REMOVE, "removePasskey", {}),
    ):
        for ident in (
            passkey["id"],
            str(pk(passkey["id"])),
            gid("Binding", pk(passkey["id"])),
            "x",
        ):
            refused = await gql(document, {"input": {"id": ident, **extra}}, token=bob["token"])
            assert codes(refused["data"][key]) == [("NOT_FOUND", "id")], (key, ident)
    node = await gql(
        "query($id: ID!) { node(id: $id) { id } }", {"id": passkey["id"]}, token=bob["token"]
    )
    assert node["data"]["node"] is None
    assert (await passkeys_of(gql, alice["token"]))[0]["name"] == "Phone"


@pytest.fixture
async def provider(app_with, tmp_path):
    async with provider_app(app_with, tmp_path) as app:
        yield app


async def test_the_last_way_to_sign_in_cannot_be_removed(provider):
    """An account made by a provider sign-in has no password: its binding and its passkeys
    are its ways in, and the last of them stays."""
    device = SoftwareAuthenticator()
    gql = provider.gql
    subject = new_subject()
    made = await sign_in(provider, provider.acme.id_token(subject))
    token = made["token"]
    first = await add_passkey(gql, token, device, "Phone")
    second = await add_passkey(gql, token, SoftwareAuthenticator(), "Key")
    # With passkeys, the binding is not the last way in.
    assert (await unbind(provider, token))["errors"] == []
    removed = await gql(REMOVE, {"input": {"id": second["id"]}}, token=token)
    assert removed["data"]["removePasskey"]["errors"] == []
    last = await gql(REMOVE, {"input": {"id": first["id"]}}, token=token)
    assert codes(last["data"]["removePasskey"]) == [("LAST_SIGN_IN_METHOD", "id")]
    # The passkey alone signs the account in.
    signed_in = await sign_in_with(gql, device)
    assert signed_in["account"]["id"] == made["account"]["id"]
    # Bound again, the passkey may go.
    assert (await bind(provider, token, provider.acme.id_token(subject)))["errors"] == []
    removed = await gql(REMOVE, {"input": {"id": first["id"]}}, token=token)
    assert removed["data"]["removePasskey"]["errors"] == []


async def test_an_inactive_account_cannot_sign_in_with_its_passkey(gql, device):
    me = await register(gql, "alice")
    await add_passkey(gql, me["token"], device)
    cancelled = await gql(
        "mutation { cancelAccount(input: {}) { errors { code } } }", token=me["token"]
    )
    assert cancelled["data"]["cancelAccount"]["errors"] == []
    refused = await sign_in_with(gql, device)
    assert codes(refused) == [("ACCOUNT_INACTIVE", None)]


# --- a passkey as a second factor ------------------------------------------------------------


async def level_of(token: str) -> AuthLevel:
    return (await Session.get(token_hash=hash_token(token))).auth_level


async def test_a_passkey_sign_in_is_multi_factor(gql, device):
    """Something you have, unlocked by the authenticator's user verification: no second
    step, and a step-up-guarded operation works right after."""
    me = await register(gql, "alice")
    await add_passkey(gql, me["token"], device)
    signed_in = await sign_in_with(gql, device)
    assert signed_in["errors"] == []
    assert await level_of(signed_in["token"]) == AuthLevel.MULTI_FACTOR
    renewed = (await gql(REGENERATE, token=signed_in["token"]))["data"]["regenerateRecoveryCodes"]
    assert renewed["errors"] == [] and len(renewed["recoveryCodes"]) == 10


async def test_a_password_login_of_a_passkey_account_takes_a_second_step(gql, device):
    me = await register(gql, "alice")
    await add_passkey(gql, me["token"], device)
    started = await first_step(gql)
    assert started["errors"] == [] and started["token"] is None
    assert started["secondFactor"]["factors"] == ["PASSKEY", "RECOVERY_CODE"]
    answer = await assertion(gql, device)
    # One second factor at a time (nothing is checked, nothing spent).
    both = await complete(
        gql, started["secondFactor"]["challenge"], passkey=answer, recoveryCode="aaaaa-bbbbb"
    )
    assert codes(both) == [("INVALID", None)]
    done = await complete(gql, started["secondFactor"]["challenge"], passkey=answer)
    assert done["errors"] == [] and done["account"]["accountName"] == "alice"
    assert await level_of(done["token"]) == AuthLevel.MULTI_FACTOR
    assert (await Passkey.get()).sign_count == 1


async def test_another_accounts_passkey_does_not_complete_a_sign_in(gql, device):
    alice = await register(gql, "alice")
    bob = await register(gql, "bob")
    bobs = SoftwareAuthenticator()
    await add_passkey(gql, alice["token"], device)
    await add_passkey(gql, bob["token"], bobs)
    started = await first_step(gql)
    challenge = started["secondFactor"]["challenge"]
    refused = await complete(gql, challenge, passkey=await assertion(gql, bobs))
    assert codes(refused) == [("INVALID_CREDENTIALS", "credential")]
    assert refused["token"] is None
    assert (await SignInChallenge.get()).attempts == 1
    # Bob's passkey still signs Bob in, Alice's completes Alice's sign-in.
    assert (await sign_in_with(gql, bobs))["account"]["accountName"] == "bob"
    done = await complete(gql, challenge, passkey=await assertion(gql, device))
    assert done["errors"] == [] and done["account"]["accountName"] == "alice"


async def test_a_replayed_assertion_does_not_complete_a_sign_in(gql, device):
    me = await register(gql, "alice")
    await add_passkey(gql, me["token"], device)
    answer = await assertion(gql, device)
    first = await first_step(gql)
    assert (await complete(gql, first["secondFactor"]["challenge"], passkey=answer))["errors"] == []
    second = await first_step(gql)
    challenge = second["secondFactor"]["challenge"]
    replayed = await complete(gql, challenge, passkey=answer)
    assert codes(replayed) == [("INVALID_CHALLENGE", "challengeId")]
    # The same answer to a fresh WebAuthn challenge: it signed another one.
    fresh = await assertion(gql, device)
    replayed = await complete(gql, challenge, passkey={**fresh, "credential": answer["credential"]})
    assert codes(replayed) == [("INVALID_CREDENTIALS", "credential")]
    # A sign-in assertion spent by finishPasskeySignIn is spent for completeSignIn too.
    begun = await begin_sign_in(gql)
    used = device.get(begun["options"])
    assert (await finish_sign_in(gql, begun["challengeId"], used))["errors"] == []
    again = await complete(
        gql, challenge, passkey={"challengeId": begun["challengeId"], "credential": used}
    )
    assert codes(again) == [("INVALID_CHALLENGE", "challengeId")]
    assert (await complete(gql, challenge, passkey=await assertion(gql, device)))["errors"] == []


async def test_wrong_passkey_second_steps_count_toward_the_login_limits(gql, device):
    me = await register(gql, "alice")
    await add_passkey(gql, me["token"], device)
    started = await first_step(gql)
    challenge = started["secondFactor"]["challenge"]
    for _ in range(5):
        wrong = await assertion(gql, device, origin="https://evil.example")
        assert codes(await complete(gql, challenge, passkey=wrong)) == [
            ("INVALID_CREDENTIALS", "credential")
        ]
    assert codes(await first_step(gql)) == [("RATE_LIMITED", None)]


async def test_the_first_passkey_brings_recovery_codes_and_the_last_takes_them(gql, device):
    me = await register(gql, "alice")
    token = me["token"]
    begun = await begin_registration(gql, token)
    first = await finish_registration(
        gql, token, begun["challengeId"], device.create(begun["options"])
    )
    assert first["errors"] == [] and len(first["recoveryCodes"]) == 10
    # Registering it showed the passkey: this session counts as multi-factor.
    assert await level_of(token) == AuthLevel.MULTI_FACTOR
    assert (await gql(FACTORS, token=token))["data"]["viewer"] == {
        "secondFactors": ["PASSKEY", "RECOVERY_CODE"],
        "recoveryCodesLeft": 10,
    }
    key = SoftwareAuthenticator()
    begun = await begin_registration(gql, token)
    second = await finish_registration(
        gql, token, begun["challengeId"], key.create(begun["options"]), "Key"
    )
    assert second["errors"] == [] and second["recoveryCodes"] == []

    # A recovery code completes a password sign-in.
    started = await first_step(gql)
    done = await complete(
        gql, started["secondFactor"]["challenge"], recoveryCode=first["recoveryCodes"][0]
    )
    assert done["errors"] == []
    other = done["token"]

    # Removing one passkey keeps the codes and ends the other sessions.
    removed = await gql(REMOVE, {"input": {"id": second["passkey"]["id"]}}, token=token)
    assert removed["data"]["removePasskey"]["errors"] == []
    assert await viewer(gql, other) is None
    assert (await gql(FACTORS, token=token))["data"]["viewer"]["recoveryCodesLeft"] == 9
    assert await level_of(token) == AuthLevel.MULTI_FACTOR

    # The last one takes them, and this session is single-factor again.
    removed = await gql(REMOVE, {"input": {"id": first["passkey"]["id"]}}, token=token)
    assert removed["data"]["removePasskey"]["errors"] == []
    assert (await gql(FACTORS, token=token))["data"]["viewer"] == {
        "secondFactors": [],
        "recoveryCodesLeft": 0,
    }
    assert await RecoveryCode.all().count() == 0
    assert await level_of(token) == AuthLevel.SINGLE_FACTOR
    assert (await first_step(gql))["token"]


async def test_totp_and_passkeys_share_the_recovery_codes(gql, device, clock):
    moment = Moment(clock)
    me = await register(gql, "alice")
    token = me["token"]
    _, recovery = await enroll(gql, token, moment)
    # The account has codes: the first passkey brings no new ones.
    begun = await begin_registration(gql, token)
    made = await finish_registration(
        gql, token, begun["challengeId"], device.create(begun["options"])
    )
    assert made["errors"] == [] and made["recoveryCodes"] == []
    started = await first_step(gql)
    assert started["secondFactor"]["factors"] == ["PASSKEY", "TOTP", "RECOVERY_CODE"]
    # Removing the authenticator keeps them while the passkey stays.
    removed = (await gql(REMOVE_TOTP, token=token))["data"]["removeTotp"]
    assert removed["errors"] == [] and removed["account"]["secondFactors"] == [
        "PASSKEY",
        "RECOVERY_CODE",
    ]
    assert await level_of(token) == AuthLevel.MULTI_FACTOR
    done = await complete(gql, started["secondFactor"]["challenge"], recoveryCode=recovery[0])
    assert codes(done) == [] and done["token"]
    removed = await gql(REMOVE, {"input": {"id": made["passkey"]["id"]}}, token=token)
    assert removed["data"]["removePasskey"]["errors"] == []
    assert await RecoveryCode.all().count() == 0
    assert await level_of(token) == AuthLevel.SINGLE_FACTOR


async def test_adding_a_passkey_to_a_multi_factor_account_needs_a_multi_factor_session(
    gql, device, settings
):
    me = await register(gql, "alice")
    await add_passkey(gql, me["token"], device)
    await make_sessions_old("alice", settings)
    stale = await begin_registration(gql, me["token"], password=PASSWORD)
    assert codes(stale) == [("REAUTHENTICATION_REQUIRED", None)]
    assert stale["errors"][0]["factors"] == ["PASSWORD", "PASSKEY", "RECOVERY_CODE"]
    # A recent session that signed in with the password alone is not enough either.
    alone = await Session.get(token_hash=hash_token(me["token"]))
    await Session.filter(id=alone.id).update(
        authenticated_at=domain_clock.now(), auth_level=AuthLevel.SINGLE_FACTOR
    )
    refused = await begin_registration(gql, me["token"])
    assert codes(refused) == [("REAUTHENTICATION_REQUIRED", None)]
    stepped = await step_up(gql, me["token"], passkey=await assertion(gql, device))
    assert stepped["authLevel"] == "MULTI_FACTOR"
    assert (await begin_registration(gql, me["token"]))["errors"] == []
