"""Second factors through GraphQL: TOTP enrolment and confirmation, recovery codes, and the
two-step sign-in (login, signInWithProvider, restoreAccount, then completeSignIn)."""

from __future__ import annotations

import re
from datetime import timedelta
from urllib.parse import parse_qs, unquote, urlsplit

import pyotp
import pytest

from models.accounts.levels import AuthLevel
from models.accounts.recovery_codes import RecoveryCode
from models.accounts.sessions import Session, hash_token
from models.accounts.sign_in_challenges import MAX_ATTEMPTS, SignInChallenge
from models.accounts.totp import TotpCredential
from tests.accounts_api import PASSWORD, SIGN_IN_WITH_PROVIDER, register, viewer
from tests.oidc_provider import acme, new_subject, provider_app
from tests.second_factor_helpers import (
    CONFIRM_TOTP,
    ENROLL_TOTP,
    FACTORS,
    Moment,
    codes,
    complete,
    enroll,
    first_step,
    sign_in_with_totp,
)

RESTORE = """
mutation($input: RestoreAccountInput!) {
  restoreAccount(input: $input) {
    token account { status } secondFactor { challenge factors } errors { code field }
  }
}"""
CANCEL = "mutation { cancelAccount(input: {}) { errors { code field } } }"


@pytest.fixture
def moment(clock) -> Moment:
    return Moment(clock)


# --- enrolment -------------------------------------------------------------------------------


async def test_enrolment_gives_a_secret_uri_and_qr_code_and_is_off_until_confirmed(gql, moment):
    alice = await register(gql, "alice")
    enrolled = (await gql(ENROLL_TOTP, token=alice["token"]))["data"]["enrollTotp"]
    assert enrolled["errors"] == []
    secret = enrolled["secret"]
    assert re.fullmatch(r"[A-Z2-7]{32}", secret)
    uri = urlsplit(enrolled["provisioningUri"])
    assert (uri.scheme, uri.netloc, uri.path) == ("otpauth", "totp", "/Accord:alice")
    assert parse_qs(uri.query) == {"secret": [secret], "issuer": ["Accord"]}
    kind, _, svg = enrolled["qrCode"].partition(",")
    assert kind.startswith("data:image/svg+xml")
    assert unquote(svg).startswith("<svg")
    # Not in use before a first code comes back: one-step sign-in, no second factor listed.
    assert (await gql(FACTORS, token=alice["token"]))["data"]["viewer"] == {
        "secondFactors": [],
        "recoveryCodesLeft": 0,
    }
    signed_in = await first_step(gql)
    assert signed_in["token"] and signed_in["secondFactor"] is None
    # Enrolling again replaces the pending secret.
    again = (await gql(ENROLL_TOTP, token=alice["token"]))["data"]["enrollTotp"]
    assert again["secret"] != secret
    assert await TotpCredential.all().count() == 1


async def test_confirmation_wants_a_right_code_then_shows_ten_recovery_codes_once(gql, moment):
    alice = await register(gql, "alice")
    secret = (await gql(ENROLL_TOTP, token=alice["token"]))["data"]["enrollTotp"]["secret"]
    wrong = await gql(CONFIRM_TOTP, {"input": {"code": "000000"}}, token=alice["token"])
    if moment.code(secret) == "000000":  # pragma: no cover - one chance in a million
        return
    payload = wrong["data"]["confirmTotp"]
    assert codes(payload) == [("INVALID_CREDENTIALS", "code")]
    assert payload["recoveryCodes"] == []
    shaped = await gql(CONFIRM_TOTP, {"input": {"code": "12ab"}}, token=alice["token"])
    assert codes(shaped["data"]["confirmTotp"]) == [("INVALID_CREDENTIALS", "code")]

    right = await gql(CONFIRM_TOTP, {"input": {"code": moment.code(secret)}}, token=alice["token"])
    payload = right["data"]["confirmTotp"]
    assert payload["errors"] == []
    recovery = payload["recoveryCodes"]
    assert len(recovery) == len(set(recovery)) == 10
    assert all(re.fullmatch(r"[a-z2-7]{5}-[a-z2-7]{5}", c) for c in recovery)
    assert payload["account"]["secondFactors"] == ["TOTP", "RECOVERY_CODE"]
    assert (await gql(FACTORS, token=alice["token"]))["data"]["viewer"] == {
        "secondFactors": ["TOTP", "RECOVERY_CODE"],
        "recoveryCodesLeft": 10,
    }
    # Stored hashed only.
    stored = [row.code_hash for row in await RecoveryCode.all()]
    assert len(stored) == 10
    assert not any(c.replace("-", "") in h or c in h for c in recovery for h in stored)
    # Confirmed once: a second confirmation or enrolment is refused.
    moment.step()
    again = await gql(CONFIRM_TOTP, {"input": {"code": moment.code(secret)}}, token=alice["token"])
    assert codes(again["data"]["confirmTotp"]) == [("ALREADY_ENROLLED", None)]
    enrolled = (await gql(ENROLL_TOTP, token=alice["token"]))["data"]["enrollTotp"]
    assert codes(enrolled) == [("ALREADY_ENROLLED", None)]


async def test_confirm_without_enrolment_is_not_found(gql, moment):
    alice = await register(gql, "alice")
    body = await gql(CONFIRM_TOTP, {"input": {"code": "123456"}}, token=alice["token"])
    assert codes(body["data"]["confirmTotp"]) == [("NOT_FOUND", None)]


async def test_factor_mutations_need_a_sign_in(gql):
    body = await gql(ENROLL_TOTP)
    assert codes(body["data"]["enrollTotp"]) == [("NOT_AUTHENTICATED", None)]


# --- two-step sign-in ------------------------------------------------------------------------


async def test_sign_in_takes_a_second_step_with_the_authenticator(gql, moment, settings):
    alice = await register(gql, "alice")
    secret, _ = await enroll(gql, alice["token"], moment)

    started = await first_step(gql)
    assert started["errors"] == []
    assert started["token"] is None and started["account"] is None
    second = started["secondFactor"]
    assert second["factors"] == ["TOTP", "RECOVERY_CODE"]
    assert second["challenge"]
    # No session was opened by the first step, and the challenge is stored hashed.
    assert await Session.all().count() == 1
    row = await SignInChallenge.get()
    assert second["challenge"] not in row.token_hash
    assert row.expires_at == moment.now + settings.sign_in_challenge_ttl

    done = await complete(gql, second["challenge"], totpCode=moment.code(secret))
    assert done["errors"] == []
    assert done["account"]["accountName"] == "alice"
    assert (await viewer(gql, done["token"]))["accountName"] == "alice"
    session = await Session.get(token_hash=hash_token(done["token"]))
    assert session.auth_level == AuthLevel.MULTI_FACTOR


async def test_a_wrong_password_gets_no_challenge(gql, moment):
    alice = await register(gql, "alice")
    await enroll(gql, alice["token"], moment)
    refused = await first_step(gql, password="not-the-password-at-all")
    assert codes(refused) == [("INVALID_CREDENTIALS", None)]
    assert refused["secondFactor"] is None
    assert await SignInChallenge.all().count() == 0


async def test_sign_in_with_a_recovery_code_works_once_per_code(gql, moment):
    alice = await register(gql, "alice")
    _, recovery = await enroll(gql, alice["token"], moment)
    started = await first_step(gql)
    # Typed with spaces or capitals, it is the same code.
    typed = recovery[0].upper().replace("-", " ")
    done = await complete(gql, started["secondFactor"]["challenge"], recoveryCode=typed)
    assert done["errors"] == [] and done["token"]
    left = (await gql(FACTORS, token=done["token"]))["data"]["viewer"]["recoveryCodesLeft"]
    assert left == 9

    again = await first_step(gql)
    refused = await complete(gql, again["secondFactor"]["challenge"], recoveryCode=recovery[0])
    assert codes(refused) == [("INVALID_CREDENTIALS", "recoveryCode")]
    assert refused["token"] is None
    # Another unused code still works on the same challenge.
    done = await complete(gql, again["secondFactor"]["challenge"], recoveryCode=recovery[1])
    assert done["errors"] == []


async def test_a_made_up_recovery_code_is_refused(gql, moment):
    alice = await register(gql, "alice")
    await enroll(gql, alice["token"], moment)
    started = await first_step(gql)
    for guess in ("aaaaa-aaaaa", "not a code", ""):
        refused = await complete(gql, started["secondFactor"]["challenge"], recoveryCode=guess)
        assert refused["token"] is None and refused["errors"]


async def test_wrong_codes_kill_the_challenge(gql, moment):
    alice = await register(gql, "alice")
    secret, _ = await enroll(gql, alice["token"], moment)
    started = await first_step(gql)
    challenge = started["secondFactor"]["challenge"]
    right = moment.code(secret)
    wrong = next(
        c
        for c in ("111111", "222222", "333333")
        if c not in {moment.code(secret, -1), right, moment.code(secret, 1)}
    )
    for _ in range(MAX_ATTEMPTS):
        refused = await complete(gql, challenge, totpCode=wrong)
        assert codes(refused) == [("INVALID_CREDENTIALS", "totpCode")]
    dead = await complete(gql, challenge, totpCode=right)
    assert codes(dead) == [("INVALID_CHALLENGE", "challenge")]
    assert dead["token"] is None


async def test_an_expired_challenge_is_refused(gql, moment, settings):
    alice = await register(gql, "alice")
    secret, _ = await enroll(gql, alice["token"], moment)
    started = await first_step(gql)
    moment.advance(settings.sign_in_challenge_ttl + timedelta(seconds=1))
    refused = await complete(
        gql, started["secondFactor"]["challenge"], totpCode=moment.code(secret)
    )
    assert codes(refused) == [("INVALID_CHALLENGE", "challenge")]


async def test_a_challenge_is_single_use(gql, moment):
    alice = await register(gql, "alice")
    secret, recovery = await enroll(gql, alice["token"], moment)
    started = await first_step(gql)
    challenge = started["secondFactor"]["challenge"]
    assert (await complete(gql, challenge, totpCode=moment.code(secret)))["errors"] == []
    moment.step()
    reused = await complete(gql, challenge, totpCode=moment.code(secret))
    assert codes(reused) == [("INVALID_CHALLENGE", "challenge")]
    assert codes(await complete(gql, "made-up", recoveryCode=recovery[0])) == [
        ("INVALID_CHALLENGE", "challenge")
    ]


async def test_a_used_totp_code_is_refused_again_and_so_is_an_older_one(gql, moment):
    alice = await register(gql, "alice")
    secret, _ = await enroll(gql, alice["token"], moment)
    code = moment.code(secret)
    first = await first_step(gql)
    assert (await complete(gql, first["secondFactor"]["challenge"], totpCode=code))["errors"] == []

    second = await first_step(gql)
    challenge = second["secondFactor"]["challenge"]
    replayed = await complete(gql, challenge, totpCode=code)
    assert codes(replayed) == [("INVALID_CREDENTIALS", "totpCode")]
    assert "used already" in replayed["errors"][0]["message"]
    # The previous step's code is still within the window, but older than the one used.
    older = await complete(gql, challenge, totpCode=moment.code(secret, -1))
    assert codes(older) == [("INVALID_CREDENTIALS", "totpCode")]
    # The next step's code is new.
    assert (await complete(gql, challenge, totpCode=moment.code(secret, 1)))["errors"] == []


async def test_codes_one_step_either_side_are_accepted_but_not_two(gql, moment):
    alice = await register(gql, "alice")
    secret, _ = await enroll(gql, alice["token"], moment)
    moment.step(5)
    started = await first_step(gql)
    challenge = started["secondFactor"]["challenge"]
    too_old = moment.code(secret, -2)
    if too_old not in {moment.code(secret, s) for s in (-1, 0, 1)}:
        assert codes(await complete(gql, challenge, totpCode=too_old)) == [
            ("INVALID_CREDENTIALS", "totpCode")
        ]
    assert (await complete(gql, challenge, totpCode=moment.code(secret, -1)))["errors"] == []


async def test_second_step_codes_count_toward_the_login_limits(gql, moment):
    """5 attempts a minute per account and address: wrong codes use them up like wrong
    passwords, and then even the right password is refused from this address."""
    alice = await register(gql, "alice")
    await enroll(gql, alice["token"], moment)
    started = await first_step(gql)  # a success: the pair's failures are cleared
    challenge = started["secondFactor"]["challenge"]
    for _ in range(MAX_ATTEMPTS):
        assert codes(await complete(gql, challenge, recoveryCode="aaaaa-bbbbb")) == [
            ("INVALID_CREDENTIALS", "recoveryCode")
        ]
    limited = await first_step(gql)
    assert codes(limited) == [("RATE_LIMITED", None)]
    assert limited["errors"][0]["retryAfter"] > 0 and limited["secondFactor"] is None


async def test_one_sign_in_step_per_request(gql, moment):
    alice = await register(gql, "alice")
    _, recovery = await enroll(gql, alice["token"], moment)
    started = await first_step(gql)
    challenge = started["secondFactor"]["challenge"]
    body = await gql(
        """mutation($c: String!, $a: String!, $b: String!) {
          a: completeSignIn(input: {challenge: $c, recoveryCode: $a}) { token errors { code } }
          b: completeSignIn(input: {challenge: $c, recoveryCode: $b}) { token errors { code } }
        }""",
        {"c": challenge, "a": "aaaaa-aaaaa", "b": recovery[0]},
    )
    assert body["data"]["b"] == {"token": None, "errors": [{"code": "TOO_MANY_LOGINS"}]}


async def test_accounts_without_a_second_factor_sign_in_in_one_step(gql):
    await register(gql, "alice")
    payload = await first_step(gql)
    assert payload["token"] and payload["account"] and payload["secondFactor"] is None


# --- provider sign-in and restoring an account -------------------------------------------------


async def test_provider_sign_in_takes_the_second_step_too(app_with, tmp_path, clock):
    moment = Moment(clock)
    async with provider_app(app_with, tmp_path) as p:
        subject = new_subject()
        first = await p.gql(
            SIGN_IN_WITH_PROVIDER,
            {"input": {"provider": "acme", "idToken": acme().id_token(subject)}},
        )
        token = first["data"]["signInWithProvider"]["token"]
        secret, _ = await enroll(p.gql, token, moment)
        answer = await p.gql(
            """mutation($input: SignInWithProviderInput!) {
              signInWithProvider(input: $input) {
                token created account { id } secondFactor { challenge factors }
              }
            }""",
            {"input": {"provider": "acme", "idToken": acme().id_token(subject)}},
        )
        started = answer["data"]["signInWithProvider"]
        assert started["token"] is None and started["account"] is None
        assert started["secondFactor"]["factors"] == ["TOTP", "RECOVERY_CODE"]
        challenge = await SignInChallenge.get()
        assert challenge.first_factor == "PROVIDER"
        done = await complete(
            p.gql, started["secondFactor"]["challenge"], totpCode=moment.code(secret)
        )
        assert done["errors"] == [] and done["token"]


async def test_restoring_an_account_with_a_second_factor_takes_the_second_step(gql, moment):
    alice = await register(gql, "alice")
    secret, _ = await enroll(gql, alice["token"], moment)
    assert (await gql(CANCEL, token=alice["token"]))["data"]["cancelAccount"]["errors"] == []
    body = await gql(RESTORE, {"input": {"accountName": "alice", "password": PASSWORD}})
    started = body["data"]["restoreAccount"]
    assert started["token"] is None and started["account"] is None
    assert started["secondFactor"]["factors"] == ["TOTP", "RECOVERY_CODE"]
    # Still cancelled until the second step.
    assert (await first_step(gql))["errors"][0]["code"] == "ACCOUNT_INACTIVE"
    done = await complete(gql, started["secondFactor"]["challenge"], totpCode=moment.code(secret))
    assert done["errors"] == []
    assert done["account"]["status"] == "ACTIVE"
    assert (await viewer(gql, done["token"]))["status"] == "ACTIVE"


async def test_sign_in_with_totp_end_to_end(gql, moment):
    alice = await register(gql, "alice")
    secret, _ = await enroll(gql, alice["token"], moment)
    token = await sign_in_with_totp(gql, moment, secret)
    assert (await viewer(gql, token))["accountName"] == "alice"
    assert pyotp.TOTP(secret).verify(moment.code(secret), for_time=moment.now)
