"""The arq worker, run for real against the test Redis and database."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from datetime import timedelta

from arq.worker import Worker

from models.accounts.account import Account
from models.accounts.bindings import PasswordReset
from models.accounts.sessions import Session, hash_token
from models.clock import now
from tests.processes import clean_env
from workers.settings import worker_settings


def burst_worker(settings, redis_url) -> Worker:
    kwargs = worker_settings(settings, redis_url)
    kwargs.pop("cron_jobs")
    return Worker(**kwargs, burst=True, handle_signals=False, poll_delay=0.05)


async def _account_with_sessions(name: str) -> Account:
    account = await Account.create(account_name=name, nickname=name)
    moment = now()
    for i, (last_seen, expires) in enumerate(
        [
            (moment, moment + timedelta(days=1)),  # live
            (moment, moment - timedelta(seconds=1)),  # past its absolute expiry
            (moment - timedelta(days=8), moment + timedelta(days=1)),  # idle too long
        ]
    ):
        await Session.create(
            account=account,
            token_hash=hash_token(f"{name}-{i}"),
            authenticated_at=moment,
            last_seen_at=last_seen,
            expires_at=expires,
        )
    await PasswordReset.create(
        account=account, token_hash=hash_token(f"{name}-r"), expires_at=moment - timedelta(1)
    )
    return account


async def test_sweep_removes_only_what_has_expired_and_is_safe_twice(app, settings, redis_url):
    account = await _account_with_sessions("sweepme")
    worker = burst_worker(settings, redis_url)
    from models.queue import Queue

    queue = await Queue.connect(redis_url, settings.queue_name)
    try:
        assert await queue.enqueue("sweep", job_id="sweep-a")
        assert await queue.enqueue("sweep", job_id="sweep-b")
        assert not await queue.enqueue("sweep", job_id="sweep-a"), "same id is queued once"
        await worker.async_run()
        await worker.close()
    finally:
        await queue.close()
    # Two sweeps, and the hour's consent anchor the first queued (the second found it queued).
    assert worker.jobs_complete == 3 and worker.jobs_failed == 0
    left = await Session.filter(account=account).values_list("token_hash", flat=True)
    assert left == [hash_token("sweepme-0")]
    assert not await PasswordReset.exists()


async def test_two_sweeps_at_once_do_not_fail(app, settings, redis_url):
    from models.queue import Queue
    from workers.sweeper import sweep

    await _account_with_sessions("racing")
    queue = await Queue.connect(redis_url, settings.queue_name)
    ctx = {"settings": settings, "queue": queue}
    try:
        results = await asyncio.gather(sweep(ctx), sweep(ctx))
    finally:
        await queue.close()
    assert sum(r["sessions"] for r in results) == 2
    assert await Session.filter().count() == 1


def test_arq_health_check_reports_a_live_worker(redis_url, settings, tmp_path):
    env = clean_env(
        ACCORD_REDIS_URL=redis_url,
        ACCORD_DATA_DIR=str(tmp_path),
        ACCORD_QUEUE_NAME=f"{settings.queue_name}-health",
    )
    check = [sys.executable, "-m", "accord", "worker", "--check"]
    assert subprocess.run(check, env=env, capture_output=True, timeout=60).returncode == 1
    worker = subprocess.Popen([sys.executable, "-m", "accord", "worker"], env=env)
    try:
        for _ in range(100):
            if subprocess.run(check, env=env, capture_output=True, timeout=60).returncode == 0:
                break
        else:
            raise AssertionError("the health check never saw the worker")
        arq_cli = subprocess.run(
            [sys.executable, "-m", "arq", "--check", "workers.main.WorkerSettings"],
            env={**env, "REDIS_URL": redis_url},
            capture_output=True,
            timeout=60,
        )
        assert arq_cli.returncode == 0, arq_cli.stderr
    finally:
        worker.terminate()
        assert worker.wait(timeout=30) == 0
