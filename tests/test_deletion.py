"""Cancellation, the grace period, and deletion by a real arq worker (issue 6).

The central test fills one account with every kind of personal data through the API,
deletes it through the worker, then scans every table of every model (found by
introspection, so a model added later is covered) and the file storage for anything that
came from that account. A second account's data must be untouched.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import json
from datetime import datetime, timedelta
from typing import Any

import pyotp
from arq.constants import in_progress_key_prefix
from arq.worker import Worker
from PIL import Image
from tortoise import Tortoise

from models.accounts.account import Account, AccountStatus, Role, account_name_index
from models.accounts.contacts import ContactVerification
from models.accounts.passkeys import Passkey
from models.accounts.recovery_codes import RecoveryCode
from models.accounts.sign_in_challenges import SignInChallenge
from models.accounts.sign_ins import KnownSignIn, SignInNotice
from models.accounts.totp import TotpCredential
from models.clock import now
from models.consent.decisions import link_device
from models.consent.ledger import ConsentEvent, DeviceLink, Source, verify_chain
from models.personal.feedback import Feedback
from models.personal.pictures import Picture
from models.queue import Queue
from models.rights.data_map import DATA_MAP, NO_PERSONAL_DATA, Erasure
from models.rights.deletion import run_deletion
from models.rights.export_files import ExportFiles
from models.rights.exports import DataExport
from models.rights.requests import (
    DataRequest,
    DataRequestKind,
    DataRequestStatus,
    DeletionRequest,
    DeletionStatus,
)
from tests.contact_helpers import add_and_verify_email, add_and_verify_phone
from tests.device_ids import device_id
from tests.ids import gid, pk
from tests.oidc_provider import new_subject
from tests.test_worker import burst_worker
from tests.worlds import PASSWORD, staff
from workers.settings import worker_settings
from workers.sweeper import sweep


def png_bytes(color: tuple[int, int, int] = (200, 30, 30)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (8, 8), color).save(out, format="PNG")
    return out.getvalue()


class Person:
    """One user acting through the API from their own address and browser."""

    def __init__(self, app, name: str, address: str, agent: str) -> None:
        self.app, self.name = app, name
        self.headers = {"x-forwarded-for": address, "user-agent": agent}
        self.token: str | None = None
        self.id: int | None = None

    async def __call__(self, query: str, variables: dict | None = None) -> dict[str, Any]:
        headers = dict(self.headers)
        if self.token:
            headers["authorization"] = f"Bearer {self.token}"
        body = await self.app.gql(query, variables or {}, headers=headers)
        data = body["data"]
        for payload in data.values():
            if isinstance(payload, dict) and "errors" in payload:
                assert payload["errors"] == [], payload
        return data

    async def upload_png(self) -> str:
        operations = {
            "query": "mutation($f: Upload!) { uploadPicture(input: {file: $f}) "
            "{ picture { id url } errors { code } } }",
            "variables": {"f": None},
        }
        response = await self.app.http.post(
            "/graphql",
            data={"operations": json.dumps(operations), "map": json.dumps({"0": ["variables.f"]})},
            files={"0": (f"{self.name}-holiday.png", png_bytes(), "image/png")},
            headers={**self.headers, "authorization": f"Bearer {self.token}"},
        )
        result = response.json()["data"]["uploadPicture"]
        assert result["errors"] == [], result
        return result["picture"]["id"]


async def fill(app, person: Person, tag: str, *, officer: str, support: str, operator: str):
    """Every kind of personal data Accord stores, created through the API."""
    data = await person(
        """mutation($i: RegisterInput!) { register(input: $i) { token account { id } errors { code } } }""",
        {
            "i": {
                "accountName": person.name,
                "password": PASSWORD,
                "nickname": f"{tag}Nick",
                "avatarUrl": f"https://img.example/{tag}-avatar.png",
                "gender": "FEMALE",
                "region": "FR",
                "signature": f"{tag} signature text",
            }
        },
    )
    person.token = data["register"]["token"]
    person.id = pk(data["register"]["account"]["id"])
    await add_and_verify_email(app.gql, person.token, f"{tag}.mail@example.org")
    await add_and_verify_phone(app.gql, person.token, "+3361234" + str(person.id).zfill(4))
    # A second factor: the authenticator's secret and the recovery codes are about her too.
    enrolled = await person("mutation { enrollTotp { secret errors { code } } }")
    totp_secret = enrolled["enrollTotp"]["secret"]
    confirmed = await person(
        """mutation($i: ConfirmTotpInput!) { confirmTotp(input: $i) { recoveryCodes errors { code } } }""",
        {"i": {"code": pyotp.TOTP(totp_secret).now()}},
    )
    assert len(confirmed["confirmTotp"]["recoveryCodes"]) == 10
    device = device_id(f"{tag}-device")
    await person(
        """mutation($i: BindProviderInput!) { bindProvider(input: $i) { errors { code } } }""",
        {
            "i": {
                "provider": "acme",
                "idToken": app.acme.id_token(
                    f"{tag}-sub-{new_subject()}",
                    name=f"{tag}IdPName",
                    picture=f"https://idp.example/{tag}-pic.png",
                ),
            }
        },
    )
    await person(
        """mutation($i: RegisterDeviceInput!) { registerDevice(input: $i) { errors { code } } }""",
        {
            "i": {
                "deviceId": device,
                "platform": "android",
                "model": f"{tag}Phone X",
                "osVersion": "14",
                "appVersion": "2.0",
            }
        },
    )
    await person(
        """mutation($i: SetConsentsInput!) { setConsents(input: $i) { errors { code } } }""",
        {
            "i": {
                "policyVersion": "v1",
                "deviceId": device,
                "source": "ANDROID",
                "decisions": [
                    {"purpose": "activity_log", "granted": True},
                    {"purpose": "analytics", "granted": False},
                ],
            }
        },
    )
    await person("""mutation { acceptPolicy(input: {policyVersion: "v1"}) { errors { code } } }""")
    recorded = await person(
        """mutation($i: RecordSearchInput!) { recordSearch(input: $i) { recorded errors { code } } }""",
        {"i": {"keywords": f"{tag} secret search", "deviceId": device}},
    )
    assert recorded["recordSearch"]["recorded"] is True
    await person(
        """mutation($i: RecordClickInput!) { recordClick(input: $i) { recorded errors { code } } }""",
        {"i": {"link": f"https://shop.example/{tag}-clicked", "deviceId": device}},
    )
    await person(
        """mutation($i: AddFavoriteInput!) { addFavorite(input: $i) { errors { code } } }""",
        {"i": {"itemType": "product", "itemId": f"{tag}-fav-item", "note": f"{tag} note"}},
    )
    public_picture, private_picture = await person.upload_png(), await person.upload_png()
    loose_picture = await person.upload_png()
    for visibility, picture, body in (
        ("PUBLIC", public_picture, f"{tag} public body"),
        ("PRIVATE", private_picture, f"{tag} private body"),
    ):
        await person(
            """mutation($i: SubmitFeedbackInput!) { submitFeedback(input: $i) { errors { code } } }""",
            {
                "i": {
                    "kind": "COMMENT",
                    "subject": "product-42",
                    "body": body,
                    "visibility": visibility,
                    "pictureIds": [picture],
                }
            },
        )
    await person(
        """mutation($i: ReportErrorInput!) { reportError(input: $i) { errors { code } } }""",
        {
            "i": {
                "message": f"{tag} error message",
                "stack": f"{tag} stack",
                "deviceConfig": {"owner": f"{tag} config"},
                "appVersion": "2.0",
                "deviceId": device,
            }
        },
    )
    thread = await person(
        """mutation($i: ContactSupportInput!) { contactSupport(input: $i) { thread { id } errors { code } } }""",
        {
            "i": {
                "subject": f"{tag} support subject",
                "message": f"{tag} support message",
                "orderRef": f"{tag.upper()}-ORDER-1",
            }
        },
    )
    thread_id = thread["contactSupport"]["thread"]["id"]
    reply = await app.gql(
        """mutation($i: StaffReplyInput!) { staffReply(input: $i) { errors { code } } }""",
        {"i": {"threadId": thread_id, "message": f"dear {tag} customer"}},
        token=support,
    )
    assert reply["data"]["staffReply"]["errors"] == []
    read = await app.gql(
        "query($id: ID!) { supportThread(id: $id) { id } }", {"id": thread_id}, token=support
    )
    assert read["data"]["supportThread"]["id"] == thread_id
    questionnaire = await app.gql(
        """mutation { defineQuestionnaire(input: {title: "Q", questions: [{id: "q1", text: "Why?"}]})
        { questionnaire { id } errors { code } } }""",
        token=operator,
    )
    await person(
        """mutation($i: AnswerQuestionnaireInput!) { answerQuestionnaire(input: $i) { errors { code } } }""",
        {
            "i": {
                "questionnaireId": questionnaire["data"]["defineQuestionnaire"]["questionnaire"][
                    "id"
                ],
                "answers": {"q1": f"{tag} answer"},
            }
        },
    )
    # An anonymous device's history, later linked to the account.
    anonymous = device_id(f"{tag}-anon")
    await app.gql(
        """mutation($i: SetConsentsInput!) { setConsents(input: $i) { errors { code } } }""",
        {
            "i": {
                "policyVersion": "v1",
                "deviceId": anonymous,
                "decisions": [{"purpose": "personalization", "granted": True}],
            }
        },
        headers=person.headers,
    )
    assert await link_device(anonymous, await Account.get(id=person.id), source=Source.WEB)
    return {
        "device": device,
        "anonymous": anonymous,
        "pictures": [public_picture, private_picture, loose_picture],
        "totp_secret": totp_secret,
    }


async def cancel(person: Person, reason: str) -> None:
    await person(
        """mutation($i: CancelAccountInput!) { cancelAccount(input: $i) { deletionDueAt errors { code } } }""",
        {"i": {"password": PASSWORD, "reason": reason}},
    )
    person.token = None


async def make_due(account_id: int) -> None:
    past = now() - timedelta(seconds=1)
    await DeletionRequest.filter(account_id=account_id).update(due_at=past, next_attempt_at=past)
    await Account.filter(id=account_id).update(deletion_due_at=past)


async def run_worker(settings, redis_url, queue: Queue) -> Any:
    """One sweep (as the cron job does), then a worker that drains the queue."""
    await sweep({"settings": settings, "queue": queue})
    worker = burst_worker(settings, redis_url)
    try:
        await worker.async_run()
    finally:
        await worker.close()
    return worker


def needles_of(alice: Person, alice_data: dict[str, Any]) -> list[str]:
    """Every personal value ``fill`` gave Alice, as text a leak scan looks for."""
    assert alice.id is not None
    return [
        "alice.deleteme",
        "aliceNick",
        "alice-avatar",
        "alice signature",
        "alice-sub-",
        "aliceIdPName",
        "alice-pic",
        alice_data["device"],
        alice_data["anonymous"],
        "alicePhone",
        "alice secret search",
        "alice-clicked",
        "alice-fav-item",
        "alice note",
        "alice private body",
        "alice error message",
        "alice stack",
        "alice config",
        "alice support subject",
        "alice support message",
        "ALICE-ORDER-1",
        "dear alice",
        "alice answer",
        "alice reason text",
        "AliceBrowser",
        "198.51.100.",
        "alice-holiday",
        f"account:{alice.id}",
        "alice.mail@",
        "+3361234" + str(alice.id).zfill(4),
        *alice_data["pictures"],
        alice_data["totp_secret"],
        *(p.replace("-", "") for p in alice_data["pictures"]),
    ]


async def every_value() -> list[tuple[str, str, str]]:
    """(table, column, text) for every value in every table of every model."""
    found = []
    for model in Tortoise.apps.get_models_iterable():
        for row in await model.all().values():
            for column, value in row.items():
                text = (
                    json.dumps(value, default=str)
                    if isinstance(value, (dict, list))
                    else str(value)
                )
                found.append((model._meta.db_table, column, text))
    return found


async def test_deleting_an_account_leaves_nothing_personal_anywhere(
    world, settings, redis_url, mailbox
):
    """The mailbox is up: the erasure receipt owed to her address is sent, and its row,
    the last place the address was, goes with it."""
    app, tokens, queue = world
    alice = Person(app, "alice.deleteme", "198.51.100.23", "AliceBrowser/7.1")
    bob = Person(app, "bob.keeps", "192.0.2.55", "BobBrowser/3.0")
    alice_data = await fill(app, alice, "alice", **tokens)
    bob_data = await fill(app, bob, "bob", **tokens)
    # An export she made before: its archive holds all of the above.
    exported = await alice(
        """mutation { exportMyData(input: {password: "correct horse battery staple"})
        { errors { code } } }"""
    )
    assert exported["exportMyData"]["errors"] == []
    assert (await run_worker(settings, redis_url, queue)).jobs_failed == 0
    [archive] = await DataExport.filter(account_id=alice.id, ready_at__isnull=False)
    archive_file = ExportFiles.of(settings).path(archive.file_key or "")
    assert archive_file.exists()
    alice_files = [
        settings.data_dir / "files" / p.storage_key for p in await Picture.filter(owner_id=alice.id)
    ]
    assert len(alice_files) == 3 and all(f.exists() for f in alice_files)
    bob_before = {
        table: sum(1 for t, _, text in await every_value() if t == table and "bob" in text.lower())
        # Not the key store's: its wrapped keysets are random text (a bare "bob" turns up by
        # chance), and alice's deletion rewrites them.
        for table in {t for t, _, _ in await every_value()} - {"subject_key", "master_key_check"}
    }
    await cancel(alice, "alice reason text")
    await make_due(alice.id)

    worker = await run_worker(settings, redis_url, queue)
    assert worker.jobs_failed == 0
    request = await DeletionRequest.get(account_id=alice.id)
    assert request.status == DeletionStatus.DONE and request.reason == ""
    answered = await DataRequest.get(account_id=alice.id, kind=DataRequestKind.ACCOUNT_DELETION)
    assert answered.status == DataRequestStatus.COMPLETED and answered.completed_at is not None
    access = await DataRequest.get(account_id=alice.id, kind=DataRequestKind.ACCESS)
    assert access.status == DataRequestStatus.COMPLETED  # the export, answered before

    needles = needles_of(alice, alice_data)
    leaks = [
        (table, column, needle)
        for table, column, text in await every_value()
        for needle in needles
        if needle.lower() in text.lower()
    ]
    assert leaks == []
    assert not any(f.exists() for f in alice_files)
    assert not archive_file.exists() and not list(archive_file.parent.glob(f"{archive.id}-*"))
    # Kept only as keyed hashes, and still about her: gone too.
    assert await KnownSignIn.filter(account_id=bob.id).exists()
    assert not await KnownSignIn.filter(account_id=alice.id).exists()
    assert not await SignInNotice.filter(account_id=alice.id).exists()
    for model in (TotpCredential, RecoveryCode, SignInChallenge, Passkey, ContactVerification):
        assert not await model.filter(account_id=alice.id).exists(), model
    assert await TotpCredential.filter(account_id=bob.id).exists()
    # Whatever the map says is deleted, or anonymised by its account link, is gone.
    for entry in DATA_MAP:
        if entry.account_field and (
            entry.erasure == Erasure.DELETE or entry.account_field in entry.anonymised
        ):
            found = entry.model.filter(**{entry.account_field: alice.id})
            assert not await found.exists(), entry.kind

    # The tombstone, the kept public comment, the pseudonymised ledger.
    tombstone = await Account.get(id=alice.id)
    assert tombstone.status == AccountStatus.DELETED and tombstone.deleted_at is not None
    # Sealed again under the deployment's kept-content key: readable though her key is gone.
    [public] = [f for f in await Feedback.filter(author_id=None) if f.body == "alice public body"]
    assert public.author_id is None and not await Picture.filter(feedback_id=public.id).exists()
    listed = await app.gql(
        """{ publicFeedback(subject: "product-42") { edges { node { body author { nickname }
        pictures { url } } } } }"""
    )
    by_body = {e["node"]["body"]: e["node"] for e in listed["data"]["publicFeedback"]["edges"]}
    assert by_body["alice public body"]["author"]["nickname"] == "deleted user"
    assert by_body["alice public body"]["pictures"] == []
    assert by_body["bob public body"]["author"]["nickname"] == "bobNick"
    pseudonyms = {e.subject for e in await ConsentEvent.filter(subject__startswith="pseudonym:")}
    assert len(pseudonyms) == 2  # the account's chain and the linked device's
    for subject in pseudonyms:
        check = await verify_chain(subject)
        assert check.ok and check.checked >= 2
        first = await ConsentEvent.get(subject=subject, seq=1)
        assert first.kind == "REKEYED" and "carried over" in first.detail
    assert not await DeviceLink.filter(account_id=alice.id).exists()

    # Bob is untouched, the account name is in quarantine.
    bob_after = {
        table: sum(1 for t, _, text in await every_value() if t == table and "bob" in text.lower())
        for table in bob_before
    }
    assert bob_after == bob_before
    assert all(
        (settings.data_dir / "files" / p.storage_key).exists()
        for p in await Picture.filter(owner_id=bob.id)
    )
    assert len(bob_data["pictures"]) == 3
    again = await app.gql(
        """mutation { register(input: {accountName: "alice.deleteme", password: "correct horse battery staple",
        nickname: "New"}) { errors { code field } } }"""
    )
    assert again["data"]["register"]["errors"] == [
        {"code": "NAME_IN_QUARANTINE", "field": "accountName"}
    ]


async def test_cancel_revokes_sessions_and_restore_within_grace(world, settings):
    app, _, _ = world
    carol = Person(app, "carol.cancels", "198.51.100.40", "CarolBrowser")
    data = await carol(
        """mutation { register(input: {accountName: "carol.cancels", password: "correct horse battery staple",
        nickname: "Carol"}) { token account { id } errors { code } } }"""
    )
    carol.token, carol.id = data["register"]["token"], pk(data["register"]["account"]["id"])
    old_token = carol.token
    cancelled = await carol(
        """mutation { cancelAccount(input: {password: "correct horse battery staple", reason: "r"})
        { deletionDueAt account { status } errors { code } } }"""
    )
    assert cancelled["cancelAccount"]["account"]["status"] == "PENDING_DELETION"
    viewer = await app.gql("{ viewer { id } }", token=old_token)
    assert viewer["data"]["viewer"] is None
    login = await app.gql(
        """mutation { login(input: {accountName: "carol.cancels", password: "correct horse battery staple"})
        { token errors { code } } }"""
    )
    assert login["data"]["login"]["errors"][0]["code"] == "ACCOUNT_INACTIVE"
    notices = await Tortoise.get_connection("default").execute_query_dict(
        "SELECT channel, kind FROM notification WHERE account_id = " + str(carol.id)
    )
    assert {(n["channel"], n["kind"]) for n in notices} == {
        ("IN_APP", "ACCOUNT_CANCELLED"),
        ("EMAIL", "ACCOUNT_CANCELLED"),
    }
    wrong = await app.gql(
        """mutation { restoreAccount(input: {accountName: "carol.cancels", password: "wrong password!!"})
        { token errors { code } } }"""
    )
    assert wrong["data"]["restoreAccount"]["errors"][0]["code"] == "INVALID_CREDENTIALS"
    restored = await app.gql(
        """mutation { restoreAccount(input: {accountName: "carol.cancels", password: "correct horse battery staple"})
        { token account { status } errors { code } } }"""
    )
    payload = restored["data"]["restoreAccount"]
    assert payload["errors"] == [] and payload["account"]["status"] == "ACTIVE"
    viewer = await app.gql(
        """{ viewer { accountName dataRequests { edges { node {
        kind status receivedAt verifiedAt dueAt completedAt urgency } } } } }""",
        token=payload["token"],
    )
    assert viewer["data"]["viewer"]["accountName"] == "carol.cancels"
    assert (await DeletionRequest.get(account_id=carol.id)).status == DeletionStatus.CANCELLED
    # The cancellation was on the list of rights: verified at once, due a period after the
    # grace it gave the user to change their mind; restoring withdrew it.
    [request] = [e["node"] for e in viewer["data"]["viewer"]["dataRequests"]["edges"]]
    assert request["kind"] == "ACCOUNT_DELETION" and request["status"] == "WITHDRAWN"
    assert request["verifiedAt"] == request["receivedAt"] and request["completedAt"]
    grace_ends = datetime.fromisoformat(cancelled["cancelAccount"]["deletionDueAt"])
    due = datetime.fromisoformat(request["dueAt"])
    assert due - grace_ends == timedelta(days=settings.data_request_days)

    # Cancel again, let the grace period end: restoring is refused with a clear code.
    await app.gql(
        """mutation { cancelAccount(input: {password: "correct horse battery staple"}) { errors { code } } }""",
        token=payload["token"],
    )
    await make_due(carol.id)
    late = await app.gql(
        """mutation { restoreAccount(input: {accountName: "carol.cancels", password: "correct horse battery staple"})
        { token errors { code } } }"""
    )
    assert late["data"]["restoreAccount"]["errors"][0]["code"] == "GRACE_PERIOD_OVER"


async def test_cancel_needs_recent_authentication(world, settings):
    app, _, _ = world
    dave = Person(app, "dave.cancels", "198.51.100.41", "DaveBrowser")
    data = await dave(
        """mutation { register(input: {accountName: "dave.cancels", password: "correct horse battery staple",
        nickname: "Dave"}) { token errors { code } } }"""
    )
    token = data["register"]["token"]
    from models.accounts.sessions import Session

    await Session.all().update(authenticated_at=now() - timedelta(hours=2))
    stale = await app.gql("mutation { cancelAccount(input: {}) { errors { code } } }", token=token)
    assert stale["data"]["cancelAccount"]["errors"][0]["code"] == "REAUTHENTICATION_REQUIRED"
    wrong = await app.gql(
        """mutation { cancelAccount(input: {password: "not the password"}) { errors { code field } } }""",
        token=token,
    )
    assert wrong["data"]["cancelAccount"]["errors"] == [
        {"code": "INVALID_CREDENTIALS", "field": "password"}
    ]
    assert (
        await Account.get(account_name_index=await account_name_index("dave.cancels"))
    ).status == AccountStatus.ACTIVE


async def _cancelled(app, name: str) -> int:
    person = Person(app, name, "198.51.100.50", "Browser")
    data = await person(
        """mutation($i: RegisterInput!) { register(input: $i) { token account { id } errors { code } } }""",
        {"i": {"accountName": name, "password": PASSWORD, "nickname": name}},
    )
    person.token, person.id = data["register"]["token"], pk(data["register"]["account"]["id"])
    await person(
        """mutation { addFavorite(input: {itemType: "t", itemId: "i"}) { errors { code } } }"""
    )
    await person(
        """mutation { setConsents(input: {policyVersion: "v1", decisions: [{purpose: "analytics", granted: true}]}) { errors { code } } }"""
    )
    await cancel(person, "")
    await make_due(person.id)
    return person.id


async def _assert_erased(account_id: int) -> None:
    account = await Account.get(id=account_id)
    assert account.status == AccountStatus.DELETED
    assert account.account_name == f"deleted-{account_id}" and account.nickname == ""
    assert not await ConsentEvent.filter(subject=f"account:{account_id}").exists()
    assert (await DeletionRequest.get(account_id=account_id)).status == DeletionStatus.DONE


async def test_a_failed_step_is_retried_to_the_same_end_state(
    world, settings, redis_url, monkeypatch
):
    app, _, queue = world
    account_id = await _cancelled(app, "erin.fails")
    import models.rights.deletion as deletion

    real = deletion.rekey_subject
    calls = {"n": 0}

    async def flaky(subject: str):
        calls["n"] += 1
        if calls["n"] == 1:
            raise RuntimeError("consent store unavailable")
        return await real(subject)

    monkeypatch.setattr(deletion, "rekey_subject", flaky)
    first = await run_worker(settings, redis_url, queue)
    assert first.jobs_failed >= 1  # the deletion (campaign jobs of the fixture run too)
    request = await DeletionRequest.get(account_id=account_id)
    assert request.status == DeletionStatus.FAILED
    assert request.last_error == "RuntimeError: consent store unavailable"
    assert request.step == "notifications"  # every step before consent is done
    # The user's request stays open until the deletion is really done.
    [asked] = await DataRequest.filter(account_id=account_id)
    assert asked.status == DataRequestStatus.IN_PROGRESS and asked.completed_at is None
    queue_view = await app.gql(
        "{ deletionQueue { edges { node { accountId status lastError attempts } } } }",
        token=await staff(app, "ops.viewer", Role.OPERATOR),
    )
    assert {
        "accountId": gid("Account", account_id),
        "status": "FAILED",
        "lastError": "RuntimeError: consent store unavailable",
        "attempts": 1,
    } in [e["node"] for e in queue_view["data"]["deletionQueue"]["edges"]]
    await DeletionRequest.filter(account_id=account_id).update(next_attempt_at=now())
    second = await run_worker(settings, redis_url, queue)
    assert second.jobs_failed == 0 and second.jobs_complete >= 1
    await _assert_erased(account_id)
    [asked] = await DataRequest.filter(account_id=account_id)
    assert asked.status == DataRequestStatus.COMPLETED


async def test_flushed_redis_loses_no_deletion(world, settings, redis_url):
    app, _, queue = world
    ids = [await _cancelled(app, f"frank.{i}") for i in range(3)]
    swept = await sweep({"settings": settings, "queue": queue})
    assert swept["deletions_enqueued"] == 3
    await queue.pool.flushdb()
    assert await queue.pool.zcard(settings.queue_name) == 0
    worker = await run_worker(settings, redis_url, queue)  # the next sweep brings them back
    assert worker.jobs_failed == 0
    for account_id in ids:
        await _assert_erased(account_id)


async def test_two_workers_on_one_deletion_agree(world, settings, redis_url):
    app, _, queue = world
    account_id = await _cancelled(app, "grace.twice")
    # The same deletion under two job ids, so that both workers get one.
    assert await queue.enqueue("delete_account", account_id, job_id="dup-a")
    assert await queue.enqueue("delete_account", account_id, job_id="dup-b")
    workers = [burst_worker(settings, redis_url) for _ in range(2)]
    try:
        await asyncio.gather(*(w.async_run() for w in workers))
    finally:
        for w in workers:
            await w.close()
    assert sum(w.jobs_failed for w in workers) == 0
    assert sum(w.jobs_complete for w in workers) >= 2  # both deletions (and campaign jobs)
    await _assert_erased(account_id)
    # And a third, late run changes nothing.
    from models.personal.storage import LocalStorage

    assert await run_deletion(account_id, settings, LocalStorage(settings.data_dir / "files")) == (
        "already-done"
    )


def map_problems(tables: set[str]) -> list[str]:
    """What is wrong with the map of personal data against these tables: a table in neither
    the map nor the no-personal-data list, in both, twice in the map, or no longer a table."""
    mapped = [entry.table for entry in DATA_MAP]
    declared = set(mapped) | set(NO_PERSONAL_DATA)
    return sorted(
        [f"not declared: {t}" for t in tables - declared]
        + [f"both personal and not: {t}" for t in set(mapped) & set(NO_PERSONAL_DATA)]
        + [f"mapped twice: {t}" for t in {t for t in mapped if mapped.count(t) > 1}]
        + [f"no such table: {t}" for t in declared - tables]
    )


async def test_every_model_is_scanned_by_the_leak_test(app):
    """The scan introspects every model; each is either in the map of personal data (which
    deletion and the scan above read) or declared to hold none, never both, never neither."""
    tables = {m._meta.db_table for m in Tortoise.apps.get_models_iterable()}
    assert "consent_event" in tables and len(tables) >= 35
    assert map_problems(tables) == []
    # A model added later without a declaration fails, as does a stale or double one.
    assert map_problems(tables | {"loyalty_card"}) == ["not declared: loyalty_card"]
    assert map_problems(tables - {"purpose"}) == ["no such table: purpose"]
    NO_PERSONAL_DATA["favorite"] = "a mistake"
    try:
        assert map_problems(tables) == ["both personal and not: favorite"]
    finally:
        del NO_PERSONAL_DATA["favorite"]


async def test_the_cancellation_notice_is_e_mailed(world, settings, redis_url, mailbox):
    app, _, _ = world
    hana = Person(app, "hana.mails", "198.51.100.60", "HanaBrowser")
    data = await hana(
        """mutation($i: RegisterInput!) { register(input: $i) { token account { id } errors { code } } }""",
        {"i": {"accountName": hana.name, "password": PASSWORD, "nickname": "Hana"}},
    )
    hana.token = data["register"]["token"]
    await add_and_verify_email(app.gql, hana.token, "hana@example.org")
    before = len(mailbox.received)
    await cancel(hana, "moving on")
    worker = burst_worker(settings, redis_url)  # the job the API enqueued, no sweep needed
    try:
        await worker.async_run()
    finally:
        await worker.close()
    mine = [m for m in mailbox.received[before:] if "hana@example.org" in m["X-Envelope-To"]]
    assert len(mine) == 1
    assert mine[0]["Subject"] == "Your account is scheduled for deletion"
    assert "restore it" in mine[0].get_payload(decode=True).decode()


async def test_a_deletion_whose_worker_died_is_taken_up_once_its_lease_ends(
    world, settings, redis_url
):
    """What a worker killed mid-deletion leaves behind: in Redis its job (so the same id
    cannot be queued again) held in progress (no worker runs it before the longest job
    timeout + 10 s), in the database a lease it never released. The lease is the ledger:
    once it has expired, the next sweep queues the deletion under a new id and it runs."""
    app, _, queue = world
    account_id = await _cancelled(app, "ivan.killed")
    await sweep({"settings": settings, "queue": queue})
    [dead_job] = [
        j.decode()
        for j in await queue.pool.zrange(settings.queue_name, 0, -1)
        if b"delete-account" in j
    ]
    await queue.pool.psetex(in_progress_key_prefix + dead_job, 600_000, b"1")
    await DeletionRequest.filter(account_id=account_id).update(
        status=DeletionStatus.RUNNING,
        lease_token="the-dead-worker",
        lease_until=now() - timedelta(seconds=1),
        attempts=1,
    )

    worker = Worker(
        **{**worker_settings(settings, redis_url), "cron_jobs": []},
        handle_signals=False,
        poll_delay=0.05,
    )
    running = asyncio.create_task(worker.async_run())
    try:
        await sweep({"settings": settings, "queue": queue})
        for _ in range(200):
            request = await DeletionRequest.get(account_id=account_id)
            if request.status == DeletionStatus.DONE:
                break
            await asyncio.sleep(0.05)
        for _ in range(200):  # the job records its result in Redis after the row says DONE
            if all(task.done() for task in worker.tasks.values()):
                break
            await asyncio.sleep(0.05)
    finally:
        running.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await running
        await worker.close()  # cancels the jobs still running: none by now
    assert request.status == DeletionStatus.DONE, request.status
    assert request.attempts == 2
    await _assert_erased(account_id)
