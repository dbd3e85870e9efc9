"""``accord dev`` tells its embedded Redis, so that ``accord worker --check``, arq's own CLI
and ``accord status`` can reach the worker it runs (issue 18)."""

from __future__ import annotations

import re
import subprocess
import sys
import time

import pytest

from tests.processes import accord, clean_env, free_port, stop, wait_ready

pytestmark = pytest.mark.slow


def _run(*args: str, env: dict[str, str], cwd) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", *args], env=env, cwd=cwd, capture_output=True, text=True, timeout=60
    )


def test_the_worker_of_accord_dev_answers_the_health_check_at_the_printed_url(tmp_path):
    port = free_port()
    log = tmp_path / "dev.log"
    process = accord("dev", "--port", str(port), cwd=tmp_path, env=clean_env(), log=log)
    try:
        wait_ready(port, process, log, timeout=240)  # a fresh database is migrated first
        found = re.search(r"^Redis: (unix://\S+)", log.read_text(), re.MULTILINE)
        assert found, log.read_text()
        env = clean_env(ACCORD_REDIS_URL=found.group(1))
        # Without the URL there is nothing to check against.
        assert _run("accord", "worker", "--check", env=clean_env(), cwd=tmp_path).returncode == 2
        deadline = time.monotonic() + 60
        while (check := _run("accord", "worker", "--check", env=env, cwd=tmp_path)).returncode:
            assert time.monotonic() < deadline, (check.stdout, check.stderr, log.read_text())
            time.sleep(0.5)  # the worker records its health once started
        arq_cli = _run(
            "arq",
            "--check",
            "workers.main.WorkerSettings",
            env={**env, "REDIS_URL": found.group(1)},
            cwd=tmp_path,
        )
        assert arq_cli.returncode == 0, arq_cli.stderr
        status = _run("accord", "status", env={**env, "COLUMNS": "200"}, cwd=tmp_path)
        assert status.returncode == 0, status.stdout + status.stderr
        assert re.search(r"Workers\s+│\s+alive\s+│\s+1", status.stdout), status.stdout
    finally:
        stopped = stop(process)
    assert stopped == 0, log.read_text()
    # Redis went with it: the check now fails.
    assert _run("accord", "worker", "--check", env=env, cwd=tmp_path).returncode == 1
