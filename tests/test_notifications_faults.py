"""Faults (issue 7): a fan-out stopped mid-campaign, Redis flushed mid-campaign, e-mail and
SMS failures (transient, permanent, too many), and a worker dying between sending and
marking, which may cost one duplicate and never two."""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
from datetime import timedelta
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller

import models.notifications.delivery as delivery_module
import workers.notifications as notification_jobs
from accord.master_keys import dev_key_file
from models.accounts.account import Account, AccountStatus, Role
from models.clock import now
from models.notifications.campaign_jobs import enqueue_fan_out
from models.notifications.campaigns import Campaign, CampaignShard, CampaignStatus, fan_out_shard
from models.notifications.inbox import Channel, DeliveryStatus, Notification, NotificationKind
from models.queue import Queue
from tests.conftest import Clock, GraphQL
from tests.consent_helpers import published
from tests.ids import pk
from tests.notification_helpers import (
    CAMPAIGN,
    cancel,
    free_port,
    lose_redis,
    mail_count_by_recipient,
    mail_since,
    person,
    report_incident,
    rows_by_account,
    run_worker,
    sms_gateway,
)
from tests.processes import accord, clean_env, stop
from workers.sweeper import sweep

BATCH = 2


async def _audience(gql, tag: str, size: int = 11):
    """An officer and ``size`` members (every other one without e-mail), the middle one
    pending deletion; returns (officer, active people)."""
    officer = await person(gql, f"officer.{tag}", role=Role.PRIVACY_OFFICER)
    members = [await person(gql, f"m{n}.{tag}", email=n % 2 == 0) for n in range(size)]
    leaving = size // 2
    await cancel(gql, members[leaving])
    return officer, [officer] + [m for i, m in enumerate(members) if i != leaving]


def _expected(people) -> dict[int, dict[str, int]]:
    return {pk(p.id): ({"IN_APP": 1, "EMAIL": 1} if p.email else {"IN_APP": 1}) for p in people}


async def _as_dicts(campaign_id: int) -> dict[int, dict[str, int]]:
    return {k: dict(v) for k, v in (await rows_by_account(campaign_id)).items()}


async def _stopped_fan_out(shard_id: int, batches: int, clock: Clock) -> None:
    """Run the shard's fan-out in a task and cancel it while batch ``batches + 1`` is in its
    transaction (the first ``batches`` have committed), as a stopped worker would be."""
    real_now = clock.real
    calls = 0
    in_next_batch = asyncio.Event()

    def counting_now():  # called once per batch, inside its transaction
        nonlocal calls
        calls += 1
        if calls == batches + 1:
            in_next_batch.set()
        return real_now()

    clock.use(counting_now)
    task = asyncio.create_task(fan_out_shard(shard_id, BATCH, False))
    try:
        await asyncio.wait_for(in_next_batch.wait(), 10)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
    finally:
        clock.restore()


def _spy_on_fan_out(monkeypatch) -> list[tuple[int, int]]:
    """What each fan-out job handled: (accounts, in-app rows)."""
    results: list[tuple[int, int]] = []
    real = notification_jobs.fan_out_shard

    async def spy(*args):
        result = await real(*args)
        results.append(result)
        return result

    monkeypatch.setattr(notification_jobs, "fan_out_shard", spy)
    return results


async def test_a_stopped_fan_out_is_finished_by_a_new_worker(
    gql, settings, redis_url, mailbox, monkeypatch, clock
):
    officer, active = await _audience(gql, "stop")
    await published(gql, officer.token, "v2", material=True, categories=["OTHER"])
    campaign = await Campaign.get()
    [shard] = await CampaignShard.filter(campaign_id=campaign.id)
    eligible = sorted(pk(p.id) for p in active)

    await _stopped_fan_out(shard.id, 2, clock)
    shard = await CampaignShard.get(id=shard.id)
    assert not shard.done
    assert shard.cursor == eligible[2 * BATCH - 1], "two batches committed, the third not"
    assert set(await _as_dicts(campaign.id)) == set(eligible[: 2 * BATCH])

    # The fan-out job the API queued is still in Redis: a new worker picks it up and
    # continues from the cursor.
    start = len(mailbox.received)
    handled = _spy_on_fan_out(monkeypatch)
    worker = await run_worker(settings, redis_url, notification_batch_size=BATCH)
    assert worker.jobs_failed == 0
    assert [h for h, _ in handled] == [len(eligible) - 2 * BATCH], "resumed, not restarted"
    assert await _as_dicts(campaign.id) == _expected(active), "no account skipped or doubled"
    assert mail_count_by_recipient(mail_since(mailbox, start)) == {
        p.email: 1 for p in active if p.email
    }
    campaign = await Campaign.get(id=campaign.id)
    assert campaign.status == CampaignStatus.DONE


async def test_two_fan_outs_of_one_shard_at_once_write_each_row_once(gql):
    officer, active = await _audience(gql, "twice")
    await published(gql, officer.token, "v2", material=True, categories=["OTHER"])
    campaign = await Campaign.get()
    [shard] = await CampaignShard.filter(campaign_id=campaign.id)
    results = await asyncio.gather(
        fan_out_shard(shard.id, BATCH, False), fan_out_shard(shard.id, BATCH, False)
    )
    assert sum(handled for handled, _ in results) == len(active)
    assert await _as_dicts(campaign.id) == _expected(active)
    # And a third, late run writes nothing.
    assert await fan_out_shard(shard.id, BATCH, False) == (0, 0)
    written = sum(len(v) for v in _expected(active).values())
    assert await Notification.filter(campaign_id=campaign.id).count() == written
    # Even from the start again (a cursor lost, say restored from an older backup): the
    # rows already written are skipped, not written twice, and nothing fails.
    await CampaignShard.filter(id=shard.id).update(cursor=shard.start_id, done=False)
    handled, _ = await fan_out_shard(shard.id, BATCH, False)
    assert handled == len(active)
    assert await _as_dicts(campaign.id) == _expected(active)
    assert await Notification.filter(campaign_id=campaign.id).count() == written


async def test_a_flushed_redis_is_resumed_by_the_sweeper_from_the_cursor(
    gql, settings, redis_url, mailbox, monkeypatch, clock
):
    officer, active = await _audience(gql, "flush")
    await published(gql, officer.token, "v2", material=True, categories=["OTHER"])
    campaign = await Campaign.get()
    [shard] = await CampaignShard.filter(campaign_id=campaign.id)
    await _stopped_fan_out(shard.id, 3, clock)
    cursor = (await CampaignShard.get(id=shard.id)).cursor

    queue = await Queue.connect(redis_url, settings.queue_name)
    try:
        # The fan-out (and the cancelled member's notice) wait in the queue.
        assert await queue.pool.zcard(settings.queue_name) == 2
        await lose_redis(queue, settings)
        assert await queue.pool.zcard(settings.queue_name) == 0
    finally:
        await queue.close()
    # Without a sweep nothing knows about the campaign any more...
    idle = await run_worker(settings, redis_url, notification_batch_size=BATCH)
    assert idle.jobs_complete == 0
    assert (await CampaignShard.get(id=shard.id)).cursor == cursor

    # ...the sweeper reads it from the database and it resumes from the stored cursor.
    start = len(mailbox.received)
    handled = _spy_on_fan_out(monkeypatch)
    worker = await run_worker(settings, redis_url, sweep_first=True, notification_batch_size=BATCH)
    assert worker.jobs_failed == 0
    assert [h for h, _ in handled] == [len(active) - 3 * BATCH]
    assert await _as_dicts(campaign.id) == _expected(active)
    assert mail_count_by_recipient(mail_since(mailbox, start)) == {
        p.email: 1 for p in active if p.email
    }
    assert (await Campaign.get(id=campaign.id)).status == CampaignStatus.DONE


async def test_a_flushed_redis_after_the_fan_out_still_delivers(gql, settings, redis_url, mailbox):
    """A worker wrote every row and died before queueing the deliveries; Redis is then
    flushed: the sweeper queues the deliveries from the rows."""
    officer, active = await _audience(gql, "owed", size=4)
    result = await report_incident(gql, officer.token, allAccounts=True)
    campaign_id = pk(result["campaign"]["id"])
    [shard] = await CampaignShard.filter(campaign_id=campaign_id)
    await fan_out_shard(shard.id, BATCH, False)  # the rows, but no delivery job
    queue = await Queue.connect(redis_url, settings.queue_name)
    try:
        await lose_redis(queue, settings)
        start = len(mailbox.received)
        swept = await sweep({"settings": settings, "queue": queue})
    finally:
        await queue.close()
    assert swept["campaign_jobs_enqueued"] == 1  # e-mail delivery only (in-app is written)
    await run_worker(settings, redis_url)
    assert mail_count_by_recipient(mail_since(mailbox, start)) == {
        p.email: 1 for p in active if p.email
    }
    assert (await Campaign.get(id=campaign_id)).status == CampaignStatus.DONE


async def test_another_deployment_on_the_same_redis_does_not_hold_up_a_campaign(
    gql, settings, redis_url, mailbox
):
    """Two deployments (say staging and production) share a Redis server, each with its own
    queue name and database. arq's job keys are global to the server, so job ids must be
    too: the other deployment's fan-out of its shard number N must not stop ours."""
    officer, active = await _audience(gql, "shared", size=3)
    await published(gql, officer.token, "v2", material=True, categories=["OTHER"])
    campaign = await Campaign.get()
    ours = await Queue.connect(redis_url, settings.queue_name)
    theirs = await Queue.connect(redis_url, f"{settings.queue_name}-other-deployment")
    try:
        await lose_redis(ours, settings)  # our queued fan-out is lost...
        # ...while the other deployment queues the fan-out of its own campaign, whose shard
        # happens to have the same id (they have their own database). No worker of theirs
        # runs right now.
        assert await enqueue_fan_out(theirs, campaign.id) == 1
        start = len(mailbox.received)
        await run_worker(settings, redis_url, sweep_first=True)
    finally:
        await theirs.close()
        await ours.close()
    assert await _as_dicts(campaign.id) == _expected(active)
    assert mail_count_by_recipient(mail_since(mailbox, start)) == {
        p.email: 1 for p in active if p.email
    }
    assert (await Campaign.get(id=campaign.id)).status == CampaignStatus.DONE


# --- delivery failures ---------------------------------------------------------------------


async def _sms_incident(gql, *names: str) -> tuple[int, list]:
    officer = await person(gql, f"officer.{names[0]}", role=Role.PRIVACY_OFFICER)
    people = [await person(gql, name, email=False, phone=True) for name in names]
    result = await report_incident(
        gql, officer.token, affectedAccountIds=[p.id for p in people], channels=["SMS"]
    )
    assert result["errors"] == []
    return pk(result["campaign"]["id"]), people, officer


async def _sms_row(campaign_id: int, who) -> Notification:
    return await Notification.get(
        campaign_id=campaign_id, account_id=pk(who.id), channel=Channel.SMS
    )


async def _make_due(campaign_id: int) -> None:
    await Notification.filter(campaign_id=campaign_id, status=DeliveryStatus.PENDING).update(
        next_attempt_at=now() - timedelta(seconds=1)
    )


async def _view(gql, token: str, campaign_id: int) -> dict:
    return (await gql(CAMPAIGN, {"id": str(campaign_id)}, token=token))["data"]["campaign"]


async def test_a_transient_sms_failure_is_retried_after_a_backoff(app_with, settings, redis_url):
    async with sms_gateway() as gateway, app_with(sms_gateway_url=gateway.url) as http:
        gql = GraphQL(http)
        campaign_id, [alice], officer = await _sms_incident(gql, "alice.sms503")
        gateway.answers = [503]
        before = now()
        worker = await run_worker(settings, redis_url, sms_gateway_url=gateway.url)
        assert worker.jobs_failed == 0
        row = await _sms_row(campaign_id, alice)
        assert (row.status, row.attempts, row.last_error) == (
            DeliveryStatus.PENDING,
            1,
            "sms gateway answered 503",
        )
        assert timedelta(seconds=25) <= row.next_attempt_at - before <= timedelta(seconds=40)
        assert gateway.requests == 1 and gateway.received == []
        view = await _view(gql, officer.token, campaign_id)
        assert (view["status"], view["created"], view["delivered"], view["progress"]) == (
            "DELIVERING",
            1,
            0,
            0.0,
        )

        # Not due yet: a sweep and a worker leave it alone.
        await run_worker(settings, redis_url, sweep_first=True, sms_gateway_url=gateway.url)
        assert gateway.requests == 1
        # Due: sent, and the error is cleared.
        await _make_due(campaign_id)
        await run_worker(settings, redis_url, sweep_first=True, sms_gateway_url=gateway.url)
        row = await _sms_row(campaign_id, alice)
        assert (row.status, row.last_error) == (DeliveryStatus.SENT, "")
        assert row.sent_at is not None
        assert [m["to"] for m in gateway.received] == [alice.phone]
        assert (await _view(gql, officer.token, campaign_id))["status"] == "DONE"


async def test_a_refused_sms_fails_at_once_with_its_reason(app_with, settings, redis_url):
    async with sms_gateway() as gateway, app_with(sms_gateway_url=gateway.url) as http:
        gql = GraphQL(http)
        campaign_id, [alice, bob], officer = await _sms_incident(gql, "alice.sms400", "bob.sms400")
        gateway.answers = [400]  # alice's (the first row), then 200 for bob's
        await run_worker(settings, redis_url, sms_gateway_url=gateway.url)
        failed = await _sms_row(campaign_id, alice)
        assert (failed.status, failed.attempts, failed.last_error) == (
            DeliveryStatus.FAILED,
            1,
            "sms gateway refused: 400",
        )
        assert (await _sms_row(campaign_id, bob)).status == DeliveryStatus.SENT
        assert [m["to"] for m in gateway.received] == [bob.phone]
        view = await _view(gql, officer.token, campaign_id)
        assert (view["status"], view["delivered"], view["failed"], view["progress"]) == (
            "DONE",
            1,
            1,
            1.0,
        )
        await run_worker(settings, redis_url, sweep_first=True, sms_gateway_url=gateway.url)
        assert gateway.requests == 2, "a permanent failure is not retried"


async def test_after_max_attempts_a_message_is_failed(app_with, settings, redis_url):
    async with sms_gateway() as gateway, app_with(sms_gateway_url=gateway.url) as http:
        gql = GraphQL(http)
        campaign_id, [alice], officer = await _sms_incident(gql, "alice.sms3")
        gateway.status = 503
        options = {"sms_gateway_url": gateway.url, "notification_max_attempts": 3}
        delays = []
        for attempt in (1, 2):
            before = now()
            await run_worker(settings, redis_url, sweep_first=True, **options)
            row = await _sms_row(campaign_id, alice)
            assert (row.status, row.attempts) == (DeliveryStatus.PENDING, attempt)
            assert row.last_error == "sms gateway answered 503"
            delays.append(row.next_attempt_at - before)
            await _make_due(campaign_id)
        assert timedelta(seconds=25) <= delays[0] <= timedelta(seconds=40)
        assert timedelta(seconds=55) <= delays[1] <= timedelta(seconds=70), "backoff grows"
        await run_worker(settings, redis_url, sweep_first=True, **options)
        row = await _sms_row(campaign_id, alice)
        assert (row.status, row.attempts, row.last_error) == (
            DeliveryStatus.FAILED,
            3,
            "sms gateway answered 503",
        )
        assert gateway.requests == 3
        await run_worker(settings, redis_url, sweep_first=True, **options)
        assert gateway.requests == 3
        view = await _view(gql, officer.token, campaign_id)
        assert (view["status"], view["failed"]) == ("DONE", 1)


async def test_an_unreachable_smtp_server_is_retried_and_recorded(
    gql, settings, redis_url, mailbox
):
    officer = await person(gql, "officer.smtpdown", role=Role.PRIVACY_OFFICER)
    alice = await person(gql, "alice.smtpdown")
    result = await report_incident(
        gql, officer.token, affectedAccountIds=[alice.id], channels=["EMAIL"]
    )
    campaign_id = pk(result["campaign"]["id"])
    start, before = len(mailbox.received), now()
    worker = await run_worker(settings, redis_url, smtp_port=free_port())  # nothing listens
    assert worker.jobs_failed == 0
    row = await Notification.get(campaign_id=campaign_id, channel=Channel.EMAIL)
    assert (row.status, row.attempts) == (DeliveryStatus.PENDING, 1)
    assert row.last_error.startswith("smtp:"), row.last_error
    assert timedelta(seconds=25) <= row.next_attempt_at - before <= timedelta(seconds=40)
    await _make_due(campaign_id)
    await run_worker(settings, redis_url, sweep_first=True)
    row = await Notification.get(id=row.id)
    assert (row.status, row.last_error) == (DeliveryStatus.SENT, "")
    assert mail_count_by_recipient(mail_since(mailbox, start)) == {alice.email: 1}


class _Picky:
    """An SMTP server's rules: refuses mailboxes named ``refused...``, and answers DATA with
    ``data_answer`` when set."""

    def __init__(self) -> None:
        self.data_answer: str | None = None
        self.delivered: list[str] = []

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address.startswith("refused"):
            return f"550 5.1.1 <{address}>: no such mailbox here"  # quoting the recipient
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        if self.data_answer:
            return self.data_answer
        self.delivered.extend(envelope.rcpt_tos)
        return "250 OK"


@pytest.fixture
def picky_smtp():
    rules = _Picky()
    controller = Controller(rules, hostname="127.0.0.1", port=free_port())
    controller.start()
    try:
        yield rules, controller.port
    finally:
        controller.stop()


async def test_smtp_refusals_and_failures_are_recorded(gql, settings, redis_url, picky_smtp):
    rules, port = picky_smtp
    officer = await person(gql, "officer.picky", role=Role.PRIVACY_OFFICER)
    alice = await person(gql, "alice.picky")
    refused = await person(gql, "refused.picky")
    rejected = await person(gql, "rejected.picky")
    first = await report_incident(
        gql,
        officer.token,
        affectedAccountIds=[alice.id, refused.id],
        channels=["EMAIL"],
        title="First",
    )
    first_id = pk(first["campaign"]["id"])

    # A temporary failure of the whole transaction: every row is retried later.
    rules.data_answer = "451 4.3.0 try again later"
    await run_worker(settings, redis_url, smtp_port=port)
    rows = await Notification.filter(campaign_id=first_id).order_by("id")
    assert [(r.status, r.attempts) for r in rows] == [(DeliveryStatus.PENDING, 1)] * 2
    assert all("451" in r.last_error for r in rows), [r.last_error for r in rows]
    assert rules.delivered == []

    # Next time the server takes the message, but one mailbox does not exist: that row is
    # failed for good with the server's reason, the other is sent.
    rules.data_answer = None
    await _make_due(first_id)
    await run_worker(settings, redis_url, sweep_first=True, smtp_port=port)
    sent = await Notification.get(campaign_id=first_id, account_id=pk(alice.id))
    gone = await Notification.get(campaign_id=first_id, account_id=pk(refused.id))
    assert sent.status == DeliveryStatus.SENT
    assert (gone.status, gone.attempts) == (DeliveryStatus.FAILED, 2)
    assert "no such mailbox" in gone.last_error
    assert "<address>" in gone.last_error and "refused.picky" not in gone.last_error  # sealed
    assert rules.delivered == [alice.email]

    # A permanent refusal of the message itself (5xx) is not retried.
    second = await report_incident(
        gql, officer.token, affectedAccountIds=[rejected.id], channels=["EMAIL"], title="Second"
    )
    second_id = pk(second["campaign"]["id"])
    rules.data_answer = "554 5.6.0 message content rejected"
    await run_worker(settings, redis_url, smtp_port=port)
    row = await Notification.get(campaign_id=second_id)
    assert (row.status, row.attempts) == (DeliveryStatus.FAILED, 1)
    assert "554" in row.last_error and "rejected" in row.last_error
    assert (await Campaign.get(id=second_id)).status == CampaignStatus.DONE


# --- a worker dying between sending and marking --------------------------------------------


class WorkerKilled(Exception):
    pass


def _die_after_sending(monkeypatch) -> None:
    real = delivery_module._send_chunk

    async def send_then_die(*args):
        await real(*args)
        raise WorkerKilled("the worker died before marking what it sent")

    monkeypatch.setattr(delivery_module, "_send_chunk", send_then_die)


async def _age_claims(campaign_id: int) -> None:
    """As if the claim timeout (job timeout + 5 s) had passed since the claim."""
    await Notification.filter(campaign_id=campaign_id, status=DeliveryStatus.SENDING).update(
        claimed_at=now() - timedelta(hours=1)
    )


async def _email_incident(gql, tag: str):
    officer = await person(gql, f"officer.{tag}", role=Role.PRIVACY_OFFICER)
    alice = await person(gql, f"alice.{tag}")
    result = await report_incident(
        gql, officer.token, affectedAccountIds=[alice.id], channels=["EMAIL"]
    )
    return pk(result["campaign"]["id"]), alice


async def test_a_message_stuck_sending_is_resent_once(
    gql, settings, redis_url, mailbox, monkeypatch
):
    campaign_id, alice = await _email_incident(gql, "stuck1")
    start = len(mailbox.received)
    _die_after_sending(monkeypatch)
    crashed = await run_worker(settings, redis_url)
    assert crashed.jobs_failed == 1
    row = await Notification.get(campaign_id=campaign_id)
    assert row.status == DeliveryStatus.SENDING and not row.resent
    assert mail_count_by_recipient(mail_since(mailbox, start)) == {alice.email: 1}
    monkeypatch.undo()

    # Its claim is recent: another worker may still be sending it, so it is left alone.
    await run_worker(settings, redis_url, sweep_first=True)
    assert (await Notification.get(id=row.id)).status == DeliveryStatus.SENDING
    assert mail_count_by_recipient(mail_since(mailbox, start)) == {alice.email: 1}

    await _age_claims(campaign_id)
    await run_worker(settings, redis_url, sweep_first=True)
    row = await Notification.get(id=row.id)
    assert (row.status, row.resent) == (DeliveryStatus.SENT, True)
    assert mail_count_by_recipient(mail_since(mailbox, start)) == {alice.email: 2}
    assert (await Campaign.get(id=campaign_id)).status == CampaignStatus.DONE


async def test_a_message_stuck_twice_is_failed_not_sent_a_third_time(
    gql, settings, redis_url, mailbox, monkeypatch
):
    campaign_id, alice = await _email_incident(gql, "stuck2")
    start = len(mailbox.received)
    _die_after_sending(monkeypatch)
    assert (await run_worker(settings, redis_url)).jobs_failed == 1
    await _age_claims(campaign_id)
    assert (await run_worker(settings, redis_url, sweep_first=True)).jobs_failed == 1
    row = await Notification.get(campaign_id=campaign_id)
    assert (row.status, row.resent) == (DeliveryStatus.SENDING, True)
    assert mail_count_by_recipient(mail_since(mailbox, start)) == {alice.email: 2}

    await _age_claims(campaign_id)
    await run_worker(settings, redis_url, sweep_first=True)
    row = await Notification.get(id=row.id)
    assert row.status == DeliveryStatus.FAILED
    assert row.last_error == "delivery uncertain: worker stopped twice"
    assert mail_count_by_recipient(mail_since(mailbox, start)) == {alice.email: 2}
    assert (await Campaign.get(id=campaign_id)).status == CampaignStatus.DONE
    await run_worker(settings, redis_url, sweep_first=True)
    assert mail_count_by_recipient(mail_since(mailbox, start)) == {alice.email: 2}


async def test_an_account_cancelled_before_delivery_gets_no_mail(gql, settings, redis_url, mailbox):
    """Rows written while it was active are not sent once it is pending deletion."""
    campaign_id, alice = await _email_incident(gql, "late")
    [shard] = await CampaignShard.filter(campaign_id=campaign_id)
    await fan_out_shard(shard.id, BATCH, False)
    await cancel(gql, alice)
    assert (await Account.get(id=pk(alice.id))).status == AccountStatus.PENDING_DELETION
    start = len(mailbox.received)
    await run_worker(settings, redis_url, sweep_first=True)
    row = await Notification.get(campaign_id=campaign_id, channel=Channel.EMAIL)
    assert row.status == DeliveryStatus.FAILED
    assert row.last_error == "account no longer active or reachable"
    assert mail_since(mailbox, start) == []


async def test_a_failing_connection_stops_the_whole_delivery_job(
    gql, settings, redis_url, mailbox, monkeypatch
):
    """Delivery runs several connections at once; when one dies the job fails, and the
    others must stop with it, not keep sending after their job is over."""
    officer = await person(gql, "officer.lanes", role=Role.PRIVACY_OFFICER)
    alice = await person(gql, "alice.lanes")
    bob = await person(gql, "bob.lanes")
    result = await report_incident(
        gql, officer.token, affectedAccountIds=[alice.id, bob.id], channels=["EMAIL"]
    )
    campaign_id = pk(result["campaign"]["id"])
    real = delivery_module._send_chunk
    gate = asyncio.Event()
    calls = 0

    async def one_waits_one_dies(*args):
        nonlocal calls
        calls += 1
        if calls == 1:
            # Waits for the other connection's failure (bounded: were the other connection
            # to give up early, this one would send and the test fail, not hang).
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(gate.wait(), 5)
            return await real(*args)
        raise WorkerKilled("this connection's worker died")

    monkeypatch.setattr(delivery_module, "_send_chunk", one_waits_one_dies)
    start = len(mailbox.received)
    worker = await run_worker(
        settings, redis_url, notification_batch_size=1, delivery_connections=2
    )
    assert worker.jobs_failed == 1 and calls == 2
    gate.set()
    await asyncio.sleep(0.3)
    assert mail_since(mailbox, start) == [], "a connection kept sending after its job failed"
    assert (
        await Notification.filter(campaign_id=campaign_id, status=DeliveryStatus.SENT).count() == 0
    )


# --- a worker process killed (-9) between sending and marking --------------------------------
#
# Real `accord worker` processes, as in production: one is killed while the SMTP server holds
# its message (the server has it; the worker has not marked it), another one recovers. The
# job timeout and the sweep interval are shortened so that the recovery can be timed.

JOB_TIMEOUT = 5
SWEEP_INTERVAL = 2
#: What the README promises: a crashed delivery's claim is trusted for its job's timeout
#: plus 5 s, and the first sweep after that sends it once more.
RECOVERY_BOUND = JOB_TIMEOUT + delivery_module.CLAIM_MARGIN.total_seconds() + SWEEP_INTERVAL
#: A worker's poll (0.5 s), the job and the SMTP exchange, on a busy shared machine.
SLACK = 5


class _Holding:
    """An SMTP server that keeps every message and, while ``holding``, answers the first
    one's DATA only when released: the message has arrived, the sender does not know yet."""

    def __init__(self) -> None:
        self.holding = True
        self.arrived = threading.Event()
        self.delivered: list[tuple[float, list[str]]] = []

    async def handle_DATA(self, server, session, envelope):
        self.delivered.append((time.monotonic(), list(envelope.rcpt_tos)))
        if self.holding:
            self.arrived.set()
            deadline = time.monotonic() + 120
            while self.holding and time.monotonic() < deadline:
                await asyncio.sleep(0.05)
        return "250 OK"

    def times_to(self, address: str) -> list[float]:
        return [at for at, rcpt in self.delivered if address in rcpt]


@pytest.fixture
def holding_smtp():
    rules = _Holding()
    controller = Controller(rules, hostname="127.0.0.1", port=free_port())
    controller.start()
    try:
        yield rules, controller.port
    finally:
        rules.holding = False
        controller.stop()


def _worker_process(settings, redis_url, smtp_port: int, folder: Path, name: str):
    env = clean_env(
        ACCORD_DATA_DIR=str(folder / "var"),
        ACCORD_DATABASE_URL=settings.database_url,
        ACCORD_KEY_STORE_URL=settings.effective_key_store_url,
        ACCORD_REDIS_URL=redis_url,
        ACCORD_QUEUE_NAME=settings.queue_name,
        ACCORD_REDIS_KEY_PREFIX=settings.redis_key_prefix,
        ACCORD_SECRET_KEY=settings.secret_key.get_secret_value(),
        # The tests' database: its data keys are wrapped by the tests' master key.
        ACCORD_MASTER_KEY_FILE=str(dev_key_file(settings)),
        ACCORD_SMTP_PORT=str(smtp_port),
        ACCORD_JOB_TIMEOUT_SECONDS=str(JOB_TIMEOUT),
        ACCORD_SWEEP_INTERVAL_SECONDS=str(SWEEP_INTERVAL),
    )
    log = folder / f"{name}.log"
    return accord("worker", cwd=folder, env=env, log=log), log


async def _kill_while_sending(settings, redis_url, holding, port, folder: Path) -> float:
    """Start a worker, wait until its message has reached the SMTP server, kill it (-9)
    before it hears back, and return when (monotonic)."""
    worker, log = _worker_process(settings, redis_url, port, folder, "killed")
    try:
        if not await asyncio.to_thread(holding.arrived.wait, 60):
            raise AssertionError(f"the worker sent nothing:\n{log.read_text()}")
    finally:
        worker.kill()
        worker.wait(timeout=30)
    return time.monotonic()


async def _recovered(settings, redis_url, holding, port, folder, address) -> float:
    """Start another worker and wait for the second copy; seconds it took from the kill."""
    holding.holding = False
    worker, log = _worker_process(settings, redis_url, port, folder, "recovering")
    deadline = time.monotonic() + RECOVERY_BOUND + SLACK + 60
    try:
        while len(holding.times_to(address)) < 2 and time.monotonic() < deadline:
            await asyncio.sleep(0.1)
        times = holding.times_to(address)
        assert len(times) == 2, f"never sent again (copies: {len(times)}):\n{log.read_text()}"
        # Let the recovering worker mark it (and show it sends no third copy).
        await asyncio.sleep(SWEEP_INTERVAL + 1)
    finally:
        assert stop(worker) == 0, log.read_text()
    return times[1]


async def test_a_killed_worker_s_notice_is_sent_again_once_within_the_stated_delay(
    gql, settings, redis_url, holding_smtp, tmp_path
):
    """A notice to one user (no campaign) left SENDING by a worker killed between sending
    and marking is sent once more (flagged ``resent``) after its claim timeout."""
    holding, port = holding_smtp
    alice = await person(gql, "alice.killed")
    await cancel(gql, alice)  # the cancellation notice: in the inbox, and an e-mail owed
    [row] = await Notification.filter(
        campaign_id=None, channel=Channel.EMAIL, kind=NotificationKind.ACCOUNT_CANCELLED
    )

    killed_at = await _kill_while_sending(settings, redis_url, holding, port, tmp_path)
    stuck = await Notification.get(id=row.id)
    assert (stuck.status, stuck.resent) == (DeliveryStatus.SENDING, False)

    resent_at = await _recovered(settings, redis_url, holding, port, tmp_path, alice.email)
    delay = resent_at - killed_at
    assert JOB_TIMEOUT <= delay <= RECOVERY_BOUND + SLACK, delay
    row = await Notification.get(id=row.id)
    assert (row.status, row.resent, row.last_error) == (DeliveryStatus.SENT, True, "")
    assert len(holding.times_to(alice.email)) == 2, "one duplicate, never more"


async def test_a_killed_worker_s_campaign_mail_is_sent_again_within_the_stated_delay(
    gql, settings, redis_url, holding_smtp, tmp_path
):
    """The same for a campaign's e-mail, and timed: arq keeps the dead job's id for the
    longest job timeout + 10 s (70 s here), but the work comes back well before that."""
    holding, port = holding_smtp
    campaign_id, alice = await _email_incident(gql, "killed")

    killed_at = await _kill_while_sending(settings, redis_url, holding, port, tmp_path)
    row = await Notification.get(campaign_id=campaign_id, channel=Channel.EMAIL)
    assert (row.status, row.resent) == (DeliveryStatus.SENDING, False)

    resent_at = await _recovered(settings, redis_url, holding, port, tmp_path, alice.email)
    delay = resent_at - killed_at
    assert JOB_TIMEOUT <= delay <= RECOVERY_BOUND + SLACK, delay
    row = await Notification.get(id=row.id)
    assert (row.status, row.resent) == (DeliveryStatus.SENT, True)
    assert len(holding.times_to(alice.email)) == 2, "one duplicate, never more"
    assert (await Campaign.get(id=campaign_id)).status == CampaignStatus.DONE
