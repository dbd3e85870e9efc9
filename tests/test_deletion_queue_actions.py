"""Operators steer the deletion queue (issue 18): a failed deletion retried, a waiting one
postponed within its bounds and with a reason, each in the staff audit log; ordinary users
refused; the same through ``accord deletions``."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from datetime import UTC, datetime, timedelta

import models.rights.deletion as deletion
from accord.master_keys import dev_key_file
from models.accounts.account import Role
from models.clock import now
from models.rights.requests import OPEN_STATUSES, DataRequest, DeletionRequest, DeletionStatus
from tests.ids import gid, pk
from tests.processes import clean_env
from tests.test_deletion import _assert_erased, _cancelled, run_worker
from tests.test_worker import burst_worker
from tests.worlds import PASSWORD, staff
from workers.sweeper import sweep

RETRY = """
mutation($i: RetryDeletionInput!) {
  retryDeletion(input: $i) {
    deletion { id accountId status dueAt nextAttemptAt attempts lastError }
    errors { code field message }
  }
}
"""

POSTPONE = """
mutation($i: PostponeDeletionInput!) {
  postponeDeletion(input: $i) {
    deletion { id status dueAt nextAttemptAt attempts }
    errors { code field message }
  }
}
"""

AUDIT = """
query($staff: ID!) {
  staffAuditLog(staffId: $staff, first: 20) {
    edges { node { action subjectId resource resourceId reason staffRole } }
  }
}
"""


def _payload(body: dict, name: str) -> dict:
    return body["data"][name]


def _codes(payload: dict) -> list[tuple[str, str | None]]:
    return [(e["code"], e["field"]) for e in payload["errors"]]


async def _viewer_id(app, token: str) -> str:
    return (await app.gql("{ viewer { id } }", token=token))["data"]["viewer"]["id"]


async def _audit(app, officer: str, staff_id: str) -> list[dict]:
    body = await app.gql(AUDIT, {"staff": staff_id}, token=officer)
    return [e["node"] for e in body["data"]["staffAuditLog"]["edges"]]


async def _failed_once(world, settings, redis_url, monkeypatch, name: str) -> int:
    """A due deletion whose first run failed (the consent step raised), as the worker
    leaves it: FAILED, backing off."""
    app, _, queue = world
    account_id = await _cancelled(app, name)
    real = deletion.rekey_subject
    calls = {"n": 0}

    async def flaky(subject: str):
        calls["n"] += 1
        if calls["n"] == 1:
            raise RuntimeError("consent store unavailable")
        return await real(subject)

    monkeypatch.setattr(deletion, "rekey_subject", flaky)
    await run_worker(settings, redis_url, queue)
    request = await DeletionRequest.get(account_id=account_id)
    assert request.status == DeletionStatus.FAILED and request.next_attempt_at > now()
    return account_id


async def test_an_operator_retries_a_failed_deletion_and_the_worker_completes_it(
    world, settings, redis_url, monkeypatch
):
    app, tokens, queue = world
    account_id = await _failed_once(world, settings, redis_url, monkeypatch, "rita.retried")
    request = await DeletionRequest.get(account_id=account_id)
    deletion_id = gid("PendingDeletion", request.id)

    # Backing off: the sweeper would leave it for now.
    assert (await sweep({"settings": settings, "queue": queue}))["deletions_enqueued"] == 0
    retried = _payload(
        await app.gql(RETRY, {"i": {"id": deletion_id}}, token=tokens["operator"]),
        "retryDeletion",
    )
    assert retried["errors"] == []
    assert retried["deletion"]["status"] == "PENDING"
    assert retried["deletion"]["attempts"] == 1  # kept: it names the next job
    assert retried["deletion"]["lastError"] == "RuntimeError: consent store unavailable"
    assert datetime.fromisoformat(retried["deletion"]["nextAttemptAt"]) <= now()

    # The retry queued the job itself: a worker with no sweep completes the deletion.
    worker = burst_worker(settings, redis_url)
    try:
        await worker.async_run()
    finally:
        await worker.close()
    assert worker.jobs_failed == 0
    await _assert_erased(account_id)
    done = await DeletionRequest.get(account_id=account_id)
    assert done.attempts == 2 and done.last_error == ""

    operator_id = await _viewer_id(app, tokens["operator"])
    [entry] = await _audit(app, tokens["officer"], operator_id)
    assert entry == {
        "action": "RETRY_DELETION",
        "subjectId": gid("Account", account_id),
        "resource": "DeletionRequest",
        "resourceId": str(request.id),
        "reason": "retried a deletion that failed or was waiting",
        "staffRole": "OPERATOR",
    }

    # Done: nothing left to retry or postpone.
    again = _payload(
        await app.gql(RETRY, {"i": {"id": deletion_id}}, token=tokens["operator"]),
        "retryDeletion",
    )
    assert _codes(again) == [("ACCOUNT_DELETED", "id")] and again["deletion"] is None


async def test_retry_is_refused_in_the_grace_period_and_to_anyone_but_operations(world):
    app, tokens, _ = world
    body = await app.gql(
        """mutation($i: RegisterInput!) { register(input: $i) { token account { id } } }""",
        {"i": {"accountName": "gina.graceful", "password": PASSWORD, "nickname": "Gina"}},
    )
    token, account_id = (
        body["data"]["register"]["token"],
        pk(body["data"]["register"]["account"]["id"]),
    )
    cancelled = await app.gql(
        """mutation($i: CancelAccountInput!) { cancelAccount(input: $i) { errors { code } } }""",
        {"i": {"password": PASSWORD}},
        token=token,
    )
    assert cancelled["data"]["cancelAccount"]["errors"] == []
    request = await DeletionRequest.get(account_id=account_id)
    deletion_id = gid("PendingDeletion", request.id)

    in_grace = _payload(
        await app.gql(RETRY, {"i": {"id": deletion_id}}, token=tokens["officer"]),
        "retryDeletion",
    )
    assert _codes(in_grace) == [("IN_GRACE_PERIOD", "id")]
    assert (await DeletionRequest.get(id=request.id)).next_attempt_at == request.next_attempt_at

    user = await staff(app, "ursula.user", Role.USER)
    until = (request.due_at + timedelta(days=1)).isoformat()
    for token_of, code in (
        (user, "FORBIDDEN"),
        (tokens["support"], "FORBIDDEN"),
        (None, "NOT_AUTHENTICATED"),
    ):
        refused = await app.gql(RETRY, {"i": {"id": deletion_id}}, token=token_of)
        assert _codes(_payload(refused, "retryDeletion")) == [(code, None)]
        postponed = await app.gql(
            POSTPONE, {"i": {"id": deletion_id, "until": until, "reason": "r"}}, token=token_of
        )
        assert _codes(_payload(postponed, "postponeDeletion")) == [(code, None)]
    for strange in ("987654", "abc", gid("Campaign", request.id)):
        unknown = await app.gql(RETRY, {"i": {"id": strange}}, token=tokens["operator"])
        assert _codes(_payload(unknown, "retryDeletion")) == [("NOT_FOUND", "id")]


async def test_postponing_needs_a_reason_and_stays_within_its_bounds(world, settings):
    app, tokens, queue = world
    account_id = await _cancelled(app, "paul.postponed")
    request = await DeletionRequest.get(account_id=account_id)
    deletion_id = gid("PendingDeletion", request.id)
    moment = now()

    async def postpone(until: datetime, reason: str = "legal hold under review") -> dict:
        body = await app.gql(
            POSTPONE,
            {"i": {"id": deletion_id, "until": until.isoformat(), "reason": reason}},
            token=tokens["operator"],
        )
        return _payload(body, "postponeDeletion")

    assert _codes(await postpone(moment + timedelta(days=2), reason="  ")) == [
        ("REQUIRED", "reason")
    ]
    assert _codes(await postpone(moment - timedelta(hours=1))) == [("INVALID", "until")]
    # At most ACCORD_DELETION_MAX_POSTPONE_DAYS after the grace period ended...
    most = request.due_at + timedelta(days=settings.deletion_max_postpone_days)
    too_late = await postpone(most + timedelta(minutes=1))
    assert _codes(too_late) == [("INVALID", "until")]
    assert "at the latest" in too_late["errors"][0]["message"]
    # ... and never past the due date of the user's own deletion request.
    [asked] = await DataRequest.filter(account_id=account_id, status__in=OPEN_STATUSES)
    await DataRequest.filter(id=asked.id).update(due_at=moment + timedelta(days=5))
    assert _codes(await postpone(moment + timedelta(days=6))) == [("INVALID", "until")]
    assert (await DeletionRequest.get(id=request.id)).next_attempt_at == request.next_attempt_at

    until = moment + timedelta(days=2)
    postponed = await postpone(until)
    assert postponed["errors"] == []
    assert postponed["deletion"]["status"] == "PENDING"
    assert datetime.fromisoformat(postponed["deletion"]["nextAttemptAt"]) == until
    assert datetime.fromisoformat(postponed["deletion"]["dueAt"]) == request.due_at
    # The sweeper leaves it until then.
    assert (await sweep({"settings": settings, "queue": queue}))["deletions_enqueued"] == 0

    # Not earlier than it already is.
    assert _codes(await postpone(moment + timedelta(days=1))) == [("INVALID", "until")]

    # A retry brings it back to now (its grace period is over).
    retried = _payload(
        await app.gql(RETRY, {"i": {"id": deletion_id}}, token=tokens["officer"]),
        "retryDeletion",
    )
    assert retried["errors"] == []
    assert datetime.fromisoformat(retried["deletion"]["nextAttemptAt"]) <= now()

    operator_id = await _viewer_id(app, tokens["operator"])
    [entry] = await _audit(app, tokens["officer"], operator_id)
    assert entry["action"] == "POSTPONE_DELETION"
    assert entry["subjectId"] == gid("Account", account_id)
    assert entry["reason"].endswith(": legal hold under review")
    assert f"{until.astimezone(UTC):%Y-%m-%d %H:%M}" in entry["reason"]

    # Running under a live lease: neither retried nor postponed.
    await DeletionRequest.filter(id=request.id).update(
        status=DeletionStatus.RUNNING, lease_token="t", lease_until=now() + timedelta(minutes=1)
    )
    running = _payload(
        await app.gql(RETRY, {"i": {"id": deletion_id}}, token=tokens["operator"]),
        "retryDeletion",
    )
    assert _codes(running) == [("DELETION_RUNNING", "id")]
    assert _codes(await postpone(moment + timedelta(days=3))) == [("DELETION_RUNNING", "id")]


def _cli(settings, redis_url: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = clean_env(
        ACCORD_DATA_DIR=str(settings.data_dir),
        ACCORD_DATABASE_URL=settings.database_url,
        ACCORD_KEY_STORE_URL=settings.effective_key_store_url,
        ACCORD_REDIS_URL=redis_url,
        ACCORD_QUEUE_NAME=settings.queue_name,
        ACCORD_REDIS_KEY_PREFIX=settings.redis_key_prefix,
        ACCORD_SECRET_KEY=settings.secret_key.get_secret_value(),
        ACCORD_MASTER_KEY_FILE=str(dev_key_file(settings)),
        COLUMNS="200",
    )
    return subprocess.run(
        [sys.executable, "-m", "accord", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


async def run_cli(settings, redis_url: str, *args: str) -> subprocess.CompletedProcess[str]:
    return await asyncio.to_thread(_cli, settings, redis_url, *args)


async def test_the_command_line_lists_and_retries_as_a_named_staff_member(
    world, settings, redis_url, monkeypatch
):
    app, tokens, _ = world
    account_id = await _failed_once(world, settings, redis_url, monkeypatch, "carl.cli")
    request = await DeletionRequest.get(account_id=account_id)

    listed = await run_cli(settings, redis_url, "deletions", "list", "--status", "failed")
    assert listed.returncode == 0, listed.stderr
    assert str(account_id) in listed.stdout and "FAILED" in listed.stdout
    assert "consent store unavailable" in listed.stdout
    bad = await run_cli(settings, redis_url, "deletions", "list", "--status", "LOST")
    assert bad.returncode == 2

    for who in ("ursula.nobody", "the.support"):
        refused = await run_cli(
            settings, redis_url, "deletions", "retry", str(request.id), "--staff", who
        )
        assert refused.returncode == 1 and "refused:" in refused.stderr, refused.stderr
    assert (await DeletionRequest.get(id=request.id)).status == DeletionStatus.FAILED

    retried = await run_cli(
        settings, redis_url, "deletions", "retry", str(request.id), "--staff", "the.operator"
    )
    assert retried.returncode == 0, retried.stderr
    assert f"Deletion {request.id} (account {account_id}) is queued." in retried.stdout
    worker = burst_worker(settings, redis_url)
    try:
        await worker.async_run()
    finally:
        await worker.close()
    await _assert_erased(account_id)
    [entry] = await _audit(app, tokens["officer"], await _viewer_id(app, tokens["operator"]))
    assert entry["action"] == "RETRY_DELETION"
