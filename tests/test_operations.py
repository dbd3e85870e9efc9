"""What operators watch (issue 18): queueStatus's workers, sweeper and oldest job, the
gauges /metrics exports for alerts, and ``accord status``; each after making its condition
happen with real workers, jobs and rows."""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import subprocess
import sys
import time
from datetime import timedelta

from arq.constants import in_progress_key_prefix
from arq.worker import Worker

import workers.pulse as pulse_module
import workers.settings as worker_settings_module
from accord.master_keys import dev_key_file
from models import clock as domain_clock
from models.accounts.account import Role
from models.notifications.campaigns import Campaign
from models.notifications.inbox import DeliveryStatus, Notification
from models.queue import JobStats, Queue
from models.rights.requests import DeletionRequest, DeletionStatus
from tests.conftest import GraphQL
from tests.consent_helpers import published
from tests.ids import pk
from tests.notification_helpers import cancel, person, report_incident, run_worker
from tests.processes import clean_env
from tests.test_notifications_operators import _sample as sample
from workers.settings import worker_settings

QUEUE = """{ queueStatus { queued inProgress failedLastHour oldestQueuedSeconds lastSweepAt
  workers { id lastSeenAt running } byFunction { name queued } } }"""

WORKER_ID = f"{socket.gethostname()}:{os.getpid()}"


async def _queue_status(gql, token: str) -> dict:
    return (await gql(QUEUE, token=token))["data"]["queueStatus"]


async def _metrics(client) -> str:
    response = await client.get("/metrics")
    assert response.status_code == 200
    return response.text


@contextlib.asynccontextmanager
async def _worker(settings, redis_url, *, cron: bool):
    """A real arq worker (not burst) running in this process until the block ends."""
    kwargs = worker_settings(settings, redis_url)
    if not cron:
        kwargs["cron_jobs"] = []
    worker = Worker(**kwargs, handle_signals=False, poll_delay=0.05)
    running = asyncio.create_task(worker.async_run())
    try:
        yield worker
    finally:
        running.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await running
        await worker.close()


async def _until(check, seconds: float = 20):
    deadline = time.monotonic() + seconds
    while True:
        found = await check()
        if found or time.monotonic() > deadline:
            return found
        await asyncio.sleep(0.05)


async def test_an_idle_worker_after_a_cron_sweep_runs_nothing(gql, client, settings, redis_url):
    operator = await person(gql, "operator.idle", role=Role.OPERATOR)
    await run_worker(settings, redis_url)  # the verification code's job
    before = time.time()
    async with _worker(settings, redis_url, cron=True) as worker:

        async def swept():
            status = await _queue_status(gql, operator.token)
            return status if status["lastSweepAt"] else None

        status = await _until(swept)
        assert status, "the cron sweep never finished"
        # arq keeps the cron job's in-progress key for a minute after the run: the old count
        # read it as a job in progress.
        leftovers = [
            k async for k in worker.pool.scan_iter(match=f"{in_progress_key_prefix}cron:*")
        ]
        assert leftovers, "arq left no in-progress key behind: this test proves nothing"
        await asyncio.sleep(0.3)  # idle
        status = await _queue_status(gql, operator.token)
        assert status["inProgress"] == 0
        assert status["failedLastHour"] == 0
        assert status["oldestQueuedSeconds"] < 2  # at most the next sweep, due now
        [beat] = status["workers"]
        assert beat["id"] == WORKER_ID and beat["running"] == 0
        text = await _metrics(client)
        assert sample(text, "accord_jobs_running") == 0.0
        assert sample(text, "accord_workers_alive") == 1.0
        seen = sample(text, "accord_worker_last_seen_timestamp_seconds", worker=WORKER_ID)
        assert seen is not None and before - 1 <= seen <= time.time()
        last_run = sample(text, "accord_sweeper_last_run_timestamp_seconds")
        assert last_run is not None and before <= last_run <= time.time()
        sweeps = sample(text, "accord_job_duration_seconds_count", function="sweep")
        assert sweeps is not None and sweeps >= 1
    # A worker that stops strikes itself off at once.
    status = await _queue_status(gql, operator.token)
    assert status["workers"] == [] and status["lastSweepAt"]
    text = await _metrics(client)
    assert sample(text, "accord_workers_alive") == 0.0
    assert sample(text, "accord_worker_last_seen_timestamp_seconds", worker=WORKER_ID) is None


async def test_a_running_job_shows_in_the_heartbeat_and_its_duration_in_the_histogram(
    app_with, client, settings, redis_url, monkeypatch
):
    monkeypatch.setattr(pulse_module, "HEARTBEAT_SECONDS", 0.05)
    async with app_with(fanout_shards=1) as http:
        gql = GraphQL(http)
        officer = await person(gql, "officer.beat", role=Role.PRIVACY_OFFICER)
        await run_worker(settings, redis_url)
        await published(gql, officer.token, "v2", material=True, categories=["OTHER"])

        real_fan_out = worker_settings_module.fan_out
        running, release = asyncio.Event(), asyncio.Event()

        async def held(ctx, shard_id):
            running.set()
            await release.wait()
            return await real_fan_out(ctx, shard_id)

        held.__name__ = "fan_out"
        monkeypatch.setattr(worker_settings_module, "fan_out", held)
        async with _worker(settings, redis_url, cron=False) as worker:
            await asyncio.wait_for(running.wait(), 10)
            started = time.monotonic()

            async def busy():
                status = await _queue_status(gql, officer.token)
                beats = status["workers"]
                return status if beats and beats[0]["running"] == 1 else None

            status = await _until(busy, 10)
            assert status, await _queue_status(gql, officer.token)
            assert status["inProgress"] == 1 and status["queued"] == 0
            text = await _metrics(client)
            assert sample(text, "accord_jobs_running") == 1.0
            assert sample(text, "accord_worker_jobs_running", worker=WORKER_ID) == 1.0
            await asyncio.sleep(max(0, 0.3 - (time.monotonic() - started)))
            release.set()

            async def drained():
                return worker.jobs_complete >= 2 and all(t.done() for t in worker.tasks.values())

            assert await _until(drained, 20), worker
    text = await _metrics(client)
    count = sample(text, "accord_job_duration_seconds_count", function="fan_out")
    assert count == 1.0
    assert sample(text, "accord_job_duration_seconds_bucket", function="fan_out", le="+Inf") == 1
    # Held for 0.3 s at least: not within the 0.25 s bucket, within 10 minutes.
    assert sample(text, "accord_job_duration_seconds_bucket", function="fan_out", le="0.25") == 0
    assert sample(text, "accord_job_duration_seconds_bucket", function="fan_out", le="600") == 1
    total = sample(text, "accord_job_duration_seconds_sum", function="fan_out")
    assert total is not None and total >= 0.3
    delivered = sample(text, "accord_job_duration_seconds_count", function="deliver_notifications")
    assert delivered is not None and delivered >= 1


async def test_the_oldest_waiting_job_counts_from_when_it_was_due(gql, client, settings, redis_url):
    operator = await person(gql, "operator.oldest", role=Role.OPERATOR)
    await run_worker(settings, redis_url)
    queue = await Queue.connect(redis_url, settings.queue_name)
    try:
        # A job due in an hour waits for nothing yet.
        later = domain_clock.now() + timedelta(hours=1)
        assert await queue.pool.enqueue_job("deliver_notifications", 1, "SMS", _defer_until=later)
        assert (await _queue_status(gql, operator.token))["oldestQueuedSeconds"] == 0
        assert sample(await _metrics(client), "accord_queue_oldest_job_seconds") == 0.0
        # One due two minutes ago, still not taken (no worker runs).
        earlier = domain_clock.now() - timedelta(minutes=2)
        assert await queue.pool.enqueue_job("deliver_notifications", 2, "SMS", _defer_until=earlier)
    finally:
        await queue.close()
    status = await _queue_status(gql, operator.token)
    assert 120 <= status["oldestQueuedSeconds"] < 130
    assert status["queued"] == 2
    age = sample(await _metrics(client), "accord_queue_oldest_job_seconds")
    assert age is not None and 120 <= age < 130


async def test_deletion_gauges_follow_pending_overdue_and_failed_requests(gql, client):
    leaving = [await person(gql, f"leaving{n}.ops") for n in range(3)]
    text = await _metrics(client)
    for name in ("pending", "overdue", "failed", "overdue_oldest_seconds"):
        assert sample(text, f"accord_deletions_{name}") == 0.0, name
    for who in leaving:
        await cancel(gql, who)
    text = await _metrics(client)
    assert sample(text, "accord_deletions_pending") == 3.0
    assert sample(text, "accord_deletions_overdue") == 0.0  # still in their grace period

    late, failing, _ = leaving
    moment = domain_clock.now()
    await DeletionRequest.filter(account_id=pk(late.id)).update(
        due_at=moment - timedelta(hours=2), next_attempt_at=moment + timedelta(hours=1)
    )
    await DeletionRequest.filter(account_id=pk(failing.id)).update(
        status=DeletionStatus.FAILED,
        due_at=moment - timedelta(minutes=10),
        attempts=1,
        last_error="RuntimeError: disk full",
    )
    text = await _metrics(client)
    assert sample(text, "accord_deletions_pending") == 2.0
    assert sample(text, "accord_deletions_failed") == 1.0
    assert sample(text, "accord_deletions_overdue") == 2.0
    oldest = sample(text, "accord_deletions_overdue_oldest_seconds")
    assert oldest is not None and 7200 <= oldest < 7300

    await DeletionRequest.filter(account_id=pk(late.id)).update(status=DeletionStatus.DONE)
    text = await _metrics(client)
    assert sample(text, "accord_deletions_overdue") == 1.0
    oldest = sample(text, "accord_deletions_overdue_oldest_seconds")
    assert oldest is not None and 600 <= oldest < 700


async def test_campaign_gauges_show_a_stalled_campaign_and_failed_notifications(
    gql, client, settings, redis_url, clock
):
    officer = await person(gql, "officer.stall", role=Role.PRIVACY_OFFICER)
    user = await person(gql, "user.stall")
    text = await _metrics(client)
    assert sample(text, "accord_campaigns_pending") == 0.0
    assert sample(text, "accord_notifications_failed", channel="EMAIL") == 0.0

    reported = await report_incident(gql, officer.token, affectedAccountIds=[user.id])
    campaign_id = str(pk(reported["campaign"]["id"]))
    text = await _metrics(client)
    assert sample(text, "accord_campaigns_pending") == 1.0
    fresh = sample(text, "accord_campaign_seconds_since_progress", campaign=campaign_id)
    assert fresh is not None and 0 <= fresh < 60

    # No worker for an hour: the campaign has not moved since it was created.
    real = clock.real
    clock.use(lambda: real() + timedelta(hours=1))
    text = await _metrics(client)
    stalled = sample(text, "accord_campaign_seconds_since_progress", campaign=campaign_id)
    assert stalled is not None and 3600 <= stalled < 3700
    clock.restore()

    await run_worker(settings, redis_url)
    assert (await Campaign.get(id=int(campaign_id))).status == "DONE"
    text = await _metrics(client)
    assert sample(text, "accord_campaigns_pending") == 0.0
    assert sample(text, "accord_campaign_seconds_since_progress", campaign=campaign_id) is None

    await Notification.filter(campaign_id=int(campaign_id), channel="EMAIL").update(
        status=DeliveryStatus.FAILED
    )
    text = await _metrics(client)
    assert sample(text, "accord_notifications_failed", channel="EMAIL") == 1.0
    assert sample(text, "accord_notifications_failed", channel="IN_APP") == 0.0


def _status_env(settings, redis_url: str | None, folder) -> dict[str, str]:
    env = clean_env(
        ACCORD_DATA_DIR=str(folder / "var"),
        ACCORD_DATABASE_URL=settings.database_url,
        ACCORD_KEY_STORE_URL=settings.effective_key_store_url,
        ACCORD_QUEUE_NAME=settings.queue_name,
        ACCORD_REDIS_KEY_PREFIX=settings.redis_key_prefix,
        ACCORD_SECRET_KEY=settings.secret_key.get_secret_value(),
        ACCORD_MASTER_KEY_FILE=str(dev_key_file(settings)),
        COLUMNS="200",
    )
    if redis_url:
        env["ACCORD_REDIS_URL"] = redis_url
    return env


async def test_accord_status_prints_the_overview(gql, settings, redis_url, tmp_path):
    who = await person(gql, "leaving.status")
    await cancel(gql, who)
    past = domain_clock.now() - timedelta(hours=1)
    await DeletionRequest.filter(account_id=pk(who.id)).update(due_at=past)
    async with _worker(settings, redis_url, cron=True):
        queue = await Queue.connect(redis_url, settings.queue_name)
        try:
            stats = JobStats(queue.pool, settings.redis_key_prefix, settings.queue_name)
            assert await _until(lambda: stats.last_success("sweep"))
        finally:
            await queue.close()
        command = [sys.executable, "-m", "accord", "status"]
        env = _status_env(settings, redis_url, tmp_path)
        done = await asyncio.to_thread(
            subprocess.run, command, env=env, capture_output=True, text=True, timeout=60
        )
    assert done.returncode == 0, done.stderr
    lines = {" ".join(line.replace("│", " ").split()) for line in done.stdout.splitlines()}
    assert "Workers alive 1" in lines, done.stdout
    assert "Queue jobs waiting 0" in lines or any(
        line.startswith("Queue jobs waiting") for line in lines
    )
    assert "jobs running 0" in lines, done.stdout
    assert "overdue 1" in lines, done.stdout
    assert any(line.startswith(f"{WORKER_ID} seen") for line in lines), done.stdout
    assert any(line.startswith("Sweeper last run 20") for line in lines), done.stdout

    # Without Redis it still tells the work owed, and says what it could not read.
    alone = await asyncio.to_thread(
        subprocess.run,
        command,
        env=_status_env(settings, None, tmp_path),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert alone.returncode == 1
    assert "not configured: set ACCORD_REDIS_URL" in alone.stdout
    assert "overdue" in alone.stdout
