"""Real processes: the README's run command, and SQLite shared by an API and a worker."""

from __future__ import annotations

import asyncio
import signal
import time

import httpx
import psutil
import pytest
from arq import create_pool

from accord.cli.worker import run_until_stopped
from models.queue import redis_settings
from tests.processes import accord, clean_env, free_port, stop, wait_ready

pytestmark = pytest.mark.slow


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_dev_runs_from_an_empty_folder_and_stops_cleanly(tmp_path, sig):
    port = free_port()
    log = tmp_path / "dev.log"
    process = accord("dev", "--port", str(port), cwd=tmp_path, env=clean_env(), log=log)
    try:
        wait_ready(port, process, log)
        answer = httpx.post(
            f"http://127.0.0.1:{port}/graphql", json={"query": "{ __typename }"}, timeout=5
        )
        assert answer.json() == {"data": {"__typename": "Query"}}
        ide = httpx.get(f"http://127.0.0.1:{port}/graphql", headers={"accept": "text/html"})
        assert "graphiql" in ide.text.lower()
        children = psutil.Process(process.pid).children(recursive=True)
        names = " ".join(" ".join(c.cmdline()) for c in children)
        assert "redis-server" in names and "worker" in names, names
        process.send_signal(sig)
        assert process.wait(timeout=30) == 0, log.read_text()
        _, alive = psutil.wait_procs(children, timeout=5)
        assert alive == [], [c.cmdline() for c in alive]
        assert (tmp_path / "var" / "accord.sqlite3").exists()
    finally:
        if process.poll() is None:
            process.kill()


REGISTER = """mutation($name: String!) { register(input: {accountName: $name,
  password: "correct horse battery staple", nickname: "N"}) { errors { code } token } }"""


async def test_api_and_worker_processes_write_one_sqlite_file_at_once(
    tmp_path, settings, redis_url
):
    if not settings.is_sqlite:
        pytest.skip("SQLite only: PostgreSQL has no single-writer lock")
    env = clean_env(
        ACCORD_DATA_DIR=str(tmp_path / "var"),
        ACCORD_REDIS_URL=redis_url,
        ACCORD_QUEUE_NAME=f"{settings.queue_name}-shared",
        ACCORD_REDIS_KEY_PREFIX=f"{settings.redis_key_prefix}-shared",
        ACCORD_SESSION_ABSOLUTE_TIMEOUT="1",
        ACCORD_SQLITE_BUSY_TIMEOUT_MS="10000",
    )
    migrate = accord("migrate", cwd=tmp_path, env=env, log=tmp_path / "migrate.log")
    assert migrate.wait(timeout=60) == 0, (tmp_path / "migrate.log").read_text()
    port = free_port()
    api_log, worker_log = tmp_path / "api.log", tmp_path / "worker.log"
    api = accord("serve", "--port", str(port), cwd=tmp_path, env=env, log=api_log)
    worker = accord("worker", cwd=tmp_path, env=env, log=worker_log)
    pool = await create_pool(
        redis_settings(redis_url), default_queue_name=f"{settings.queue_name}-shared"
    )
    try:
        await asyncio.to_thread(wait_ready, port, api, api_log)
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=30) as http:

            async def register(i: int) -> dict:
                response = await http.post(
                    "/graphql", json={"query": REGISTER, "variables": {"name": f"writer{i}"}}
                )
                return response.json()

            async def sweep_repeatedly() -> int:
                sweeps = 0
                deadline = time.monotonic() + 8
                while time.monotonic() < deadline:
                    await pool.enqueue_job("sweep", _job_id=f"sweep-{sweeps}")
                    sweeps += 1
                    await asyncio.sleep(0.01)
                return sweeps

            sweeper = asyncio.create_task(sweep_repeatedly())
            results = []
            for batch in range(10):
                await asyncio.sleep(0.2)
                results += await asyncio.gather(*(register(batch * 30 + i) for i in range(30)))
            await sweeper
        assert all(r.get("errors") is None for r in results), results
        assert all(r["data"]["register"]["errors"] == [] for r in results), results
        # The worker really wrote: every session expired after 1 s and the sweeps removed them.
        await asyncio.sleep(1.5)
        await pool.enqueue_job("sweep", _job_id="sweep-final")
        deadline = time.monotonic() + 20
        while "sweep-final" not in worker_log.read_text() and time.monotonic() < deadline:
            await asyncio.sleep(0.2)
        worker_text = worker_log.read_text()
        assert "'sessions': " in worker_text and "database is locked" not in worker_text
        removed = sum(
            int(line.split("'sessions': ")[1].split(",")[0])
            for line in worker_text.splitlines()
            if "'sessions': " in line
        )
        assert removed == 300, worker_text
        assert "database is locked" not in api_log.read_text()
    finally:
        await pool.aclose()
        assert stop(worker) == 0, worker_log.read_text()
        stop(api)


async def test_a_worker_stopped_in_the_middle_of_jobs_exits(tmp_path, settings, redis_url):
    """SIGTERM while jobs run: the jobs are cancelled (arq queues them again) and the worker
    closes its database connections and exits, rather than hanging on their threads."""
    env = clean_env(
        ACCORD_DATA_DIR=str(tmp_path / "var"),
        ACCORD_REDIS_URL=redis_url,
        ACCORD_QUEUE_NAME=f"{settings.queue_name}-stopped",
        ACCORD_REDIS_KEY_PREFIX=f"{settings.redis_key_prefix}-stopped",
    )
    migrate = accord("migrate", cwd=tmp_path, env=env, log=tmp_path / "migrate.log")
    assert migrate.wait(timeout=60) == 0, (tmp_path / "migrate.log").read_text()
    log = tmp_path / "worker.log"
    pool = await create_pool(
        redis_settings(redis_url), default_queue_name=f"{settings.queue_name}-stopped"
    )
    worker = accord("worker", cwd=tmp_path, env=env, log=log)
    try:
        for i in range(400):  # more than it can finish before it is told to stop
            await pool.enqueue_job("sweep", _job_id=f"stopped-sweep-{i}")
        deadline = time.monotonic() + 30
        while "stopped-sweep-20:" not in log.read_text() and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        worker.send_signal(signal.SIGTERM)
        assert worker.wait(timeout=20) == 0, log.read_text()[-3000:]
    finally:
        await pool.aclose()
        if worker.poll() is None:
            worker.kill()


def test_a_stop_that_interrupts_arqs_own_shutdown_still_closes_the_database():
    """The race the test above can only hit by chance (a job cancelled while it finishes
    makes arq's close() raise before ``on_shutdown``), played out on a stand-in worker."""
    closed: list[str] = []

    class Interrupted:
        loop = asyncio.new_event_loop()
        ctx = {"name": "worker"}

        def run(self) -> None:
            raise asyncio.CancelledError

        async def on_shutdown(self, ctx: dict) -> None:
            closed.append(ctx["name"])

    try:
        run_until_stopped(Interrupted())  # type: ignore[arg-type]
    finally:
        Interrupted.loop.close()
    assert closed == ["worker"]
