"""A data request filed by a user who cannot sign in (issue 16): the identity is proven by a
one-time code sent to the address on file, and nothing tells a stranger whether an account
exists. Through GraphQL, signed out, as a lost-password user's app would."""

from __future__ import annotations

from datetime import timedelta

from models import clock as domain_clock
from models.accounts.account import Account, AccountStatus
from models.personal.retention import clean_up
from models.rights.requests import (
    DataRequest,
    DataRequestStatus,
    DeletionRequest,
    DeletionStatus,
    IdentityCheck,
)
from tests.conftest import MAILBOX, GraphQL
from tests.consent_helpers import PASSWORD
from tests.contact_helpers import add_and_verify_email, code_of, deliver
from tests.data_request_helpers import (
    MINE,
    codes_mailed_to,
    errors,
    file,
    iso,
    mailed_code,
    verify,
)
from tests.ids import pk
from tests.notification_helpers import person, sms_gateway

REGISTER = """
mutation($i: RegisterInput!) { register(input: $i) { token errors { code field } } }
"""


def frozen(clock) -> None:
    """Time stands still: answers that carry a time compare equal."""
    moment = domain_clock.now()
    clock.use(lambda: moment)


def without_handle(payload: dict) -> dict:
    assert payload["handle"], payload
    return {key: value for key, value in payload.items() if key != "handle"}


async def test_unknown_and_known_accounts_answer_alike(gql, clock, mailbox):
    ada = await person(gql, "ada.forgot", phone=True)
    await person(gql, "bob.bystander")
    frozen(clock)
    sent_before = len(MAILBOX.received)

    known = await file(gql, accountName="ada.forgot", email=ada.email, note="all of it")
    unknown_name = await file(gql, accountName="nobody.here", email=ada.email)
    wrong_address = await file(gql, accountName="ada.forgot", email="not-ada@mail.example")
    someone_elses = await file(gql, accountName="ada.forgot", email="bob.bystander@mail.example")
    wrong_channel = await file(gql, accountName="ada.forgot", phone="+33612345678")
    answers = [known, unknown_name, wrong_address, someone_elses, wrong_channel]

    # The whole answer but the handle is the same: same fields, same values, no error.
    assert known["errors"] == []
    for answer in answers[1:]:
        assert without_handle(answer) == without_handle(known)
    assert len({answer["handle"] for answer in answers}) == len(answers)
    assert iso(known["expiresAt"]) == domain_clock.now() + timedelta(minutes=15)

    # Only the matching request belongs to Ada; the others name no account. A code went to
    # her address on file, and nothing anywhere else.
    clock.restore()
    mine = (await gql(MINE, token=ada.token))["data"]["viewer"]["dataRequests"]["edges"]
    assert [(e["node"]["kind"], e["node"]["status"]) for e in mine] == [("ACCESS", "RECEIVED")]
    assert await DataRequest.filter(account_id=None).count() == 4
    assert (await DataRequest.get(account_id=pk(ada.id))).details == {"note": "all of it"}
    await deliver()
    arrived = MAILBOX.received[sent_before:]
    assert [m["X-Envelope-To"] for m in arrived] == [ada.email]
    assert len(codes_mailed_to(ada.email)) == 1

    # Wrong codes answer alike too, whichever request the handle names.
    wrong = [await verify(gql, answer["handle"], "000000") for answer in answers]
    assert all(answer == wrong[0] for answer in wrong), wrong
    assert errors(wrong[0]) == [("INVALID_CODE", "code")]


async def test_the_code_verifies_the_request_and_starts_the_clock(gql, mailbox, settings):
    cy = await person(gql, "cy.lost")
    filed = await file(gql, kind="ACCESS", accountName="Cy.Lost", email=cy.email.upper())
    assert filed["errors"] == []

    verified = await verify(gql, filed["handle"], " " + await mailed_code(cy.email) + " ")
    assert verified["errors"] == []
    request = verified["request"]
    assert request["kind"] == "ACCESS" and request["status"] == "VERIFIED"
    assert request["accountId"] == cy.id and request["urgency"] == "ON_TIME"
    assert iso(request["dueAt"]) - iso(request["verifiedAt"]) == timedelta(days=15)
    assert settings.data_request_days == 15
    mine = (await gql(MINE, token=cy.token))["data"]["viewer"]["dataRequests"]["edges"]
    assert [e["node"]["status"] for e in mine] == ["VERIFIED"]
    assert mine[0]["node"]["dueAt"] == request["dueAt"]

    # The code worked once: a replay is told so, and nothing moves.
    again = await verify(gql, filed["handle"], codes_mailed_to(cy.email)[-1])
    assert errors(again) == [("CODE_USED", "code")] and again["request"] is None
    assert (await DataRequest.get(account_id=pk(cy.id))).verified_at == iso(request["verifiedAt"])


async def test_a_region_s_law_sets_the_period(app_with, mailbox):
    async with app_with(data_request_days_by_region={"DE": 30, "US-CA": 45}) as http:
        gql = GraphQL(http)
        body = await gql(
            REGISTER,
            {
                "i": {
                    "accountName": "dora.berlin",
                    "password": PASSWORD,
                    "nickname": "Dora",
                    "region": "DE",
                }
            },
        )
        token = body["data"]["register"]["token"]
        await add_and_verify_email(gql, token, "dora@mail.example")
        filed = await file(gql, accountName="dora.berlin", email="dora@mail.example")
        verified = await verify(gql, filed["handle"], await mailed_code("dora@mail.example"))
    request = verified["request"]
    assert iso(request["dueAt"]) - iso(request["verifiedAt"]) == timedelta(days=30)


async def test_a_phone_on_file_gets_the_code_by_sms_and_a_deletion_starts_its_grace(gql, settings):
    """Promise 15 (cancel -> delete) for someone who cannot sign in: the code proves the
    phone on file, and the account's grace period starts as cancelAccount's would."""
    eve = await person(gql, "eve.phone", email=False, phone=True)
    filed = await file(gql, kind="ACCOUNT_DELETION", accountName="eve.phone", phone=eve.phone)
    async with sms_gateway() as gateway:
        await deliver(sms_gateway_url=gateway.url)
        texts = gateway.to(eve.phone)
    assert len(texts) == 1
    verified = await verify(gql, filed["handle"], code_of(texts[0]["body"]))
    assert verified["errors"] == []
    request = verified["request"]
    assert request["kind"] == "ACCOUNT_DELETION" and request["status"] == "IN_PROGRESS"
    account = await Account.get(id=pk(eve.id))
    assert account.status == AccountStatus.PENDING_DELETION
    deletion = await DeletionRequest.get(account_id=pk(eve.id))
    assert deletion.status == DeletionStatus.PENDING
    # One request on the list, due a period after the grace ends; the session is over.
    [row] = await DataRequest.filter(account_id=pk(eve.id))
    assert row.due_at == deletion.due_at + timedelta(days=settings.data_request_days)
    assert (await gql("{ viewer { id } }", token=eve.token))["data"]["viewer"] is None


async def test_correcting_or_erasing_some_rows_needs_signing_in(gql):
    """Those name rows only a signed-in user sees (requestCorrection, requestErasure)."""
    ivy = await person(gql, "ivy.out")
    for kind in ("CORRECTION", "ERASURE"):
        refused = await file(gql, kind=kind, accountName="ivy.out", email=ivy.email)
        assert errors(refused) == [("INVALID", "kind")] and refused["handle"] is None
    assert not await DataRequest.filter(account_id=pk(ivy.id)).exists()


async def test_wrong_codes_count_and_the_fifth_locks(gql, mailbox, settings):
    fay = await person(gql, "fay.guessed")
    filed = await file(gql, accountName="fay.guessed", email=fay.email)
    code = await mailed_code(fay.email)
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    for left in (4, 3, 2, 1):
        answer = await verify(gql, filed["handle"], wrong)
        assert errors(answer) == [("INVALID_CODE", "code")]
        assert answer["errors"][0]["message"].endswith(f"{left} attempt{'s' * (left != 1)} left")
    assert errors(await verify(gql, filed["handle"], wrong)) == [("TOO_MANY_ATTEMPTS", "code")]
    # Locked: even the right code no longer verifies it.
    assert errors(await verify(gql, filed["handle"], code)) == [("TOO_MANY_ATTEMPTS", "code")]
    assert (await DataRequest.get(account_id=pk(fay.id))).status == DataRequestStatus.RECEIVED
    assert settings.contact_code_max_attempts == 5


async def test_an_expired_code_and_an_unknown_handle(gql, clock, mailbox, settings):
    gus = await person(gql, "gus.late")
    filed = await file(gql, accountName="gus.late", email=gus.email)
    code = await mailed_code(gus.email)
    later = domain_clock.now() + settings.contact_code_ttl + timedelta(seconds=1)
    clock.use(lambda: later)
    assert errors(await verify(gql, filed["handle"], code)) == [("CODE_EXPIRED", "code")]
    clock.restore()

    assert errors(await verify(gql, "no-such-handle", code)) == [("NOT_FOUND", "handle")]
    assert errors(await verify(gql, filed["handle"][:-1], code)) == [("NOT_FOUND", "handle")]


async def test_codes_are_limited_per_account_name_and_per_address_alike(gql, mailbox, settings):
    await person(gql, "hal.flooded")
    limit = settings.contact_codes_per_hour
    # Per account name: whether it exists or not, the same number of answers, then the same
    # refusal.
    for name in ("hal.flooded", "nobody.flooded"):
        for i in range(limit):
            answer = await file(gql, accountName=name, email=f"try{i}@mail.example")
            assert answer["errors"] == [], (name, i)
        refused = await file(gql, accountName=name, email="one.more@mail.example")
        assert errors(refused) == [("RATE_LIMITED", "email")]
        assert 3500 <= refused["errors"][0]["retryAfter"] <= 3600
        assert refused["handle"] is None and refused["expiresAt"] is None
    # Per address, whatever name is given.
    for i in range(limit):
        assert (await file(gql, accountName=f"name{i}.x", email="victim@mail.example"))[
            "errors"
        ] == []
    refused = await file(gql, accountName="name9.x", email="Victim@Mail.example")
    assert errors(refused) == [("RATE_LIMITED", "email")]


async def test_what_the_input_must_say(gql):
    assert errors(await file(gql, accountName="ivy.x")) == [("REQUIRED", "email")]
    both = await file(gql, accountName="ivy.x", email="ivy@mail.example", phone="+33612345678")
    assert errors(both) == [("INVALID", "phone")]
    assert errors(await file(gql, accountName="?", email="ivy@mail.example")) == [
        ("INVALID", "accountName")
    ]
    assert errors(await file(gql, accountName="ivy.x", email="not an address")) == [
        ("INVALID", "email")
    ]
    assert errors(await file(gql, accountName="ivy.x", phone="0612345678")) == [
        ("INVALID", "phone")
    ]
    assert errors(await file(gql, accountName="ivy.x", email="i@mail.example", note="x" * 2001))
    assert await DataRequest.all().count() == 0


async def test_unverified_requests_and_spent_checks_are_purged(gql, clock, mailbox, settings):
    jo = await person(gql, "jo.purged")
    kept = await file(gql, accountName="jo.purged", email=jo.email)
    assert (await verify(gql, kept["handle"], await mailed_code(jo.email)))["errors"] == []
    await file(gql, accountName="jo.purged", email=jo.email)  # never verified
    await file(gql, accountName="nobody.purged", email=jo.email)
    assert await IdentityCheck.all().count() == 3

    # Within the hour after expiry the limits still count them: nothing goes.
    soon = domain_clock.now() + settings.contact_code_ttl + timedelta(minutes=30)
    clock.use(lambda: soon)
    assert (await clean_up(settings))["identity_checks"] == 0
    later = soon + timedelta(hours=1)
    clock.use(lambda: later)
    # The two requests never verified and their checks, then the verified one's check.
    assert (await clean_up(settings))["identity_checks"] == 5
    assert await IdentityCheck.all().count() == 0
    [left] = await DataRequest.all()
    assert left.status == DataRequestStatus.VERIFIED and left.account_id == pk(jo.id)
