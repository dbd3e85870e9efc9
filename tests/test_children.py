"""Children's information (issue 19, the policy's section 1.1: "published only with the
guardian's consent"): a minor's account by declared birth year or by staff, its public
content hidden from others until a guardian consents by an e-mail code (or staff verify),
private again at once on withdrawal, and coming of age through the sweeper."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

from models import clock as domain_clock
from models.consent.ledger import account_subject, verify_chain
from tests.conftest import MAILBOX, GraphQL
from tests.consent_helpers import officer
from tests.consent_helpers import verify as verify_ledger
from tests.contact_helpers import deliver
from tests.ids import pk
from tests.notification_helpers import body_of, recipients
from tests.personal_helpers import PASSWORD, file_path, submitted, uploaded
from tests.rights_helpers import audit_log

ERRORS = "errors { code field message }"
REGISTER = """
mutation($input: RegisterInput!) {
  register(input: $input) { token account { id minor birthYear } errors { code field } }
}"""
UPDATE_PROFILE = f"""
mutation($input: UpdateProfileInput!) {{
  updateProfile(input: $input) {{ account {{ minor birthYear }} {ERRORS} }}
}}"""
VIEWER = """
{ viewer { minor birthYear guardianConsent {
    status confirmedAt pendingRequest { id guardianEmail expiresAt attemptsLeft } } } }"""
PUBLIC = """
query($subject: String!) { publicFeedback(subject: $subject) { edges { node {
  id body pictures { id url } author { nickname signature } } } } }"""
REQUEST = f"""
mutation($input: RequestGuardianConsentInput!) {{
  requestGuardianConsent(input: $input) {{
    guardianConsent {{ status pendingRequest {{ id guardianEmail }} }} {ERRORS}
  }}
}}"""
CONFIRM = f"""
mutation($input: ConfirmGuardianConsentInput!) {{
  confirmGuardianConsent(input: $input) {{ confirmed {ERRORS} }}
}}"""
WITHDRAWAL_CODE = f"""
mutation($input: RequestGuardianWithdrawalCodeInput!) {{
  requestGuardianWithdrawalCode(input: $input) {{ expiresAt {ERRORS} }}
}}"""
WITHDRAW = f"""
mutation($input: WithdrawGuardianConsentInput!) {{
  withdrawGuardianConsent(input: $input) {{ withdrawn {ERRORS} }}
}}"""
VERIFY = f"""
mutation($input: VerifyGuardianConsentInput!) {{
  verifyGuardianConsent(input: $input) {{ accountId confirmedAt {ERRORS} }}
}}"""
MARK = f"""
mutation($input: MarkMinorInput!) {{ markMinor(input: $input) {{ accountId minor {ERRORS} }} }}"""
HISTORY = """
{ viewer { consentHistory(first: 20) { edges { node { id kind source } } } } }"""
RECEIPT = "query($id: ID!) { consentReceipt(id: $id) }"

GUARDIAN = "parent.of.kid@example.org"
SUBJECT = "product-1"
MAILED = re.compile(r"request ([0-9a-f-]{36}) and code (\d{6})")


def this_year() -> int:
    return domain_clock.now().year


async def register(gql, name: str, **fields: Any) -> dict[str, Any]:
    given = {"accountName": name, "password": PASSWORD, "nickname": name, **fields}
    result = (await gql(REGISTER, {"input": given}))["data"]["register"]
    assert result["errors"] == [], result
    return result


async def minor(gql, name: str = "kid", **fields: Any) -> dict[str, Any]:
    """A minor's account (born ten years ago unless told), with a signature."""
    fields.setdefault("birthYear", this_year() - 10)
    fields.setdefault("signature", "likes trains")
    kid = await register(gql, name, **fields)
    assert kid["account"]["minor"] is True
    return kid


async def login(gql, name: str) -> str:
    body = await gql(
        "mutation($i: LoginInput!) { login(input: $i) { token errors { code } } }",
        {"i": {"accountName": name, "password": PASSWORD}},
    )
    token: str = body["data"]["login"]["token"]
    return token


async def viewer(gql, token: str) -> dict[str, Any]:
    return (await gql(VIEWER, token=token))["data"]["viewer"]


async def public(gql) -> list[dict[str, Any]]:
    body = await gql(PUBLIC, {"subject": SUBJECT})
    return [e["node"] for e in body["data"]["publicFeedback"]["edges"]]


def mailed(address: str, since: int) -> tuple[str, str]:
    """The request id and code of the newest message to ``address`` since ``since``."""
    found = [
        MAILED.search(body_of(m)) for m in MAILBOX.received[since:] if address in recipients(m)
    ]
    found = [f for f in found if f]
    assert found, f"nothing mailed to {address}"
    return found[-1].group(1), found[-1].group(2)


async def ask_guardian(gql, token: str, address: str = GUARDIAN) -> tuple[str, str]:
    since = len(MAILBOX.received)
    result = (await gql(REQUEST, {"input": {"guardianEmail": address}}, token=token))["data"][
        "requestGuardianConsent"
    ]
    assert result["errors"] == [], result
    assert result["guardianConsent"]["status"] == "PENDING"
    assert result["guardianConsent"]["pendingRequest"]["guardianEmail"] == "p***@example.org"
    await deliver()
    request_id, code = mailed(address, since)
    assert result["guardianConsent"]["pendingRequest"]["id"] == request_id
    return request_id, code


async def confirm(gql, request_id: str, code: str) -> dict[str, Any]:
    body = await gql(CONFIRM, {"input": {"requestId": request_id, "code": code}})
    return body["data"]["confirmGuardianConsent"]


async def withdraw(gql, token: str | None = None, **given: Any) -> dict[str, Any]:
    body = await gql(WITHDRAW, {"input": given}, token=token)
    return body["data"]["withdrawGuardianConsent"]


def codes(payload: dict[str, Any]) -> list[str]:
    return [e["code"] for e in payload["errors"]]


# --- who is a minor ---------------------------------------------------------------------------


async def test_a_birth_year_that_could_make_the_user_younger_than_the_age_marks_a_minor(gql):
    year = this_year()
    # With the default age of 14: born 14 years ago, they may not have had their birthday.
    assert (await register(gql, "just.fourteen", birthYear=year - 14))["account"]["minor"]
    adult = await register(gql, "fifteen", birthYear=year - 15)
    assert adult["account"] == {**adult["account"], "minor": False, "birthYear": year - 15}
    assert (await register(gql, "no.year"))["account"]["minor"] is False
    refused = (
        await gql(
            REGISTER,
            {
                "input": {
                    "accountName": "future",
                    "password": PASSWORD,
                    "nickname": "f",
                    "birthYear": year + 1,
                }
            },
        )
    )["data"]["register"]
    assert refused["errors"] == [{"code": "INVALID", "field": "birthYear"}]
    state = await viewer(gql, adult["token"])
    assert state["guardianConsent"] == {
        "status": "NOT_REQUIRED",
        "confirmedAt": None,
        "pendingRequest": None,
    }


async def test_the_age_of_digital_consent_is_per_region(app_with):
    year = this_year()
    async with app_with(age_of_digital_consent_by_region={"de": 16, "US": 13}) as http:
        gql = GraphQL(http)
        german = await register(gql, "hans", birthYear=year - 16, region="DE")
        american = await register(gql, "amy", birthYear=year - 16, region="US")
        elsewhere = await register(gql, "ana", birthYear=year - 14, region="BR")
        assert german["account"]["minor"] is True
        assert american["account"]["minor"] is False
        assert elsewhere["account"]["minor"] is True
        # Moving to a region with a higher age makes an adult there a minor.
        moved = (await gql(UPDATE_PROFILE, {"input": {"region": "DE"}}, token=american["token"]))[
            "data"
        ]["updateProfile"]
        assert moved["account"]["minor"] is True


async def test_update_profile_marks_a_minor_and_a_minor_cannot_declare_an_earlier_year(gql):
    year = this_year()
    user = await register(gql, "grows.up")
    marked = (await gql(UPDATE_PROFILE, {"input": {"birthYear": year - 12}}, token=user["token"]))[
        "data"
    ]["updateProfile"]
    assert marked["account"] == {"minor": True, "birthYear": year - 12}
    for earlier in (year - 30, None):
        refused = (
            await gql(UPDATE_PROFILE, {"input": {"birthYear": earlier}}, token=user["token"])
        )["data"]["updateProfile"]
        assert codes(refused) == ["INVALID"], refused
    later = (await gql(UPDATE_PROFILE, {"input": {"birthYear": year - 11}}, token=user["token"]))[
        "data"
    ]["updateProfile"]
    assert later["account"] == {"minor": True, "birthYear": year - 11}


async def test_staff_mark_and_clear_a_minor_audited_and_an_ordinary_user_cannot(gql):
    staff = await officer(gql)
    user = await register(gql, "unmarked")
    other = await register(gql, "nosy")
    account_id = user["account"]["id"]
    denied = (
        await gql(
            MARK,
            {"input": {"accountId": account_id, "minor": True, "reason": "x"}},
            token=other["token"],
        )
    )["data"]["markMinor"]
    assert codes(denied) == ["FORBIDDEN"]
    assert (await viewer(gql, user["token"]))["minor"] is False
    no_reason = (
        await gql(
            MARK,
            {"input": {"accountId": account_id, "minor": True, "reason": " "}},
            token=staff.token,
        )
    )["data"]["markMinor"]
    assert no_reason["errors"] and no_reason["minor"] is None
    marked = (
        await gql(
            MARK,
            {"input": {"accountId": account_id, "minor": True, "reason": "school said so"}},
            token=staff.token,
        )
    )["data"]["markMinor"]
    assert marked == {"accountId": account_id, "minor": True, "errors": []}
    assert (await viewer(gql, user["token"]))["guardianConsent"]["status"] == "REQUIRED"
    cleared = (
        await gql(
            MARK,
            {"input": {"accountId": account_id, "minor": False, "reason": "saw an ID card"}},
            token=staff.token,
        )
    )["data"]["markMinor"]
    assert cleared["minor"] is False
    entries = await audit_log(gql, staff.token, subjectId=account_id)
    assert [(e["action"], e["reason"]) for e in entries] == [
        ("UNMARK_MINOR", "saw an ID card"),
        ("MARK_MINOR", "school said so"),
    ]


# --- hidden until a guardian consents -----------------------------------------------------


async def test_a_minors_public_content_waits_for_the_guardians_code_and_hides_again_on_withdrawal(
    gql, client
):
    kid = await minor(gql)
    adult = await register(gql, "grown", signature="hello")
    picture = await uploaded(client, kid["token"])
    await submitted(gql, kid["token"], visibility="PUBLIC", body="choo", pictureIds=[picture["id"]])
    await submitted(gql, adult["token"], visibility="PUBLIC", body="fine")

    async def shown() -> list[str]:
        return [item["body"] for item in await public(gql)]

    async def picture_status(token: str | None = None) -> int:
        headers = {"authorization": f"Bearer {token}"} if token else {}
        return (await client.get(file_path(picture), headers=headers)).status_code

    assert await shown() == ["fine"]
    assert await picture_status() == 404
    assert await picture_status(adult["token"]) == 404
    assert await picture_status(kid["token"]) == 200  # the owner always

    request_id, code = await ask_guardian(gql, kid["token"])
    pending = (await viewer(gql, kid["token"]))["guardianConsent"]
    assert pending["status"] == "PENDING"
    assert pending["pendingRequest"]["guardianEmail"] == "p***@example.org"
    assert await shown() == ["fine"]  # a code sent is no consent

    assert (await confirm(gql, request_id, code)) == {"confirmed": True, "errors": []}
    state = (await viewer(gql, kid["token"]))["guardianConsent"]
    assert state["status"] == "CONSENTED" and state["confirmedAt"]
    items = await public(gql)
    assert sorted(i["body"] for i in items) == ["choo", "fine"]
    kids = next(i for i in items if i["body"] == "choo")
    assert kids["author"] == {"nickname": "kid", "signature": "likes trains"}
    assert len(kids["pictures"]) == 1
    assert await picture_status() == 200
    assert await picture_status(adult["token"]) == 200
    # The same code works once.
    assert codes(await confirm(gql, request_id, code)) == ["NOT_FOUND"]

    assert (await withdraw(gql, kid["token"])) == {"withdrawn": True, "errors": []}
    assert await shown() == ["fine"]
    assert await picture_status() == 404
    assert (await viewer(gql, kid["token"]))["guardianConsent"]["status"] == "REQUIRED"
    assert codes(await withdraw(gql, kid["token"])) == ["INVALID"]  # nothing left to withdraw

    history = (await gql(HISTORY, token=kid["token"]))["data"]["viewer"]["consentHistory"]
    kinds = [(e["node"]["kind"], e["node"]["source"]) for e in history["edges"]]
    assert kinds[:2] == [("GUARDIAN_WITHDRAWN", "API"), ("GUARDIAN_CONSENTED", "API")]
    receipt = (await gql(RECEIPT, {"id": history["edges"][1]["node"]["id"]}, token=kid["token"]))[
        "data"
    ]["consentReceipt"]
    assert receipt and receipt.count(".") == 2
    staff = await officer(gql)
    check = await verify_ledger(gql, staff.token, account_id=kid["account"]["id"])
    assert check["ok"] is True and check["checked"] >= 2
    assert (await verify_chain(account_subject(pk(kid["account"]["id"])))).ok


async def test_the_guardian_withdraws_with_a_new_code_sent_to_the_same_address(gql):
    kid = await minor(gql, "kiddo")
    await submitted(gql, kid["token"], visibility="PUBLIC", body="hi")
    request_id, code = await ask_guardian(gql, kid["token"])
    assert (await confirm(gql, request_id, code))["confirmed"] is True
    assert [i["body"] for i in await public(gql)] == ["hi"]

    since = len(MAILBOX.received)
    asked = (await gql(WITHDRAWAL_CODE, {"input": {"requestId": request_id}}))["data"][
        "requestGuardianWithdrawalCode"
    ]
    assert asked["errors"] == [] and asked["expiresAt"]
    await deliver()
    withdrawal_id, withdrawal_code = mailed(GUARDIAN, since)
    assert withdrawal_id != request_id
    # The consent's own code, or the request it answered, withdraws nothing.
    assert codes(await withdraw(gql, requestId=request_id, code=code)) == ["NOT_FOUND"]
    wrong = "000000" if withdrawal_code != "000000" else "111111"
    assert codes(await withdraw(gql, requestId=withdrawal_id, code=wrong)) == ["INVALID_CODE"]
    assert [i["body"] for i in await public(gql)] == ["hi"]
    done = await withdraw(gql, requestId=withdrawal_id, code=withdrawal_code)
    assert done == {"withdrawn": True, "errors": []}
    assert await public(gql) == []


async def test_wrong_unknown_and_expired_codes_are_typed_errors(gql, clock):
    kid = await minor(gql, "tries")
    request_id, code = await ask_guardian(gql, kid["token"])
    wrong = "000000" if code != "000000" else "111111"
    refused = await confirm(gql, request_id, wrong)
    assert refused["confirmed"] is False
    assert refused["errors"][0]["code"] == "INVALID_CODE"
    assert "4 attempts left" in refused["errors"][0]["message"]
    assert codes(await confirm(gql, "not-a-request", code)) == ["NOT_FOUND"]
    assert codes(await confirm(gql, "00000000-0000-4000-8000-000000000000", code)) == ["NOT_FOUND"]
    later = domain_clock.now() + timedelta(minutes=16)
    clock.use(lambda: later)
    assert codes(await confirm(gql, request_id, code)) == ["CODE_EXPIRED"]
    clock.restore()
    assert (await viewer(gql, kid["token"]))["guardianConsent"]["status"] == "PENDING"


async def test_too_many_wrong_codes_lock_the_request(gql):
    kid = await minor(gql, "locked")
    request_id, code = await ask_guardian(gql, kid["token"])
    wrong = "000000" if code != "000000" else "111111"
    for _ in range(4):
        assert codes(await confirm(gql, request_id, wrong)) == ["INVALID_CODE"]
    assert codes(await confirm(gql, request_id, wrong)) == ["TOO_MANY_ATTEMPTS"]
    assert codes(await confirm(gql, request_id, code)) == ["TOO_MANY_ATTEMPTS"]


async def test_only_a_minor_asks_and_not_with_their_own_address(gql):
    adult = await register(gql, "adult.asks", birthYear=this_year() - 40)
    result = (await gql(REQUEST, {"input": {"guardianEmail": GUARDIAN}}, token=adult["token"]))[
        "data"
    ]["requestGuardianConsent"]
    assert codes(result) == ["INVALID"]
    kid = await minor(gql, "kid.asks")
    bad = (await gql(REQUEST, {"input": {"guardianEmail": "not an address"}}, token=kid["token"]))[
        "data"
    ]["requestGuardianConsent"]
    assert [(e["code"], e["field"]) for e in bad["errors"]] == [("INVALID", "guardianEmail")]
    anonymous = (await gql(REQUEST, {"input": {"guardianEmail": GUARDIAN}}))["data"][
        "requestGuardianConsent"
    ]
    assert codes(anonymous) == ["NOT_AUTHENTICATED"]


async def test_staff_verify_and_withdraw_a_guardians_consent_audited(gql):
    staff = await officer(gql)
    kid = await minor(gql, "verified.kid")
    other = await register(gql, "not.staff")
    await submitted(gql, kid["token"], visibility="PUBLIC", body="yo")
    account_id = kid["account"]["id"]
    denied = (
        await gql(
            VERIFY, {"input": {"accountId": account_id, "reason": "form"}}, token=other["token"]
        )
    )["data"]["verifyGuardianConsent"]
    assert codes(denied) == ["FORBIDDEN"]
    assert await public(gql) == []
    done = (
        await gql(
            VERIFY,
            {"input": {"accountId": account_id, "reason": "signed form received"}},
            token=staff.token,
        )
    )["data"]["verifyGuardianConsent"]
    assert done["errors"] == [] and done["confirmedAt"]
    assert [i["body"] for i in await public(gql)] == ["yo"]
    # Someone else's accountId is no way around the role.
    sneaky = await withdraw(gql, other["token"], accountId=account_id, reason="mine now")
    assert codes(sneaky) == ["FORBIDDEN"]
    assert [i["body"] for i in await public(gql)] == ["yo"]
    pulled = await withdraw(gql, staff.token, accountId=account_id, reason="guardian phoned")
    assert pulled == {"withdrawn": True, "errors": []}
    assert await public(gql) == []
    entries = await audit_log(gql, staff.token, subjectId=account_id)
    assert [(e["action"], e["reason"]) for e in entries] == [
        ("WITHDRAW_FOR_GUARDIAN", "guardian phoned"),
        ("VERIFY_GUARDIAN_CONSENT", "signed form received"),
    ]
    history = (await gql(HISTORY, token=kid["token"]))["data"]["viewer"]["consentHistory"]
    kinds = [(e["node"]["kind"], e["node"]["source"]) for e in history["edges"]]
    assert kinds[:2] == [("GUARDIAN_WITHDRAWN", "SUPPORT"), ("GUARDIAN_CONSENTED", "SUPPORT")]
    check = await verify_ledger(gql, staff.token, account_id=account_id)
    assert check["ok"] is True


# --- coming of age ----------------------------------------------------------------------------


async def test_a_minor_comes_of_age_through_the_sweeper_but_a_staff_mark_stays(
    world, clock, settings
):
    from workers.sweeper import sweep

    app, tokens, queue = world
    year = this_year()
    kid = await minor(app.gql, "almost", birthYear=year - 14)
    marked = await register(app.gql, "marked", birthYear=year - 14)
    assert marked["account"]["minor"] is True
    staff_mark = (
        await app.gql(
            MARK,
            {"input": {"accountId": marked["account"]["id"], "minor": True, "reason": "case 7"}},
            token=tokens["officer"],
        )
    )["data"]["markMinor"]
    assert staff_mark["errors"] == []
    await submitted(app.gql, kid["token"], visibility="PUBLIC", body="soon")

    async def swept() -> int:
        return (await sweep({"settings": settings, "queue": queue}))["minors_came_of_age"]

    await swept()  # this year: they may still be 13
    assert (await viewer(app.gql, kid["token"]))["minor"] is True
    assert await public(app.gql) == []
    new_year = datetime(year + 1, 1, 1, 0, 5, tzinfo=UTC)
    clock.use(lambda: new_year)
    assert await swept() == 1
    assert await swept() == 0  # idempotent
    clock.restore()  # the jump ended the sessions: sign in again
    grown = await viewer(app.gql, await login(app.gql, "almost"))
    assert grown["minor"] is False
    assert grown["guardianConsent"]["status"] == "NOT_REQUIRED"
    assert [i["body"] for i in await public(app.gql)] == ["soon"]
    assert (await viewer(app.gql, await login(app.gql, "marked")))["minor"] is True
