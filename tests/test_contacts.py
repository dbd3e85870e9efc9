"""Verified e-mail addresses and phone numbers (issue 15), through GraphQL: a new address
waits until the code sent to it through the notification outbox comes back; codes are
short-lived, single-use and limited; nothing is ever sent to an address not verified; the
old address hears when it is replaced or removed."""

from __future__ import annotations

from datetime import timedelta

from models import clock as domain_clock
from models.accounts.account import Role
from models.notifications.campaigns import Campaign
from models.notifications.inbox import REDACTED, Channel, DeliveryStatus, Notification
from tests.consent_helpers import PASSWORD, published, register
from tests.contact_helpers import (
    CODE_SUBJECT,
    CONTACTS,
    REMOVE,
    add_and_verify_email,
    add_and_verify_phone,
    add_email,
    add_phone,
    code_of,
    codes_mailed_to,
    deliver,
    mail_to,
    mailed_code,
    verify,
)
from tests.ids import pk
from tests.notification_helpers import body_of, cancel, person, run_worker, sms_gateway

UPDATE_PROFILE = """
mutation($i: UpdateProfileInput!) {
  updateProfile(input: $i) {
    account { email phone region pendingEmail { address } pendingPhone { address } }
    errors { code field message }
  }
}
"""


def codes(payload: dict) -> list[tuple[str, str | None]]:
    return [(e["code"], e["field"]) for e in payload["errors"]]


async def contacts(gql, token: str) -> dict:
    return (await gql(CONTACTS, token=token))["data"]["viewer"]


def later(by: timedelta):
    start = domain_clock.now()
    return lambda: start + by


# --- the happy path ---------------------------------------------------------------------------


async def test_an_added_email_is_the_account_s_only_once_its_code_comes_back(gql, mailbox):
    ada = await register(gql, "ada.verifies")
    added = await add_email(gql, ada.token, "  Ada.Lovelace@Example.ORG ")
    assert added["errors"] == []
    # email-validator's normalised form: the domain lower-cased, the local part as given.
    assert added["verification"]["channel"] == "EMAIL"
    assert added["verification"]["address"] == "Ada.Lovelace@example.org"
    assert added["verification"]["attemptsLeft"] == 5
    mine = await contacts(gql, ada.token)
    assert mine["email"] is None
    assert mine["pendingEmail"]["address"] == "Ada.Lovelace@example.org"

    since = len(mailbox.received)
    sent = await deliver()
    assert sent[Channel.EMAIL] == 1
    [message] = mail_to("Ada.Lovelace@example.org", since)
    assert message["Subject"] == CODE_SUBJECT
    code = code_of(body_of(message))
    # The code is not kept once sent: only its hash stays, and the outbox row is blanked.
    [row] = await Notification.filter(account_id=pk(ada.id), kind="CONTACT_CODE")
    assert (row.status, row.body, row.address) == (
        DeliveryStatus.SENT,
        REDACTED,
        "Ada.Lovelace@example.org",
    )

    verified = await verify(gql, ada.token, "EMAIL", code)
    assert verified["errors"] == []
    assert verified["account"]["email"] == "Ada.Lovelace@example.org"
    assert verified["account"]["pendingEmail"] is None
    assert (await contacts(gql, ada.token))["email"] == "Ada.Lovelace@example.org"


async def test_a_phone_number_is_verified_by_sms_and_stored_as_e164(gql):
    body = await gql(
        """mutation($i: RegisterInput!) { register(input: $i) { token errors { code } } }""",
        {
            "i": {
                "accountName": "pia.phone",
                "password": PASSWORD,
                "nickname": "Pia",
                "region": "FR",
            }
        },
    )
    token = body["data"]["register"]["token"]
    # A national number is read in the account's region.
    added = await add_phone(gql, token, "06 12 34 56 78")
    assert added["errors"] == []
    assert added["verification"]["address"] == "+33612345678"
    assert (await contacts(gql, token))["phone"] is None
    async with sms_gateway() as gateway:
        sent = await deliver(sms_gateway_url=gateway.url)
        assert sent[Channel.SMS] == 1
        [text] = gateway.to("+33612345678")
    verified = await verify(gql, token, "PHONE", code_of(text["body"]))
    assert verified["errors"] == []
    assert verified["account"]["phone"] == "+33612345678"


async def test_a_code_that_cannot_be_sent_is_not_kept_either(gql):
    """No SMS gateway: the row fails for good, and its code goes with it."""
    uma = await register(gql, "uma.nogateway")
    assert (await add_phone(gql, uma.token, "+33612345679"))["errors"] == []
    await deliver()  # the test settings have no SMS gateway
    [row] = await Notification.filter(account_id=pk(uma.id), kind="CONTACT_CODE")
    assert (row.status, row.body) == (DeliveryStatus.FAILED, REDACTED)


# --- codes: wrong, expired, replayed, too many ------------------------------------------------


async def test_a_wrong_code_counts_and_the_right_one_still_works(gql):
    bea = await register(gql, "bea.typo")
    await add_email(gql, bea.token, "bea@mail.example")
    code = await mailed_code("bea@mail.example")
    wrong = "000000" if code != "000000" else "111111"
    refused = await verify(gql, bea.token, "EMAIL", wrong)
    assert codes(refused) == [("INVALID_CODE", "code")]
    assert refused["account"] is None
    assert (await contacts(gql, bea.token))["pendingEmail"]["attemptsLeft"] == 4
    assert (await contacts(gql, bea.token))["email"] is None
    # Spaces a user types between the digits do not matter.
    spaced = f"{code[:3]} {code[3:]}"
    assert (await verify(gql, bea.token, "EMAIL", spaced))["errors"] == []
    assert (await contacts(gql, bea.token))["email"] == "bea@mail.example"


async def test_an_expired_code_is_refused(gql, clock):
    cai = await register(gql, "cai.late")
    await add_email(gql, cai.token, "cai@mail.example")
    code = await mailed_code("cai@mail.example")
    clock.use(later(timedelta(minutes=15, seconds=1)))
    expired = await verify(gql, cai.token, "EMAIL", code)
    assert codes(expired) == [("CODE_EXPIRED", "code")]
    mine = await contacts(gql, cai.token)
    assert mine["email"] is None and mine["pendingEmail"] is None


async def test_a_code_works_once(gql):
    dan = await register(gql, "dan.replays")
    await add_email(gql, dan.token, "dan@mail.example")
    code = await mailed_code("dan@mail.example")
    assert (await verify(gql, dan.token, "EMAIL", code))["errors"] == []
    replayed = await verify(gql, dan.token, "EMAIL", code)
    assert codes(replayed) == [("NOT_FOUND", "channel")]


async def test_a_code_only_verifies_its_own_account_s_address(gql):
    """The hash is bound to account, channel and address: Eve's code means nothing to Fay."""
    eve = await register(gql, "eve.code")
    fay = await register(gql, "fay.code")
    await add_email(gql, eve.token, "eve@mail.example")
    await add_email(gql, fay.token, "fay@mail.example")
    eves = await mailed_code("eve@mail.example")
    fays = codes_mailed_to("fay@mail.example")[-1]
    if eves != fays:
        assert codes(await verify(gql, fay.token, "EMAIL", eves)) == [("INVALID_CODE", "code")]
    assert codes(await verify(gql, eve.token, "PHONE", eves)) == [("NOT_FOUND", "channel")]


async def test_too_many_wrong_codes_end_the_verification(gql):
    gus = await register(gql, "gus.guesses")
    await add_email(gql, gus.token, "gus@mail.example")
    code = await mailed_code("gus@mail.example")
    wrong = [c for c in ("000000", "111111", "222222", "333333", "444444", "555555") if c != code]
    for n in range(4):
        assert codes(await verify(gql, gus.token, "EMAIL", wrong[n])) == [("INVALID_CODE", "code")]
    fifth = await verify(gql, gus.token, "EMAIL", wrong[4])
    assert codes(fifth) == [("TOO_MANY_ATTEMPTS", "code")]
    # Dead: even the right code is refused now, and nothing waits any more.
    assert codes(await verify(gql, gus.token, "EMAIL", code)) == [("TOO_MANY_ATTEMPTS", "code")]
    mine = await contacts(gql, gus.token)
    assert mine["email"] is None and mine["pendingEmail"] is None
    # Adding it again sends a new code, which works.
    await add_and_verify_email(gql, gus.token, "gus@mail.example")
    assert (await contacts(gql, gus.token))["email"] == "gus@mail.example"


async def test_a_new_address_replaces_the_pending_one(gql):
    hal = await register(gql, "hal.changes.mind")
    await add_email(gql, hal.token, "hal-old@mail.example")
    old_code = await mailed_code("hal-old@mail.example")
    await add_email(gql, hal.token, "hal-new@mail.example")
    assert (await contacts(gql, hal.token))["pendingEmail"]["address"] == "hal-new@mail.example"
    new_code = await mailed_code("hal-new@mail.example")
    if old_code != new_code:
        assert codes(await verify(gql, hal.token, "EMAIL", old_code)) == [("INVALID_CODE", "code")]
    assert (await verify(gql, hal.token, "EMAIL", new_code))["errors"] == []
    assert (await contacts(gql, hal.token))["email"] == "hal-new@mail.example"


# --- sending limits ----------------------------------------------------------------------------


async def test_codes_sent_are_limited_per_account_and_per_address(gql, clock):
    ivy = await register(gql, "ivy.spams")
    for n in range(5):
        assert (await add_email(gql, ivy.token, f"ivy{n}@mail.example"))["errors"] == []
    limited = await add_email(gql, ivy.token, "ivy5@mail.example")
    assert codes(limited) == [("RATE_LIMITED", "email")]
    assert 3500 <= limited["errors"][0]["retryAfter"] <= 3600
    # The limit covers every channel of the account.
    assert codes(await add_phone(gql, ivy.token, "+33612345670")) == [("RATE_LIMITED", "phone")]

    # Per address, whoever asks: five accounts may not flood one inbox either.
    target = "victim@mail.example"
    for n in range(5):
        someone = await register(gql, f"sender{n}.spams")
        assert (await add_email(gql, someone.token, target))["errors"] == []
    other = await register(gql, "sender5.spams")
    assert codes(await add_email(gql, other.token, "VICTIM@mail.example")) == [
        ("RATE_LIMITED", "email")
    ]

    # An hour on, both may send again.
    clock.use(later(timedelta(hours=1, seconds=1)))
    assert (await add_email(gql, other.token, target, password=PASSWORD))["errors"] == []
    assert (await add_email(gql, ivy.token, "ivy5@mail.example", password=PASSWORD))["errors"] == []


# --- nothing goes to an address not verified ---------------------------------------------------


async def test_no_campaign_or_notice_goes_to_an_unverified_address(
    gql, settings, redis_url, mailbox
):
    officer = await register(gql, "officer.unverified", role=Role.PRIVACY_OFFICER)
    jon = await register(gql, "jon.unverified")
    await add_email(gql, jon.token, "jon@mail.example")  # never verified
    await add_phone(gql, jon.token, "+33612345671")
    await deliver()
    since = len(mailbox.received)

    await published(gql, officer.token, "v2", material=True, categories=["OTHER"])
    await run_worker(settings, redis_url, sweep_first=True)
    campaign = await Campaign.get()
    rows = await Notification.filter(campaign_id=campaign.id, account_id=pk(jon.id))
    assert [r.channel for r in rows] == [Channel.IN_APP]  # in-app only: nothing verified
    await cancel(gql, jon)  # the cancellation notice: in-app, and no e-mail to send it to
    await run_worker(settings, redis_url, sweep_first=True)
    assert mail_to("jon@mail.example", since) == []
    [notice] = await Notification.filter(
        account_id=pk(jon.id), kind="ACCOUNT_CANCELLED", channel=Channel.EMAIL
    )
    assert notice.status == DeliveryStatus.FAILED


# --- changing and removing a verified address ---------------------------------------------------


async def test_replacing_a_verified_email_tells_the_old_address(gql, mailbox):
    kim = await person(gql, "kim.moves")  # verified kim.moves@mail.example
    await add_email(gql, kim.token, "kim@new.example")
    assert (await contacts(gql, kim.token))["email"] == "kim.moves@mail.example"  # until verified
    code = await mailed_code("kim@new.example")
    since = len(mailbox.received)
    assert (await verify(gql, kim.token, "EMAIL", code))["errors"] == []
    await deliver()
    [told] = mail_to("kim.moves@mail.example", since)
    assert told["Subject"] == "Your Accord e-mail address was changed"
    assert "kim.moves@mail.example" in body_of(told)
    assert mail_to("kim@new.example", since) == []
    inbox = await Notification.filter(
        account_id=pk(kim.id), kind="CONTACT_CHANGED", channel=Channel.IN_APP
    )
    assert len(inbox) == 1


async def test_removing_a_verified_phone_tells_it_by_sms(gql):
    lea = await person(gql, "lea.removes", email=False, phone=True)
    body = await gql(REMOVE, {"i": {"channel": "PHONE"}}, token=lea.token)
    payload = body["data"]["removeContact"]
    assert payload["errors"] == [] and payload["account"]["phone"] is None
    async with sms_gateway() as gateway:
        await deliver(sms_gateway_url=gateway.url)
        [text] = gateway.to(lea.phone)
    assert "was removed" in text["body"]


async def test_changing_a_contact_needs_recent_authentication(gql, clock):
    max_ = await person(gql, "max.stale")
    clock.use(later(timedelta(minutes=11)))  # past recent_auth_window
    stale = await add_email(gql, max_.token, "max@new.example")
    assert codes(stale) == [("REAUTHENTICATION_REQUIRED", None)]
    body = await gql(REMOVE, {"i": {"channel": "EMAIL"}}, token=max_.token)
    assert codes(body["data"]["removeContact"]) == [("REAUTHENTICATION_REQUIRED", None)]
    wrong = await add_email(gql, max_.token, "max@new.example", password="not the password")
    assert codes(wrong) == [("INVALID_CREDENTIALS", "password")]
    assert (await add_email(gql, max_.token, "max@new.example", password=PASSWORD))["errors"] == []
    body = await gql(REMOVE, {"i": {"channel": "EMAIL", "password": PASSWORD}}, token=max_.token)
    assert body["data"]["removeContact"]["errors"] == []
    mine = await contacts(gql, max_.token)
    assert mine["email"] is None and mine["pendingEmail"] is None  # both went


# --- updateProfile -----------------------------------------------------------------------------


async def test_update_profile_starts_a_verification_and_null_removes(gql):
    ned = await person(gql, "ned.profile")
    body = await gql(UPDATE_PROFILE, {"i": {"email": "ned@new.example"}}, token=ned.token)
    payload = body["data"]["updateProfile"]
    assert payload["errors"] == []
    assert payload["account"]["email"] == "ned.profile@mail.example"  # unchanged until verified
    assert payload["account"]["pendingEmail"] == {"address": "ned@new.example"}
    # The same address again (a form sent twice) sends no second code.
    again = await gql(UPDATE_PROFILE, {"i": {"email": "NED@new.example"}}, token=ned.token)
    assert again["data"]["updateProfile"]["errors"] == []
    await deliver()
    assert len(codes_mailed_to("ned@new.example")) == 1
    # The verified address itself changes nothing.
    same = await gql(UPDATE_PROFILE, {"i": {"email": "ned.profile@mail.example"}}, token=ned.token)
    assert same["data"]["updateProfile"]["errors"] == []

    removed = await gql(UPDATE_PROFILE, {"i": {"email": None}}, token=ned.token)
    account = removed["data"]["updateProfile"]["account"]
    assert account["email"] is None and account["pendingEmail"] is None


async def test_update_profile_reads_a_national_number_in_the_new_region(gql):
    oda = await register(gql, "oda.region")
    body = await gql(
        UPDATE_PROFILE, {"i": {"region": "gb", "phone": "07400 123456"}}, token=oda.token
    )
    payload = body["data"]["updateProfile"]
    assert payload["errors"] == []
    assert payload["account"]["region"] == "GB"
    assert payload["account"]["pendingPhone"] == {"address": "+447400123456"}


# --- invalid addresses -------------------------------------------------------------------------


async def test_invalid_addresses_are_typed_errors_naming_the_field(gql):
    pat = await register(gql, "pat.typos")
    for bad in (
        "not-an-address",
        "pat@",
        "pat@localhost",
        "pat@@mail.example",
        "a" * 250 + "@x.io",
    ):
        assert codes(await add_email(gql, pat.token, bad)) == [("INVALID", "email")], bad
    for bad in ("12345", "+1 555 0100", "+33 6", "0612345678", "call me"):
        assert codes(await add_phone(gql, pat.token, bad)) == [("INVALID", "phone")], bad
    body = await gql(
        UPDATE_PROFILE, {"i": {"nickname": "Pat", "email": "nope", "phone": "1"}}, token=pat.token
    )
    assert sorted(codes(body["data"]["updateProfile"]))[0] in {
        ("INVALID", "email"),
        ("INVALID", "phone"),
    }
    mine = await contacts(gql, pat.token)
    assert mine["pendingEmail"] is None and mine["pendingPhone"] is None
    assert await Notification.filter(account_id=pk(pat.id)).count() == 0
    # Adding the address you already have is refused, not re-sent.
    await add_and_verify_email(gql, pat.token, "pat@mail.example")
    assert codes(await add_email(gql, pat.token, "PAT@mail.example")) == [("INVALID", "email")]


async def test_a_verified_phone_through_the_helper(gql):
    """The helper other tests use: the number ends verified, the code by SMS."""
    quin = await register(gql, "quin.helper")
    await add_and_verify_phone(gql, quin.token, "+33612345672")
    assert (await contacts(gql, quin.token))["phone"] == "+33612345672"
