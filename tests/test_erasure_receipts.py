"""The signed erasure receipt (issue 17): issued once when a deletion completes, e-mailed to
the verified address before it is erased, fetched afterwards with the request id and the
secret handed out at cancellation, verifiable against /.well-known/jwks.json, and naming
no personal data of the account."""

from __future__ import annotations

import json
from typing import Any

from joserfc import jwt
from joserfc.jwk import KeySet

from models.notifications.inbox import Notification, NotificationKind
from models.personal.feedback import Feedback
from models.personal.support import SupportThread
from models.rights.data_map import DATA_MAP, Erasure
from models.rights.deletion import run_deletion
from models.rights.erasure_receipts import Disposition, outcomes
from models.rights.requests import DeletionRequest, DeletionStatus
from tests.contact_helpers import add_and_verify_email
from tests.data_request_helpers import file, mailed_code
from tests.ids import pk
from tests.test_deletion import (
    PASSWORD,
    Person,
    fill,
    make_due,
    needles_of,
    run_worker,
)

RECEIPT = """query($id: ID!, $secret: String!) { erasureReceipt(requestId: $id, secret: $secret) {
  requestId token cancelledAt completedAt keyDestroyedAt
  erased { kind note } anonymised { kind note } kept { kind note } } }"""


async def cancel(person: Person) -> tuple[str, str]:
    data = await person(
        """mutation($i: CancelAccountInput!) { cancelAccount(input: $i) {
        deletionDueAt erasureReceiptId erasureReceiptSecret errors { code } } }""",
        {"i": {"password": PASSWORD, "reason": "leaving"}},
    )
    person.token = None
    payload = data["cancelAccount"]
    return payload["erasureReceiptId"], payload["erasureReceiptSecret"]


async def receipt(app, request_id: str, secret: str) -> dict[str, Any] | None:
    body = await app.gql(RECEIPT, {"id": request_id, "secret": secret})
    assert "errors" not in body, body
    return body["data"]["erasureReceipt"]


def expected_kinds(settings) -> dict[str, set[str]]:
    """What the map says, read by hand: the test's own reading, not the code's."""
    kinds: dict[str, set[str]] = {"erased": set(), "anonymised": set(), "kept": set()}
    for entry in DATA_MAP:
        if entry.model is Feedback:
            anonymise = settings.public_feedback_on_deletion == "anonymize"
            kinds["anonymised" if anonymise else "erased"].add(entry.kind)
        elif entry.model is SupportThread:
            kinds["anonymised" if settings.retain_support_threads else "erased"].add(entry.kind)
        elif entry.erasure == Erasure.DELETE:
            kinds["erased"].add(entry.kind)
        elif entry.erasure == Erasure.ANONYMISE:
            kinds["anonymised"].add(entry.kind)
        else:
            kinds["kept"].add(entry.kind)
    return kinds


async def receipt_mails(mailbox, address: str, request_id: str) -> list[Any]:
    """The receipts of this request mailed to ``address`` (the mailbox is the session's)."""
    return [
        m
        for m in mailbox.received
        if address in m["X-Envelope-To"]
        and "erasure receipt" in m["Subject"]
        and request_id in m.get_payload(decode=True).decode()
    ]


async def test_a_completed_deletion_hands_over_one_signed_receipt_naming_no_one(
    world,
    settings,
    redis_url,
    mailbox,
):
    app, tokens, queue = world
    alice = Person(app, "alice.deleteme", "198.51.100.23", "AliceBrowser/7.1")
    alice_data = await fill(app, alice, "alice", **tokens)
    assert alice.id is not None
    request_id, secret = await cancel(alice)
    assert request_id and secret and str(alice.id) != request_id
    row = await DeletionRequest.get(account_id=alice.id)
    assert request_id not in (str(row.id), str(alice.id))
    assert row.receipt_secret_hash and secret not in row.receipt_secret_hash
    # Pending: null, as for a wrong secret.
    assert await receipt(app, request_id, secret) is None

    await make_due(alice.id)
    worker = await run_worker(settings, redis_url, queue)
    assert worker.jobs_failed == 0
    assert (await DeletionRequest.get(account_id=alice.id)).status == DeletionStatus.DONE

    got = await receipt(app, request_id, secret)
    assert got is not None and got["requestId"] == request_id
    assert await receipt(app, request_id, secret + "x") is None
    assert await receipt(app, "00000000-0000-4000-8000-000000000000", secret) is None

    # Verified against the published key, as anyone holding it can.
    jwks = (await app.http.get("/.well-known/jwks.json")).json()
    token = jwt.decode(got["token"], KeySet.import_key_set(jwks), algorithms=["ES256"])
    claims = token.claims
    assert token.header["kid"] == jwks["keys"][0]["kid"]
    assert claims["requestId"] == claims["jti"] == request_id
    # The data keys went first, before anything else was removed.
    assert claims["cancelledAt"] <= claims["keyDestroyedAt"] <= claims["completedAt"]
    assert got["keyDestroyedAt"] is not None
    expected = expected_kinds(settings)
    for group in ("erased", "anonymised", "kept"):
        assert {item["kind"] for item in claims[group]} == expected[group], group
        assert {item["kind"] for item in got[group]} == expected[group], group
    assert {"ConsentEvent", "ConsentChain", "Account"} <= expected["kept"]
    assert all(item["why"] for item in claims["kept"])
    assert any("pseudonym" in item["why"] for item in claims["kept"])

    # No personal value of hers anywhere: the signed claims, the answer, the header.
    needles = [n.lower() for n in needles_of(alice, alice_data)]
    needles += ["alice", str(alice_data["device"]).lower()]
    for text in (json.dumps(claims), json.dumps(token.header), json.dumps(got)):
        assert [n for n in needles if n in text.lower()] == []
    assert f'"{alice.id}"' not in json.dumps(claims)

    # E-mailed to her verified address, which is erased now, and the outbox row is gone.
    [mail] = await receipt_mails(mailbox, "alice.mail@example.org", request_id)
    assert got["token"] in mail.get_payload(decode=True).decode()
    assert not await Notification.filter(kind=NotificationKind.ERASURE_RECEIPT).exists()

    # A repeated deletion and another sweep: still one receipt, one e-mail.
    first = (await DeletionRequest.get(account_id=alice.id)).receipt_token
    from models.personal.storage import LocalStorage

    storage = LocalStorage(settings.data_dir / "files")
    assert await run_deletion(alice.id, settings, storage) == "already-done"
    assert (await run_worker(settings, redis_url, queue)).jobs_failed == 0
    assert (await DeletionRequest.get(account_id=alice.id)).receipt_token == first
    assert len(await receipt_mails(mailbox, "alice.mail@example.org", request_id)) == 1


async def test_a_resumed_deletion_issues_one_receipt(
    world,
    settings,
    redis_url,
    mailbox,
    monkeypatch,
):
    app, tokens, queue = world
    erin = Person(app, "erin.resumes", "198.51.100.70", "ErinBrowser")
    await fill(app, erin, "erin", **tokens)
    assert erin.id is not None
    request_id, secret = await cancel(erin)
    await make_due(erin.id)
    import models.rights.deletion as deletion

    real = deletion.DataRequest.filter
    calls = {"n": 0}

    def flaky(*args, **kwargs):
        # The tombstone step fails once, after signing, inside its transaction.
        if kwargs.get("kind") == "ACCOUNT_DELETION" and calls["n"] == 0:
            calls["n"] += 1
            raise RuntimeError("database went away")
        return real(*args, **kwargs)

    monkeypatch.setattr(deletion.DataRequest, "filter", flaky)
    first = await run_worker(settings, redis_url, queue)
    assert first.jobs_failed >= 1 and calls["n"] == 1
    failed = await DeletionRequest.get(account_id=erin.id)
    assert failed.status == DeletionStatus.FAILED and failed.step == "consent"
    # Rolled back with the erasure it belongs to: no receipt, no e-mail owed.
    assert failed.receipt_token is None and failed.receipt_issued_at is None
    assert not await Notification.filter(kind=NotificationKind.ERASURE_RECEIPT).exists()
    assert await receipt(app, request_id, secret) is None

    await DeletionRequest.filter(account_id=erin.id).update(next_attempt_at=failed.requested_at)
    second = await run_worker(settings, redis_url, queue)
    assert second.jobs_failed == 0
    got = await receipt(app, request_id, secret)
    assert got is not None
    assert len(await receipt_mails(mailbox, "erin.mail@example.org", request_id)) == 1


async def test_a_deletion_asked_for_signed_out_hands_over_its_receipt_too(
    world,
    settings,
    redis_url,
    mailbox,
):
    """The code proves the address on file; verifyDataRequest hands over the id and the
    secret as cancelAccount does, and the receipt follows the deletion."""
    app, _, queue = world
    body = await app.gql(
        """mutation($i: RegisterInput!) { register(input: $i) { token account { id } } }""",
        {"i": {"accountName": "ivy.signedout", "password": PASSWORD, "nickname": "Ivy"}},
    )
    token = body["data"]["register"]["token"]
    account_id = pk(body["data"]["register"]["account"]["id"])
    await add_and_verify_email(app.gql, token, "ivy@mail.example")
    filed = await file(
        app.gql, kind="ACCOUNT_DELETION", accountName="ivy.signedout", email="ivy@mail.example"
    )
    answer = await app.gql(
        """mutation($i: VerifyDataRequestInput!) { verifyDataRequest(input: $i) {
        request { status } erasureReceiptId erasureReceiptSecret errors { code } } }""",
        {"i": {"handle": filed["handle"], "code": await mailed_code("ivy@mail.example")}},
    )
    verified = answer["data"]["verifyDataRequest"]
    assert verified["errors"] == [] and verified["request"]["status"] == "IN_PROGRESS"
    request_id, secret = verified["erasureReceiptId"], verified["erasureReceiptSecret"]
    assert request_id and secret
    assert await receipt(app, request_id, secret) is None
    await make_due(account_id)
    assert (await run_worker(settings, redis_url, queue)).jobs_failed == 0
    got = await receipt(app, request_id, secret)
    assert got is not None and got["requestId"] == request_id
    # Nothing of hers (a bare "ivy" could be in the random request id by chance).
    text = json.dumps(got).lower()
    assert "ivy.signedout" not in text and "ivy@mail.example" not in text
    assert '"ivy"' not in text
    assert len(await receipt_mails(mailbox, "ivy@mail.example", request_id)) == 1


def test_the_settings_in_force_move_kinds_between_erased_and_anonymised(settings):
    """PUBLIC feedback and support threads are what the settings choose: the receipt says
    what this deployment did, not what the defaults would."""

    def grouped(given) -> dict[str, Disposition]:
        return {outcome.kind: outcome.disposition for outcome in outcomes(given)}

    default = grouped(settings)
    assert default["Feedback"] == Disposition.ANONYMISED
    assert default["SupportThread"] == Disposition.ERASED
    changed = grouped(
        settings.model_copy(
            update={"public_feedback_on_deletion": "delete", "retain_support_threads": True}
        )
    )
    assert changed["Feedback"] == Disposition.ERASED
    assert changed["SupportThread"] == Disposition.ANONYMISED
    assert changed["SupportMessage"] == Disposition.ERASED
    retained = settings.model_copy(update={"retain_support_threads": True})
    erased = {kind for kind, d in grouped(retained).items() if d == Disposition.ERASED}
    assert erased == expected_kinds(retained)["erased"]
