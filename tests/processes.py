"""Starting real Accord processes (``accord dev``, ``serve``, ``worker``) from tests."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def clean_env(**extra: str) -> dict[str, str]:
    """The environment of a newcomer: none of our variables, plus ``extra``."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("ACCORD_", "TEST_")) and k not in ("DATABASE_URL", "REDIS_URL")
    }
    env.update({"ACCORD_ARGON2_TIME_COST": "1", "ACCORD_ARGON2_MEMORY_KIB": "8192"})
    env.update(extra)
    return env


def accord(*args: str, cwd: Path, env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("ab") as handle:  # the child keeps its own copy of the descriptor
        return subprocess.Popen(
            [sys.executable, "-m", "accord", *args],
            cwd=cwd,
            env=env,
            stdout=handle,
            stderr=subprocess.STDOUT,
        )


def wait_ready(
    port: int, process: subprocess.Popen[bytes], log: Path, timeout: float = 180
) -> None:
    """Until /readyz answers 200; a busy CI machine (two cores, a demo running) can take
    a minute or more to start `accord dev`."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"process exited early:\n{log.read_text()}")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise AssertionError(f"not ready within {timeout} s:\n{log.read_text()}")


def stop(process: subprocess.Popen[bytes], timeout: float = 30) -> int:
    if process.poll() is None:
        process.terminate()
    return process.wait(timeout=timeout)
