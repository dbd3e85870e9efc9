"""Support correspondence: customers write and reply; SUPPORT staff see the queue by subject,
take a thread by replying, and only the staffer working a thread reads it (every read logged)."""

from __future__ import annotations

import pytest

from models.accounts.account import Role
from models.personal.support import SupportMessage, SupportThread
from models.rights.audit import StaffAction, StaffAuditEntry
from tests.ids import pk
from tests.personal_helpers import (
    MY_THREADS,
    REPLY_TO_SUPPORT,
    STAFF_REPLY,
    SUPPORT_QUEUE,
    SUPPORT_THREAD,
    codes,
    contact,
    register,
    thread,
)


async def reply(gql, token, thread_id, message="Any news?"):
    body = await gql(
        REPLY_TO_SUPPORT, {"input": {"threadId": thread_id, "message": message}}, token=token
    )
    return body["data"]["replyToSupport"]


async def staff_reply(gql, token, thread_id, message="We are on it."):
    body = await gql(
        STAFF_REPLY, {"input": {"threadId": thread_id, "message": message}}, token=token
    )
    return body["data"]["staffReply"]


async def read_thread(gql, token, thread_id):
    body = await gql(SUPPORT_THREAD, {"id": thread_id}, token=token)
    return body["data"]["supportThread"]


async def my_threads(gql, token):
    edges = (await gql(MY_THREADS, token=token))["data"]["viewer"]["supportThreads"]["edges"]
    return [e["node"] for e in edges]


async def test_contact_support_opens_a_thread_with_the_first_message(gql):
    alice = await register(gql, "alice")
    opened = await thread(
        gql, alice.token, subject=" Late order ", message="Hello\nthere", orderRef="ORD-42"
    )
    assert opened["subject"] == "Late order"
    assert opened["orderRef"] == "ORD-42"
    assert opened["status"] == "OPEN"
    assert [(m["fromStaff"], m["body"]) for m in opened["messages"]] == [(False, "Hello\nthere")]
    row = await SupportThread.get(id=pk(opened["id"]))
    assert row.account_id == pk(alice.id) and row.assignee_id is None


async def test_contact_support_needs_a_sign_in(gql):
    result = await contact(gql, None)
    assert codes(result) == [("NOT_AUTHENTICATED", None)]
    assert await SupportThread.all().count() == 0


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"subject": ""}, "subject"),
        ({"subject": "s" * 201}, "subject"),
        ({"subject": "bell\u0007"}, "subject"),
        ({"message": "  "}, "message"),
        ({"message": "m" * 5001}, "message"),
        ({"orderRef": "o" * 65}, "orderRef"),
    ],
)
async def test_contact_support_validates_its_input(gql, fields, field):
    alice = await register(gql, "alice")
    result = await contact(gql, alice.token, **fields)
    assert codes(result) == [("INVALID", field)]
    assert await SupportThread.all().count() == 0
    assert await SupportMessage.all().count() == 0


async def test_the_customer_replies_and_reads_the_whole_correspondence(gql):
    alice = await register(gql, "alice")
    staff = await register(gql, "staffer", role=Role.SUPPORT)
    opened = await thread(gql, alice.token)
    assert (await staff_reply(gql, staff.token, opened["id"], "Which order?"))["errors"] == []
    answer = await reply(gql, alice.token, opened["id"], "ORD-42")
    assert answer["errors"] == []
    assert answer["message"]["fromStaff"] is False
    threads = await my_threads(gql, alice.token)
    assert [t["id"] for t in threads] == [opened["id"]]
    assert [(m["fromStaff"], m["body"]) for m in threads[0]["messages"]] == [
        (False, "It is late."),
        (True, "Which order?"),
        (False, "ORD-42"),
    ]


async def test_viewer_support_threads_newest_first(gql):
    alice = await register(gql, "alice")
    first = await thread(gql, alice.token, subject="one")
    second = await thread(gql, alice.token, subject="two")
    assert [t["id"] for t in await my_threads(gql, alice.token)] == [second["id"], first["id"]]


@pytest.mark.parametrize("message", ["", "m" * 5001, "nul\u0000"])
async def test_reply_to_support_validates_the_message(gql, message):
    alice = await register(gql, "alice")
    opened = await thread(gql, alice.token)
    result = await reply(gql, alice.token, opened["id"], message)
    assert codes(result) == [("INVALID", "message")]
    assert await SupportMessage.all().count() == 1


@pytest.mark.parametrize("thread_id", ["x", "²", "99999999999999999999", "12345"])
async def test_reply_to_an_unknown_thread_is_not_found(gql, thread_id):
    alice = await register(gql, "alice")
    await thread(gql, alice.token)
    result = await reply(gql, alice.token, thread_id)
    assert codes(result) == [("NOT_FOUND", "threadId")]


async def test_reply_to_support_needs_a_sign_in(gql):
    alice = await register(gql, "alice")
    opened = await thread(gql, alice.token)
    assert codes(await reply(gql, None, opened["id"])) == [("NOT_AUTHENTICATED", None)]


# --- staff -------------------------------------------------------------------------------------


async def test_the_queue_shows_unassigned_open_threads_by_subject_only(gql):
    alice = await register(gql, "alice")
    staff = await register(gql, "staffer", role=Role.SUPPORT)
    waiting = await thread(gql, alice.token, subject="Waiting", orderRef="ORD-1")
    taken = await thread(gql, alice.token, subject="Taken")
    closed = await thread(gql, alice.token, subject="Closed")
    await SupportThread.filter(id=pk(closed["id"])).update(status="CLOSED")
    assert (await staff_reply(gql, staff.token, taken["id"]))["errors"] == []

    body = await gql(SUPPORT_QUEUE, token=staff.token)
    queue = body["data"]["supportQueue"]
    assert [(pk(q["id"]), q["subject"]) for q in queue] == [(pk(waiting["id"]), "Waiting")]
    assert set(queue[0]) == {"id", "subject", "createdAt"}
    # Reading the queue is not a read of anybody's correspondence.
    assert await StaffAuditEntry.all().count() == 0


async def test_the_queue_type_has_no_messages_or_customer(gql):
    staff = await register(gql, "staffer", role=Role.SUPPORT)
    for field in ("messages { body }", "orderRef", "account { id }"):
        body = await gql(
            f"{{ supportQueue {{ id {field} }} }}", token=staff.token, expect_errors=True
        )
        assert "errors" in body


async def test_staff_reply_takes_an_unassigned_thread(gql):
    alice = await register(gql, "alice")
    staff = await register(gql, "staffer", role=Role.SUPPORT)
    opened = await thread(gql, alice.token)
    result = await staff_reply(gql, staff.token, opened["id"], "On it.")
    assert result["errors"] == []
    assert result["message"]["fromStaff"] is True and result["message"]["body"] == "On it."
    row = await SupportThread.get(id=pk(opened["id"]))
    assert row.assignee_id == pk(staff.id)
    message = await SupportMessage.get(id=pk(result["message"]["id"]))
    assert message.staff_id == pk(staff.id) and message.from_staff
    # The same staffer keeps replying.
    assert (await staff_reply(gql, staff.token, opened["id"], "Done."))["errors"] == []


async def test_a_second_staffer_can_neither_reply_nor_read(gql):
    alice = await register(gql, "alice")
    first = await register(gql, "staffer1", role=Role.SUPPORT)
    second = await register(gql, "staffer2", role=Role.SUPPORT)
    opened = await thread(gql, alice.token)
    assert (await staff_reply(gql, first.token, opened["id"]))["errors"] == []

    refused = await staff_reply(gql, second.token, opened["id"], "Me too")
    assert codes(refused) == [("FORBIDDEN", "threadId")]
    assert refused["message"] is None
    assert "Me too" not in [message.body for message in await SupportMessage.all()]
    assert await read_thread(gql, second.token, opened["id"]) is None
    assert await StaffAuditEntry.filter(staff_id=pk(second.id)).count() == 0

    mine = await read_thread(gql, first.token, opened["id"])
    assert mine["id"] == opened["id"]
    assert [m["fromStaff"] for m in mine["messages"]] == [False, True]


async def test_staff_cannot_read_a_thread_nobody_works_yet(gql):
    alice = await register(gql, "alice")
    staff = await register(gql, "staffer", role=Role.SUPPORT)
    opened = await thread(gql, alice.token)
    assert await read_thread(gql, staff.token, opened["id"]) is None
    assert await StaffAuditEntry.all().count() == 0


@pytest.mark.parametrize("thread_id", ["x", "²", "99999999999999999999", "424242"])
async def test_staff_read_of_an_unknown_thread_is_null(gql, thread_id):
    staff = await register(gql, "staffer", role=Role.SUPPORT)
    assert await read_thread(gql, staff.token, thread_id) is None
    assert codes(await staff_reply(gql, staff.token, thread_id)) == [("NOT_FOUND", "threadId")]


async def test_every_staff_read_is_recorded(gql):
    alice = await register(gql, "alice")
    staff = await register(gql, "staffer", role=Role.SUPPORT)
    opened = await thread(gql, alice.token)
    await staff_reply(gql, staff.token, opened["id"])
    assert await StaffAuditEntry.all().count() == 0
    for _ in range(3):
        assert (await read_thread(gql, staff.token, opened["id"]))["id"] == opened["id"]
    rows = await StaffAuditEntry.all().order_by("id")
    assert len(rows) == 3
    for row in rows:
        assert row.staff_id == pk(staff.id) and row.staff_role == Role.SUPPORT
        assert row.action == StaffAction.READ_SUPPORT_THREAD
        assert row.subject_id == pk(alice.id)
        assert row.resource == "SupportThread"
        assert row.resource_id == str(pk(opened["id"]))
        assert row.reason and row.at is not None


@pytest.mark.parametrize("role", [Role.USER, Role.PRIVACY_OFFICER, Role.OPERATOR])
async def test_other_roles_get_a_forbidden_top_level_error(gql, role):
    alice = await register(gql, "alice")
    user = await register(gql, "someone", role=None if role == Role.USER else role)
    opened = await thread(gql, alice.token)
    for query, variables in ((SUPPORT_QUEUE, None), (SUPPORT_THREAD, {"id": opened["id"]})):
        body = await gql(query, variables, token=user.token, expect_errors=True)
        assert [e["extensions"]["code"] for e in body["errors"]] == ["FORBIDDEN"]
        assert not any((body["data"] or {}).values())
    refused = await staff_reply(gql, user.token, opened["id"])
    assert codes(refused) == [("FORBIDDEN", None)]
    assert await SupportThread.filter(assignee_id__not_isnull=True).count() == 0
    assert await StaffAuditEntry.all().count() == 0


async def test_signed_out_callers_get_not_authenticated(gql):
    alice = await register(gql, "alice")
    opened = await thread(gql, alice.token)
    for query, variables in ((SUPPORT_QUEUE, None), (SUPPORT_THREAD, {"id": opened["id"]})):
        body = await gql(query, variables, expect_errors=True)
        assert [e["extensions"]["code"] for e in body["errors"]] == ["NOT_AUTHENTICATED"]
    assert codes(await staff_reply(gql, None, opened["id"])) == [("NOT_AUTHENTICATED", None)]


async def test_a_customer_reply_reopens_a_closed_thread(gql):
    alice = await register(gql, "alice")
    opened = await thread(gql, alice.token)
    await SupportThread.filter(id=pk(opened["id"])).update(status="CLOSED")
    assert (await reply(gql, alice.token, opened["id"]))["errors"] == []
    assert (await SupportThread.get(id=pk(opened["id"]))).status == "OPEN"
