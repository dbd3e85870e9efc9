"""The job registry (``models.jobs``): every job named once, with one worker function each,
queued under ids that keep their meaning."""

from __future__ import annotations

import ast
import inspect
import time
from pathlib import Path

import workers.anchors
import workers.deletion
import workers.export
import workers.notifications
import workers.sweeper
from models.jobs import Job, job_id
from models.queue import Queue
from workers.settings import functions, jobs, worker_settings

ROOT = Path(__file__).resolve().parent.parent


def test_every_job_has_a_worker_function_and_every_function_a_job(settings, redis_url) -> None:
    assert set(jobs()) == set(Job), "a registered job without a worker function"
    registered = {f.name for f in worker_settings(settings, redis_url)["functions"]}
    assert registered == {job.value for job in Job}
    # Every job function the worker modules define (a coroutine taking arq's ctx) is run
    # under a registered name.
    defined = {
        function
        for module in (
            workers.anchors,
            workers.deletion,
            workers.export,
            workers.notifications,
            workers.sweeper,
        )
        for _, function in inspect.getmembers(module, inspect.iscoroutinefunction)
        if function.__module__ == module.__name__
        and next(iter(inspect.signature(function).parameters), None) == "ctx"
    }
    assert defined - set(jobs().values()) == set(), "a worker function no job names"
    assert {f.coroutine.__wrapped__ for f in functions(settings)} == set(jobs().values())


def _bare_job_names(path: Path) -> list[str]:
    """String literals spelling a job's name, other than a log line's event name."""
    tree = ast.parse(path.read_text())
    logged = {
        id(call.args[0])
        for call in ast.walk(tree)
        if isinstance(call, ast.Call)
        and call.args
        and isinstance(call.func, ast.Attribute)
        and isinstance(call.func.value, ast.Name)
        and call.func.value.id == "log"
    }
    names = {job.value for job in Job}
    return [
        f"{path.relative_to(ROOT)}:{node.lineno}: {node.value!r}"
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant) and node.value in names and id(node) not in logged
    ]


def test_jobs_are_named_only_by_the_registry() -> None:
    found = [
        hit
        for package in ("api", "models", "workers", "accord")
        for path in sorted((ROOT / package).rglob("*.py"))
        if path != ROOT / "models" / "jobs.py"
        for hit in _bare_job_names(path)
    ]
    assert found == []


def test_job_ids_name_the_row_and_its_generation() -> None:
    """Ids are what crash recovery relies on: a deletion's names its attempt, the others the
    lease period they were queued in (``models.queue``), all behind the queue name."""
    queue = Queue(pool=None, queue_name="accord:queue", lease_seconds=300)  # type: ignore[arg-type]
    assert job_id(queue, Job.DELETE_ACCOUNT, 7, attempt=2) == "accord:queue:delete-account:7:2"
    ids = [
        job_id(queue, Job.FAN_OUT, 5),
        job_id(queue, Job.DELIVER_NOTIFICATIONS, 3, "EMAIL"),
        job_id(queue, Job.DELIVER_ACCOUNT_NOTICES),
    ]
    prefixes = ["accord:queue:fan-out:5:", "accord:queue:deliver:3:EMAIL:", "accord:queue:notices:"]
    for made, prefix in zip(ids, prefixes, strict=True):
        assert made.startswith(prefix)
        period = int(made.removeprefix(prefix))
        assert abs(period * 300 - time.time()) <= 600
