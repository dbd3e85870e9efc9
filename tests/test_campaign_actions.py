"""Operators steer campaigns (issue 18): progress per channel with the reasons of failures,
a stalled campaign resumed until it finishes, a campaign cancelled mid-delivery that sends
nothing more; each action in the staff audit log; the same through ``accord campaigns``."""

from __future__ import annotations

from datetime import timedelta

import models.notifications.delivery as delivery_module
from models.accounts.account import Role
from models.notifications.campaigns import Campaign
from models.queue import Queue
from tests.conftest import Clock
from tests.ids import gid
from tests.notification_helpers import (
    CANCEL,
    lose_redis,
    mail_count_by_recipient,
    mail_since,
    person,
    report_incident,
    run_worker,
)
from tests.test_deletion_queue_actions import run_cli
from tests.worlds import PASSWORD

VIEW = """
query($id: ID!) {
  campaign(id: $id) {
    status stalled progressedAt cancelledAt cancelReason delivered
    channelProgress { channel total sent failed pending cancelled }
    failures(first: 10) { channel reason attempts }
  }
}
"""

RESUME = """
mutation($i: ResumeCampaignInput!) {
  resumeCampaign(input: $i) { jobsQueued campaign { status } errors { code field message } }
}
"""

CANCEL_CAMPAIGN = """
mutation($i: CancelCampaignInput!) {
  cancelCampaign(input: $i) { campaign { status cancelReason } errors { code field message } }
}
"""

AUDIT = """
query($staff: ID!) {
  staffAuditLog(staffId: $staff, first: 20) {
    edges { node { action subjectId resource resourceId reason } }
  }
}
"""


def _codes(payload: dict) -> list[tuple[str, str | None]]:
    return [(e["code"], e["field"]) for e in payload["errors"]]


async def _view(gql, token: str, campaign_id: str) -> dict:
    return (await gql(VIEW, {"id": campaign_id}, token=token))["data"]["campaign"]


async def _resume(gql, token: str | None, campaign_id: str) -> dict:
    return (await gql(RESUME, {"i": {"id": campaign_id}}, token=token))["data"]["resumeCampaign"]


async def _cancel(gql, token: str | None, campaign_id: str, reason: str) -> dict:
    body = await gql(CANCEL_CAMPAIGN, {"i": {"id": campaign_id, "reason": reason}}, token=token)
    return body["data"]["cancelCampaign"]


async def _audit(gql, officer, operator) -> list[dict]:
    body = await gql(AUDIT, {"staff": operator.id}, token=officer.token)
    return [e["node"] for e in body["data"]["staffAuditLog"]["edges"]]


async def test_a_stalled_campaign_is_resumed_and_finishes(
    gql, settings, redis_url, mailbox, clock: Clock
):
    officer = await person(gql, "officer.stall", role=Role.PRIVACY_OFFICER, email=False)
    operator = await person(gql, "operator.stall", role=Role.OPERATOR, email=False)
    user = await person(gql, "user.stall")
    members = [await person(gql, f"m{n}.stall") for n in range(3)]
    start = len(mailbox.received)
    campaign_id = (await report_incident(gql, officer.token, allAccounts=True))["campaign"]["id"]
    # The fan-out job the API queued is lost, and no sweeper runs: nothing moves.
    queue = await Queue.connect(redis_url, settings.queue_name)
    try:
        await lose_redis(queue, settings)
    finally:
        await queue.close()

    fresh = await _view(gql, operator.token, campaign_id)
    assert (fresh["status"], fresh["stalled"], fresh["progressedAt"]) == (
        "FANNING_OUT",
        False,
        None,
    )
    assert _codes(await _resume(gql, operator.token, campaign_id)) == [("NOT_STALLED", "id")]

    later = Clock.real() + timedelta(minutes=settings.campaign_stall_minutes + 1)
    clock.use(lambda: later)
    assert (await _view(gql, operator.token, campaign_id))["stalled"] is True
    for token, code in ((user.token, "FORBIDDEN"), (None, "NOT_AUTHENTICATED")):
        assert _codes(await _resume(gql, token, campaign_id)) == [(code, None)]

    resumed = await _resume(gql, operator.token, campaign_id)
    assert resumed["errors"] == [] and resumed["jobsQueued"] == 1  # its one shard
    # Again before anything moved: the same job ids, nothing more queued.
    again = await _resume(gql, officer.token, campaign_id)
    assert again["errors"] == [] and again["jobsQueued"] == 0

    worker = await run_worker(settings, redis_url)  # no sweep: only what the resume queued
    assert worker.jobs_failed == 0
    clock.restore()  # the officer's sign-in is recent again, for the audit log
    done = await _view(gql, operator.token, campaign_id)
    assert done["status"] == "DONE" and done["stalled"] is False
    assert done["progressedAt"] is not None
    people = 3 + len(members)
    assert done["channelProgress"] == [
        {"channel": "EMAIL", "total": 1 + len(members), "sent": 1 + len(members), "failed": 0,
         "pending": 0, "cancelled": 0},
        {"channel": "IN_APP", "total": people, "sent": people, "failed": 0, "pending": 0,
         "cancelled": 0},
    ]  # fmt: skip
    assert done["failures"] == []
    sent_to = mail_count_by_recipient(mail_since(mailbox, start))
    assert sent_to == {who.email: 1 for who in (user, *members)}

    entries = await _audit(gql, officer, operator)
    assert entries == [
        {
            "action": "RESUME_CAMPAIGN",
            "subjectId": None,
            "resource": "Campaign",
            "resourceId": str((await Campaign.get()).id),
            "reason": "resumed a stalled campaign",
        }
    ]
    assert _codes(await _resume(gql, operator.token, campaign_id)) == [("CAMPAIGN_FINISHED", "id")]
    assert _codes(await _cancel(gql, operator.token, campaign_id, "too late")) == [
        ("CAMPAIGN_FINISHED", "id")
    ]


async def test_a_cancelled_campaign_sends_nothing_more(
    gql, settings, redis_url, mailbox, monkeypatch
):
    officer = await person(gql, "officer.stop", role=Role.PRIVACY_OFFICER, email=False)
    operator = await person(gql, "operator.stop", role=Role.OPERATOR, email=False)
    members = [await person(gql, f"m{n}.stop") for n in range(6)]
    start = len(mailbox.received)
    campaign_id = (await report_incident(gql, officer.token, allAccounts=True))["campaign"]["id"]

    real = delivery_module.deliver_batch
    batches = {"n": 0}

    async def first_batch_then_cancel(*args, **kwargs):
        batches["n"] += 1
        if batches["n"] == 1:
            # The first recipient leaves before her message goes: it fails, with why.
            body = await gql(CANCEL, {"i": {"password": PASSWORD}}, token=members[0].token)
            assert body["data"]["cancelAccount"]["errors"] == []
        result = await real(*args, **kwargs)
        if batches["n"] == 1:
            cancelled = await _cancel(gql, operator.token, campaign_id, "wrong incident text")
            assert cancelled["errors"] == [], cancelled
        return result

    monkeypatch.setattr(delivery_module, "deliver_batch", first_batch_then_cancel)
    worker = await run_worker(
        settings, redis_url, notification_batch_size=2, delivery_connections=1
    )
    assert worker.jobs_failed == 0
    # One batch of two went out before the cancellation: one sent, one failed; no more.
    assert mail_count_by_recipient(mail_since(mailbox, start)) == {members[1].email: 1}
    view = await _view(gql, operator.token, campaign_id)
    assert view["status"] == "CANCELLED" and view["cancelReason"] == "wrong incident text"
    assert view["cancelledAt"] is not None and view["stalled"] is False
    people = 2 + len(members)
    assert view["channelProgress"] == [
        {"channel": "EMAIL", "total": len(members), "sent": 1, "failed": 1, "pending": 0,
         "cancelled": len(members) - 2},
        # In-app notices already written stay in the inboxes.
        {"channel": "IN_APP", "total": people, "sent": people, "failed": 0, "pending": 0,
         "cancelled": 0},
    ]  # fmt: skip
    assert view["failures"] == [
        {"channel": "EMAIL", "reason": "account no longer active or reachable", "attempts": 0}
    ]

    # A sweep and a worker later: still nothing more sent, still CANCELLED.
    monkeypatch.setattr(delivery_module, "deliver_batch", real)
    await run_worker(settings, redis_url, sweep_first=True)
    assert mail_count_by_recipient(mail_since(mailbox, start)) == {members[1].email: 1}
    assert (await _view(gql, operator.token, campaign_id))["status"] == "CANCELLED"

    # Cancelling again changes nothing and is not recorded twice; resuming is refused.
    again = await _cancel(gql, officer.token, campaign_id, "again")
    assert again["errors"] == [] and again["campaign"]["cancelReason"] == "wrong incident text"
    assert _codes(await _resume(gql, operator.token, campaign_id)) == [("CAMPAIGN_CANCELLED", "id")]
    [entry] = await _audit(gql, officer, operator)
    assert entry["action"] == "CANCEL_CAMPAIGN" and entry["subjectId"] is None
    assert entry["reason"] == "wrong incident text"
    assert await _audit(gql, officer, officer) == []


async def test_cancel_needs_a_reason_a_campaign_and_an_operator(gql):
    officer = await person(gql, "officer.rules", role=Role.PRIVACY_OFFICER, email=False)
    operator = await person(gql, "operator.rules", role=Role.OPERATOR, email=False)
    support = await person(gql, "support.rules", role=Role.SUPPORT, email=False)
    user = await person(gql, "user.rules")
    campaign_id = (await report_incident(gql, officer.token, affectedAccountIds=[user.id]))[
        "campaign"
    ]["id"]
    assert _codes(await _cancel(gql, operator.token, campaign_id, " ")) == [("REQUIRED", "reason")]
    assert _codes(await _cancel(gql, operator.token, campaign_id, "x" * 501)) == [
        ("INVALID", "reason")
    ]
    for token, code in (
        (user.token, "FORBIDDEN"),
        (support.token, "FORBIDDEN"),
        (None, "NOT_AUTHENTICATED"),
    ):
        assert _codes(await _cancel(gql, token, campaign_id, "no")) == [(code, None)]
    for strange in ("987654", "abc", gid("PendingDeletion", 1)):
        assert _codes(await _cancel(gql, operator.token, strange, "no")) == [("NOT_FOUND", "id")]
        assert _codes(await _resume(gql, operator.token, strange)) == [("NOT_FOUND", "id")]
    assert (await _view(gql, operator.token, campaign_id))["status"] == "FANNING_OUT"


async def test_the_command_line_lists_resumes_and_cancels_as_a_named_staff_member(
    gql, settings, redis_url
):
    officer = await person(gql, "officer.cli", role=Role.PRIVACY_OFFICER, email=False)
    await person(gql, "operator.cli", role=Role.OPERATOR, email=False)
    user = await person(gql, "user.cli")
    await report_incident(gql, officer.token, affectedAccountIds=[user.id])
    campaign = await Campaign.get()

    listed = await run_cli(settings, redis_url, "campaigns", "list")
    assert listed.returncode == 0, listed.stderr
    row = next(line for line in listed.stdout.splitlines() if f" {campaign.id} " in line)
    assert "SECURITY_INCIDENT" in row and "FANNING_OUT" in row and "no" in row

    not_stalled = await run_cli(
        settings, redis_url, "campaigns", "resume", str(campaign.id), "--staff", "operator.cli"
    )
    assert not_stalled.returncode == 1 and "NOT_STALLED" in not_stalled.stderr

    cancel = ("campaigns", "cancel", str(campaign.id), "--reason", "sent by mistake")
    refused = await run_cli(settings, redis_url, *cancel, "--staff", "user.cli")
    assert refused.returncode == 1 and "FORBIDDEN" in refused.stderr
    done = await run_cli(settings, redis_url, *cancel, "--staff", "operator.cli")
    assert done.returncode == 0, done.stderr
    assert f"Campaign {campaign.id} is CANCELLED." in done.stdout
    fresh = await Campaign.get(id=campaign.id)
    assert fresh.status == "CANCELLED" and fresh.cancel_reason == "sent by mistake"
