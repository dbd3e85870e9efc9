"""The staff audit log (issue 16): every staff read or change of a subject's personal data
(a decision, a correction, an erasure, a data request opened, a support thread read) is
an entry of an append-only hash chain saying who, with which role, did what to whose data,
which resource, why and when. A PRIVACY_OFFICER reads it newest first and verifies it."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from tortoise import connections

from models.accounts.account import Account, Role
from models.clock import now
from models.personal.storage import LocalStorage
from models.rights import audit
from models.rights.audit import StaffAction, StaffAuditEntry, StaffAuditHead
from models.rights.deletion import run_deletion
from models.rights.requests import DeletionRequest
from tests.ids import gid, pk
from tests.personal_helpers import (
    PASSWORD,
    STAFF_REPLY,
    favorite,
    register,
    thread,
)
from tests.rights_helpers import (
    AUDIT_LOG,
    OPEN_REQUEST,
    VERIFY,
    audit_log,
    correction_filed,
    decided,
    erasure_filed,
    verify,
)
from tests.second_factor_helpers import Moment


async def officer(gql, name: str = "officer"):
    return await register(gql, name, role=Role.PRIVACY_OFFICER)


def summary(entry: dict) -> tuple:
    """What an auditor reads of an entry: who, role, what, whose, which, why."""
    return (
        entry["staffId"],
        entry["staffRole"],
        entry["action"],
        entry["subjectId"],
        entry["resource"],
        entry["resourceId"],
        entry["reason"],
    )


async def test_every_decision_is_written_with_who_what_whose_and_why(gql):
    alice = await register(gql, "alice")
    bob = await register(gql, "bob")
    staff = await officer(gql)
    other = await officer(gql, "officer2")
    alice_fav = (await favorite(gql, alice.token, itemId="a"))["id"]
    bob_favs = [(await favorite(gql, bob.token, itemId=f"b{i}"))["id"] for i in range(2)]

    correction = await correction_filed(
        gql, alice.token, kind="Favorite", field="note", rowId=alice_fav, requestedValue="gift"
    )
    erasure = await erasure_filed(gql, bob.token, rowIds=bob_favs)
    rejected = await correction_filed(
        gql, bob.token, kind="Favorite", field="note", rowId=bob_favs[0], requestedValue="x"
    )
    await decided(gql, staff.token, correction["id"], "FULFIL", "The note was wrong.")
    await decided(gql, other.token, erasure["id"], "FULFIL")
    await decided(gql, staff.token, rejected["id"], "REJECT", "The row is being erased.")

    log = await audit_log(gql, staff.token)
    assert [summary(e) for e in log] == [
        (
            staff.id,
            "PRIVACY_OFFICER",
            "DECIDE_DATA_REQUEST",
            bob.id,
            "DataRequest",
            str(pk(rejected["id"])),
            "The row is being erased.",
        ),
        (
            other.id,
            "PRIVACY_OFFICER",
            "ERASE",
            bob.id,
            "Favorite",
            ",".join(str(pk(f)) for f in bob_favs),
            "the subject's erasure request",
        ),
        (
            other.id,
            "PRIVACY_OFFICER",
            "DECIDE_DATA_REQUEST",
            bob.id,
            "DataRequest",
            str(pk(erasure["id"])),
            "the subject's erasure request",
        ),
        (
            staff.id,
            "PRIVACY_OFFICER",
            "CORRECT",
            alice.id,
            "Favorite.note",
            str(pk(alice_fav)),
            "The note was wrong.",
        ),
        (
            staff.id,
            "PRIVACY_OFFICER",
            "DECIDE_DATA_REQUEST",
            alice.id,
            "DataRequest",
            str(pk(correction["id"])),
            "The note was wrong.",
        ),
    ]
    assert [e["seq"] for e in log] == [5, 4, 3, 2, 1]
    assert all(e["at"] for e in log)
    # Narrowed to one staff member, or one subject.
    by_other = await audit_log(gql, staff.token, staffId=other.id)
    assert {e["action"] for e in by_other} == {"ERASE", "DECIDE_DATA_REQUEST"}
    assert {e["staffId"] for e in by_other} == {other.id}
    about_alice = await audit_log(gql, staff.token, subjectId=alice.id)
    assert [e["action"] for e in about_alice] == ["CORRECT", "DECIDE_DATA_REQUEST"]
    assert await audit_log(gql, staff.token, subjectId="not an id") == []
    # Pages, newest first.
    page = (await gql(AUDIT_LOG, {"first": 2}, token=staff.token))["data"]["staffAuditLog"]
    assert [e["node"]["seq"] for e in page["edges"]] == [5, 4]
    rest = await gql(
        AUDIT_LOG, {"first": 10, "after": page["pageInfo"]["endCursor"]}, token=staff.token
    )
    assert [e["node"]["seq"] for e in rest["data"]["staffAuditLog"]["edges"]] == [3, 2, 1]
    assert await verify(gql, staff.token) == {"ok": True, "checked": 5, "firstBrokenEntryId": None}


async def test_opening_a_request_takes_a_reason_and_is_written(gql):
    alice = await register(gql, "alice")
    staff = await officer(gql)
    request = await correction_filed(
        gql,
        alice.token,
        kind="Favorite",
        field="note",
        rowId=(await favorite(gql, alice.token, note="old"))["id"],
        requestedValue="new",
        note="please",
    )
    for reason in ("", "   "):
        body = await gql(
            OPEN_REQUEST,
            {"id": request["id"], "reason": reason},
            token=staff.token,
            expect_errors=True,
        )
        [error] = body["errors"]
        assert error["extensions"] == {"code": "INVALID", "field": "reason"}
    missing = await gql(
        "query($id: ID!) { dataRequest(id: $id) { id } }",
        {"id": request["id"]},
        token=staff.token,
        expect_errors=True,
    )
    assert "reason" in missing["errors"][0]["message"]
    assert await StaffAuditEntry.all().count() == 0

    body = await gql(
        OPEN_REQUEST, {"id": request["id"], "reason": "Deciding ticket 7"}, token=staff.token
    )
    seen = body["data"]["dataRequest"]
    assert seen["asked"]["note"] == "please"
    assert seen["asked"]["correction"]["currentValue"] == "old"
    [entry] = await audit_log(gql, staff.token)
    assert summary(entry) == (
        staff.id,
        "PRIVACY_OFFICER",
        "READ_DATA_REQUEST",
        alice.id,
        "DataRequest",
        str(pk(request["id"])),
        "Deciding ticket 7",
    )
    # Without a reason there is no way to what the user asked: node() shows the request
    # (to an ADMIN) without it; the user sees their own.
    admin = await register(gql, "root", role=Role.ADMIN)
    node = await gql(
        "query($id: ID!) { node(id: $id) { ... on DataRequest { id asked { note } } } }",
        {"id": request["id"]},
        token=admin.token,
    )
    assert node["data"]["node"] == {"id": request["id"], "asked": None}
    unknown = await gql(
        OPEN_REQUEST, {"id": gid("DataRequest", 424242), "reason": "r"}, token=staff.token
    )
    assert unknown["data"]["dataRequest"] is None
    assert await StaffAuditEntry.all().count() == 1


async def test_support_reads_are_written_with_their_reason(gql):
    alice = await register(gql, "alice")
    helper = await register(gql, "helper", role=Role.SUPPORT)
    staff = await officer(gql)
    opened = await thread(gql, alice.token)
    reply = {"input": {"threadId": opened["id"], "message": "On it."}}
    assert (await gql(STAFF_REPLY, reply, token=helper.token))["data"]["staffReply"]["errors"] == []
    query = "query($id: ID!, $reason: String) { supportThread(id: $id, reason: $reason) { id } }"
    await gql(query, {"id": opened["id"]}, token=helper.token)
    await gql(query, {"id": opened["id"], "reason": "Customer called"}, token=helper.token)
    log = await audit_log(gql, staff.token, staffId=helper.id)
    assert [(e["action"], e["staffRole"], e["subjectId"], e["reason"]) for e in log] == [
        ("READ_SUPPORT_THREAD", "SUPPORT", alice.id, "Customer called"),
        (
            "READ_SUPPORT_THREAD",
            "SUPPORT",
            alice.id,
            "works this support thread (assigned to them)",
        ),
    ]
    assert {e["resource"] for e in log} == {"SupportThread"}


async def test_only_the_privacy_office_reads_and_verifies_the_log(gql, clock, settings):
    moment = Moment(clock)
    staff = await officer(gql)
    for role in (None, Role.SUPPORT, Role.OPERATOR):
        someone = await register(gql, f"someone-{role}", role=role)
        for query in (AUDIT_LOG, VERIFY):
            body = await gql(query, token=someone.token, expect_errors=True)
            assert [e["extensions"]["code"] for e in body["errors"]] == ["FORBIDDEN"]
    body = await gql(VERIFY, expect_errors=True)
    assert [e["extensions"]["code"] for e in body["errors"]] == ["NOT_AUTHENTICATED"]
    assert await audit_log(gql, staff.token) == []
    # Reading whose data staff opened is itself a read of subject data: a recent sign-in.
    moment.advance(settings.recent_auth_window + timedelta(seconds=1))
    stale = await gql(AUDIT_LOG, token=staff.token, expect_errors=True)
    assert [e["extensions"]["code"] for e in stale["errors"]] == ["REAUTHENTICATION_REQUIRED"]
    assert (await verify(gql, staff.token))["ok"] is True


async def _entries(count: int) -> list[StaffAuditEntry]:
    staff = await Account.create(
        account_name="auditor", nickname="A", role=Role.PRIVACY_OFFICER, password_hash=None
    )
    return [
        await audit.record(
            staff,
            StaffAction.READ_DATA_REQUEST,
            subject_id=1000 + i,
            resource="DataRequest",
            resource_id=str(i),
            reason=f"reason {i}",
        )
        for i in range(count)
    ]


async def test_the_chain_verifies_and_a_tampered_entry_is_named(gql):
    staff = await officer(gql)
    entries = await _entries(5)
    assert await verify(gql, staff.token) == {"ok": True, "checked": 5, "firstBrokenEntryId": None}
    db = connections.get("default")
    await db.execute_query(
        "UPDATE staff_audit_entry SET reason = 'nothing to see' WHERE id = " + str(entries[2].id)
    )
    assert await verify(gql, staff.token) == {
        "ok": False,
        "checked": 2,
        "firstBrokenEntryId": gid("StaffAuditEntry", entries[2].id),
    }
    # Put back, and the chain verifies again: the hash is over what is stored.
    await StaffAuditEntry.filter(id=entries[2].id).update(reason="reason 2")
    assert (await verify(gql, staff.token))["ok"] is True
    # Who and whose are in the hash too.
    await StaffAuditEntry.filter(id=entries[1].id).update(subject_id=7)
    assert (await verify(gql, staff.token))["firstBrokenEntryId"] == gid(
        "StaffAuditEntry", entries[1].id
    )
    await StaffAuditEntry.filter(id=entries[1].id).update(subject_id=1001)
    # A deleted entry breaks the sequence; the last one, the head.
    await StaffAuditEntry.filter(id=entries[3].id).delete()
    assert (await verify(gql, staff.token))["firstBrokenEntryId"] == gid(
        "StaffAuditEntry", entries[4].id
    )
    await StaffAuditEntry.filter(id=entries[4].id).delete()
    check = await verify(gql, staff.token)
    assert check["ok"] is False and check["checked"] == 3
    assert check["firstBrokenEntryId"] == gid("StaffAuditEntry", entries[2].id)


async def test_concurrent_appends_do_not_fork_the_chain(gql):
    alice = await register(gql, "alice")
    staff = await officer(gql)
    request = await correction_filed(
        gql,
        alice.token,
        kind="Favorite",
        field="note",
        rowId=(await favorite(gql, alice.token))["id"],
        requestedValue="x",
    )
    reads = await asyncio.gather(
        *(
            gql(OPEN_REQUEST, {"id": request["id"], "reason": f"read {i}"}, token=staff.token)
            for i in range(12)
        )
    )
    assert all(r["data"]["dataRequest"]["id"] == request["id"] for r in reads)
    rows = await StaffAuditEntry.all().order_by("seq")
    assert [r.seq for r in rows] == list(range(1, 13))
    assert sorted(r.reason for r in rows) == sorted(f"read {i}" for i in range(12))
    assert [r.prev_hash for r in rows[1:]] == [r.hash for r in rows[:-1]]
    head = await StaffAuditHead.get()
    assert (head.seq, head.hash) == (12, rows[-1].hash)
    assert await verify(gql, staff.token) == {"ok": True, "checked": 12, "firstBrokenEntryId": None}


async def test_account_deletion_keeps_the_log_under_the_tombstone_id(gql, settings):
    alice = await register(gql, "alice")
    staff = await officer(gql)
    request = await correction_filed(
        gql,
        alice.token,
        kind="Favorite",
        field="note",
        rowId=(await favorite(gql, alice.token))["id"],
        requestedValue="x",
    )
    await gql(OPEN_REQUEST, {"id": request["id"], "reason": "to decide"}, token=staff.token)
    await decided(gql, staff.token, request["id"], "FULFIL", "done")
    before = [summary(e) for e in await audit_log(gql, staff.token)]
    assert len(before) == 3

    cancelled = await gql(
        "mutation($i: CancelAccountInput!) { cancelAccount(input: $i) { errors { code } } }",
        {"i": {"password": PASSWORD}},
        token=alice.token,
    )
    assert cancelled["data"]["cancelAccount"]["errors"] == []
    past = now() - timedelta(seconds=1)
    await DeletionRequest.filter(account_id=pk(alice.id)).update(due_at=past, next_attempt_at=past)
    await run_deletion(pk(alice.id), settings, LocalStorage(settings.data_dir / "files"))
    tombstone = await Account.get(id=pk(alice.id))
    assert tombstone.status == "DELETED" and tombstone.account_name == f"deleted-{pk(alice.id)}"
    # Who read or changed whose data stays, naming an account that names nobody.
    assert [summary(e) for e in await audit_log(gql, staff.token)] == before
    assert await verify(gql, staff.token) == {"ok": True, "checked": 3, "firstBrokenEntryId": None}
