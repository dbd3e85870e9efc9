"""Data requests as a test makes them (issue 16): filed without signing in and verified with
the code mailed to the address on file, or (for the clock's tests) filed verified by the rule
the signed-in mutations call; the officers' list and their inbox."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from accord.settings import Settings
from models.accounts.account import Account
from models.rights.data_requests import file_request
from models.rights.requests import DataRequest, DataRequestKind
from tests.conftest import MAILBOX
from tests.contact_helpers import code_of, deliver
from tests.notification_helpers import body_of, recipients

FILE = """
mutation($i: FileDataRequestInput!) {
  fileDataRequest(input: $i) {
    handle expiresAt
    errors { code field message retryAfter }
  }
}
"""

VERIFY = """
mutation($i: VerifyDataRequestInput!) {
  verifyDataRequest(input: $i) {
    request { id kind status receivedAt verifiedAt dueAt urgency accountId }
    errors { code field message }
  }
}
"""

EXTEND = """
mutation($i: ExtendDataRequestInput!) {
  extendDataRequest(input: $i) {
    request { id status dueAt urgency extendedAt extensionReason }
    errors { code field message }
  }
}
"""

LIST = """
query($status: [DataRequestStatus!], $urgency: DataRequestUrgency, $dueBefore: DateTime,
      $first: Int, $after: String) {
  dataRequests(status: $status, urgency: $urgency, dueBefore: $dueBefore, first: $first,
               after: $after) {
    edges { cursor node { id kind status dueAt urgency accountId } }
    pageInfo { hasNextPage endCursor }
  }
}
"""

MINE = """
{ viewer { dataRequests { edges { node {
  id kind status receivedAt verifiedAt dueAt urgency extendedAt extensionReason } } } } }
"""

INBOX = """
{ viewer { notifications(first: 50) { edges { node { kind title body } } } } }
"""

CODE_SUBJECT = "Your Accord code for your data request"


async def file(gql: Any, **given: Any) -> dict[str, Any]:
    """fileDataRequest, signed out; ACCESS unless ``kind`` says otherwise."""
    given.setdefault("kind", "ACCESS")
    body = await gql(FILE, {"i": given})
    return body["data"]["fileDataRequest"]


async def verify(gql: Any, handle: str, code: str) -> dict[str, Any]:
    body = await gql(VERIFY, {"i": {"handle": handle, "code": code}})
    return body["data"]["verifyDataRequest"]


def codes_mailed_to(address: str) -> list[str]:
    """The data request codes the test SMTP server received for ``address``, oldest first."""
    return [
        code_of(body_of(message))
        for message in MAILBOX.received
        if message["Subject"] == CODE_SUBJECT and address in recipients(message)
    ]


async def mailed_code(address: str) -> str:
    await deliver()
    found = codes_mailed_to(address)
    assert found, f"no data request code was mailed to {address}"
    return found[-1]


def errors(payload: dict[str, Any]) -> list[tuple[str, str | None]]:
    return [(e["code"], e["field"]) for e in payload["errors"]]


async def verified_request(
    account_id: int,
    settings: Settings,
    kind: DataRequestKind = DataRequestKind.ACCESS,
    *,
    due_at: datetime | None = None,
) -> DataRequest:
    """A request whose clock runs, as a signed-in filing makes it; ``due_at`` moves its due
    date (the clock's tests move due dates rather than time, which would end sessions)."""
    account = await Account.get(id=account_id)
    request = await file_request(account, kind, settings, verified=True)
    if due_at is not None:
        await DataRequest.filter(id=request.id).update(due_at=due_at)
        request.due_at = due_at
    return request


async def inbox(gql: Any, token: str) -> list[dict[str, Any]]:
    body = await gql(INBOX, token=token)
    return [edge["node"] for edge in body["data"]["viewer"]["notifications"]["edges"]]


def iso(value: str) -> datetime:
    return datetime.fromisoformat(value)
