"""Shared steps of the notification tests (issue 7): people with contact details, staff,
campaigns, a real arq worker run, the mail the local SMTP server received, and a small local
HTTP server standing in for the SMS gateway."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import os
import socket
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from email.message import Message
from typing import Any

import uvicorn
from arq.constants import (
    in_progress_key_prefix,
    job_key_prefix,
    result_key_prefix,
    retry_key_prefix,
)
from arq.worker import Worker
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from accord.settings import Settings
from models.accounts.account import Account, Role, account_name_index
from models.notifications.inbox import Notification
from models.queue import Queue
from tests.conftest import make_settings
from tests.consent_helpers import PASSWORD, User, register
from tests.ids import pk
from tests.test_worker import burst_worker
from workers.sweeper import sweep

CANCEL = """
mutation($i: CancelAccountInput!) { cancelAccount(input: $i) { errors { code field } } }
"""

INCIDENT = """
mutation($i: ReportSecurityIncidentInput!) {
  reportSecurityIncident(input: $i) {
    incident { id title impact measuresTaken adviceToUsers remedies }
    campaign { id kind channels status total created delivered failed progress }
    errors { code field }
  }
}
"""

INBOX = """
query($first: Int!, $after: String, $unread: Boolean!) {
  viewer { notifications(first: $first, after: $after, unreadOnly: $unread) {
    edges { cursor node { id kind title body readAt } }
    pageInfo { hasNextPage endCursor }
  } }
}
"""

MARK = """
mutation($i: MarkNotificationsReadInput!) {
  markNotificationsRead(input: $i) { marked errors { code field } }
}
"""

CAMPAIGN = """
query($id: ID!) {
  campaign(id: $id) { id kind channels status total created delivered failed progress }
}
"""

ANNOUNCEMENTS = "{ announcements { id kind title body publishedAt } }"

_names = itertools.count(1)


def unique(prefix: str) -> str:
    return f"{prefix}{next(_names)}"


@dataclass
class Person(User):
    email: str | None = None
    phone: str | None = None


async def person(
    gql, name: str, *, email: bool = True, phone: bool = False, role: Role | None = None
) -> Person:
    """A registered account, with a verified e-mail address and phone number if asked."""
    from tests.contact_helpers import add_and_verify_email, add_and_verify_phone

    user = await register(gql, name, role=role)
    given: dict[str, Any] = {}
    if email:
        given["email"] = f"{name}@mail.example"
        await add_and_verify_email(gql, user.token, given["email"])
    if phone:
        given["phone"] = "+3361" + str(pk(user.id)).zfill(7)
        await add_and_verify_phone(gql, user.token, given["phone"])
    return Person(user.name, user.token, user.id, given.get("email"), given.get("phone"))


async def cancel(gql, who: Person) -> None:
    """cancelAccount through the API: the account is PENDING_DELETION from now on."""
    body = await gql(CANCEL, {"i": {"password": PASSWORD, "reason": "leaving"}}, token=who.token)
    assert body["data"]["cancelAccount"]["errors"] == [], body


def incident_input(**given: Any) -> dict[str, Any]:
    values = {
        "title": "Unauthorised access to the order database",
        "impact": "Names and delivery addresses may have been read by an outsider.",
        "measuresTaken": "We closed the hole, rotated every key and called in auditors.",
        "adviceToUsers": "Watch for mail pretending to come from us; never share your code.",
        "remedies": "We offer a year of free identity monitoring to everyone affected.",
    }
    values.update(given)
    return values


async def report_incident(gql, token: str, **given: Any) -> dict[str, Any]:
    body = await gql(INCIDENT, {"i": incident_input(**given)}, token=token)
    return body["data"]["reportSecurityIncident"]


def worker_settings_for(settings: Settings, **overrides: Any) -> Settings:
    """The test settings (same database, Redis, queue and SMTP server) with some changed."""
    if not overrides:
        return settings
    return make_settings(settings.data_dir, settings.database_url, settings.redis_url, **overrides)


async def run_worker(
    settings: Settings, redis_url: str, *, sweep_first: bool = False, **overrides: Any
) -> Worker:
    """Optionally one sweep (as the cron job does), then a real arq worker in burst mode
    that drains the queue (fan-out, then the delivery jobs the fan-out enqueues)."""
    used = worker_settings_for(settings, **overrides)
    if sweep_first:
        queue = await Queue.connect(redis_url, used.queue_name)
        try:
            await sweep({"settings": used, "queue": queue})
        finally:
            await queue.close()
    worker = burst_worker(used, redis_url)
    try:
        await worker.async_run()
    finally:
        await worker.close()
    return worker


async def lose_redis(queue: Queue, settings: Settings) -> None:
    """Redis loses everything. FLUSHDB when the server is this run's own (the embedded one);
    on a shared server (``REDIS_URL`` given) every key of this run instead (its queue, its
    jobs, its counters), which is all the code under test can see, so that other runs
    sharing the server are not disturbed."""
    pool = queue.pool
    if not (os.environ.get("TEST_REDIS_URL") or os.environ.get("REDIS_URL")):
        await pool.flushdb()
        return
    job_ids = [j.decode() for j in await pool.zrange(settings.queue_name, 0, -1)]
    keys = [
        prefix + job_id
        for job_id in job_ids
        for prefix in (job_key_prefix, in_progress_key_prefix, retry_key_prefix, result_key_prefix)
    ]
    keys += [settings.queue_name]
    keys += [k async for k in pool.scan_iter(match=f"{settings.redis_key_prefix}*")]
    await pool.delete(*keys)


async def rows_by_account(campaign_id: int) -> dict[int, Counter]:
    """{account id: Counter(channel)} of a campaign's notification rows."""
    found: dict[int, Counter] = {}
    for account_id, channel in await Notification.filter(campaign_id=campaign_id).values_list(
        "account_id", "channel"
    ):
        found.setdefault(account_id, Counter())[str(channel)] += 1
    return found


async def account_id(name: str) -> int:
    return (await Account.get(account_name_index=await account_name_index(name))).id


def recipients(message: Message) -> list[str]:
    return [a.strip() for a in str(message["X-Envelope-To"]).split(",") if a.strip()]


ACCOUNT_NOTICES = {
    "Your account is scheduled for deletion",
    "Your account is restored",
    "Your Accord verification code",
}


def mail_since(mailbox, start: int) -> list[Message]:
    """Campaign mail received since ``start``; the cancellation notices that cancelled
    accounts get (a job of their own) are left out."""
    return [m for m in mailbox.received[start:] if m["Subject"] not in ACCOUNT_NOTICES]


def mail_count_by_recipient(messages: list[Message]) -> Counter:
    return Counter(address for m in messages for address in recipients(m))


def body_of(message: Message) -> str:
    payload = message.get_payload(decode=True)
    return payload.decode() if isinstance(payload, bytes) else str(message.get_payload())


# --- the SMS gateway ------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass
class Gateway:
    """What the local SMS gateway received, and how it answers: ``answers`` is consumed one
    status per request, then ``status`` is used."""

    url: str = ""
    received: list[dict[str, Any]] = field(default_factory=list)
    status: int = 200
    answers: list[int] = field(default_factory=list)
    requests: int = 0

    def to(self, phone: str) -> list[dict[str, Any]]:
        return [m for m in self.received if m.get("to") == phone]


@contextlib.asynccontextmanager
async def sms_gateway() -> AsyncIterator[Gateway]:
    """A real HTTP server (Starlette on uvicorn, 127.0.0.1, a free port) in this event loop
    that records the JSON POSTed to /sms. Only accepted messages count as received."""
    gateway = Gateway()

    async def receive(request: Request) -> JSONResponse:
        gateway.requests += 1
        status = gateway.answers.pop(0) if gateway.answers else gateway.status
        payload = await request.json()
        if status < 300:
            gateway.received.append(payload)
            return JSONResponse({"id": f"sms-{len(gateway.received)}"}, status_code=status)
        return JSONResponse({"error": f"answered {status}"}, status_code=status)

    app = Starlette(routes=[Route("/sms", receive, methods=["POST"])])
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off")
    )
    task = asyncio.create_task(server.serve())
    for _ in range(500):
        if server.started:
            break
        if task.done():
            task.result()
        await asyncio.sleep(0.01)
    else:
        raise AssertionError("the SMS gateway did not start")
    gateway.url = f"http://127.0.0.1:{port}/sms"
    try:
        yield gateway
    finally:
        server.should_exit = True
        await asyncio.wait_for(task, 10)
