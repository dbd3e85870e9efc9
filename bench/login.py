"""Password logins under load, against a real `accord serve` with production argon2 settings.

    .venv/bin/python bench/login.py [--seconds 10] [--clients 32]

Prints `metric: value` lines. The baseline is measured in the same run, before and after the
load (this machine's speed drifts): the hash-bound limit is (cores / the time of one
argon2id verification with the server's parameters), the most logins/s any implementation
could reach here. Goals: login ratio >= 0.8, probe p99 < 25 ms (the API's event loop stays
responsive while it hashes). Always exits 0.

Also printed: the limit when every core hashes at once (argon2id is memory-hard, and
concurrent hashes slow each other down through the shared cache and memory bus), which is
what a server hashing on all cores can actually reach, and where the server's CPU went per
login: its event loop's thread (HTTP, GraphQL, limits, SQL, and the probe) and its other
threads (argon2, SQLite). The clients use `bench/load.py`'s light HTTP client on uvloop so
that the load generator takes as little CPU from the hashing as it can.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from argon2 import PasswordHasher, Type

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from accord.settings import load_settings  # noqa: E402
from bench.load import connect, exchange, fetch, request_bytes  # noqa: E402
from tests.processes import clean_env, free_port, wait_ready  # noqa: E402

PASSWORD = "correct horse battery staple"
LOGIN = "mutation($n: String!, $p: String!) { login(input: {accountName: $n, password: $p}) { token errors { code } } }"
REGISTER = 'mutation($n: String!, $p: String!) { register(input: {accountName: $n, password: $p, nickname: "B"}) { errors { code } } }'


def _hasher() -> PasswordHasher:
    defaults = load_settings()
    return PasswordHasher(
        time_cost=defaults.argon2_time_cost,
        memory_cost=defaults.argon2_memory_kib,
        parallelism=defaults.argon2_parallelism,
        type=Type.ID,
    )


def _post(body: dict) -> bytes:
    return request_bytes("POST", "/graphql", {}, body)


def one_hash_times(repeats: int = 20) -> list[float]:
    hasher = _hasher()
    stored = hasher.hash(PASSWORD)
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        hasher.verify(stored, PASSWORD)
        times.append(time.perf_counter() - started)
    return times


def thread_cpu_seconds(pid: int) -> tuple[float, float]:
    """CPU seconds of a process's main thread (the server's event loop) and of all its other
    threads (argon2 and SQLite), from /proc; zeros where there is none."""
    tick = os.sysconf("SC_CLK_TCK")
    main = rest = 0.0
    try:
        tasks = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return main, rest
    for tid in tasks:
        try:
            with open(f"/proc/{pid}/task/{tid}/stat") as stat:
                fields = stat.read().rpartition(")")[2].split()
        except OSError:
            continue
        seconds = (int(fields[11]) + int(fields[12])) / tick  # utime + stime
        if int(tid) == pid:
            main += seconds
        else:
            rest += seconds
    return main, rest


def concurrent_hash_seconds(threads: int, repeats: int = 20) -> float:
    """The time of one verification while ``threads`` verify at once (argon2-cffi releases
    the GIL, so the threads really run in parallel)."""
    hasher = _hasher()
    stored = hasher.hash(PASSWORD)

    def verify_all() -> float:
        started = time.perf_counter()
        for _ in range(repeats):
            hasher.verify(stored, PASSWORD)
        return (time.perf_counter() - started) / repeats

    with ThreadPoolExecutor(threads) as pool:
        return statistics.mean(pool.map(lambda _: verify_all(), range(threads)))


async def run(seconds: float, clients: int) -> None:
    # This machine's speed drifts (shared hosts): the baselines are measured before and
    # after the load, and the login rate is compared with their middle.
    cores = os.cpu_count() or 1
    single = one_hash_times()
    concurrent = [concurrent_hash_seconds(cores)]
    with tempfile.TemporaryDirectory() as tmp:
        env = clean_env(
            ACCORD_DATA_DIR=f"{tmp}/var",
            ACCORD_LOGIN_LIMIT_PER_ACCOUNT_AND_ADDRESS="1000000/minute",
            ACCORD_LOGIN_LIMIT_PER_ACCOUNT="1000000/minute",
            ACCORD_LOGIN_LIMIT_PER_ADDRESS="1000000/minute",
            ACCORD_LOG_LEVEL="WARNING",
        )
        # Production argon2 parameters, not the cheap ones tests use.
        env.pop("ACCORD_ARGON2_TIME_COST")
        env.pop("ACCORD_ARGON2_MEMORY_KIB")
        subprocess.run(
            [sys.executable, "-m", "accord", "migrate"],
            env=env,
            cwd=tmp,
            check=True,
            capture_output=True,
        )
        port = free_port()
        log = Path(tmp) / "server.log"
        server = subprocess.Popen(
            [sys.executable, "-m", "accord", "serve", "--port", str(port)],
            env=env,
            cwd=tmp,
            stdout=log.open("wb"),
            stderr=subprocess.STDOUT,
        )
        try:
            await asyncio.to_thread(wait_ready, port, server, log)
            names = [f"bench{i}" for i in range(clients)]
            for name in names:
                await fetch(
                    port, _post({"query": REGISTER, "variables": {"n": name, "p": PASSWORD}})
                )
            stop_at = time.perf_counter() + seconds
            logins = failures = 0
            probes: list[float] = []

            async def client(name: str) -> None:
                nonlocal logins, failures
                request = _post({"query": LOGIN, "variables": {"n": name, "p": PASSWORD}})
                reader, writer = await connect(port)
                try:
                    while time.perf_counter() < stop_at:
                        body = json.loads(await exchange(reader, writer, request))
                        if body["data"]["login"]["token"]:
                            logins += 1
                        else:
                            failures += 1
                finally:
                    writer.close()

            async def probe() -> None:
                request = _post({"query": "{ __typename }"})
                reader, writer = await connect(port)
                try:
                    while time.perf_counter() < stop_at:
                        started = time.perf_counter()
                        await exchange(reader, writer, request)
                        probes.append(time.perf_counter() - started)
                        await asyncio.sleep(0.02)
                finally:
                    writer.close()

            started = time.perf_counter()
            cpu_before = thread_cpu_seconds(server.pid)
            await asyncio.gather(probe(), *(client(n) for n in names))
            elapsed = time.perf_counter() - started
            cpu_after = thread_cpu_seconds(server.pid)
        finally:
            server.terminate()
            server.wait(timeout=30)
    single += one_hash_times()
    concurrent.append(concurrent_hash_seconds(cores))
    hash_s = statistics.median(single)
    bound = cores / hash_s
    concurrent_s = statistics.mean(concurrent)
    concurrent_bound = cores / concurrent_s
    rate = logins / elapsed
    probes.sort()
    p99 = probes[min(len(probes) - 1, int(len(probes) * 0.99))] * 1000 if probes else float("nan")
    print(f"cores: {cores}")
    print(f"argon2_verify_ms: {hash_s * 1000:.1f}")
    print(f"hash_bound_logins_per_s: {bound:.1f}")
    print(f"logins_per_s: {rate:.1f}")
    print(f"login_failures: {failures}")
    print(f"login_ratio_vs_hash_bound: {rate / bound:.2f}")
    print(f"argon2_verify_ms_all_cores_busy: {concurrent_s * 1000:.1f}")
    print(f"hash_bound_all_cores_logins_per_s: {concurrent_bound:.1f}")
    print(f"login_ratio_vs_all_cores_hash_bound: {rate / concurrent_bound:.2f}")
    if logins:
        loop_ms, other_ms = (
            (after - before) / logins * 1000
            for before, after in zip(cpu_before, cpu_after, strict=True)
        )
        # Where a login's CPU goes: the loop (HTTP, GraphQL, limits, SQL; the probe too)
        # and the other threads (argon2, SQLite).
        print(f"server_loop_cpu_ms_per_login: {loop_ms:.2f}")
        print(f"server_other_threads_cpu_ms_per_login: {other_ms:.2f}")
    print(f"probe_requests: {len(probes)}")
    print(f"probe_p50_ms: {statistics.median(probes) * 1000 if probes else float('nan'):.1f}")
    print(f"probe_p99_ms: {p99:.1f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--clients", type=int, default=32)
    args = parser.parse_args()
    try:
        # The load generator shares the cores that hash: on uvloop (installed with
        # uvicorn[standard]) it takes about half the CPU per request of asyncio's own loop.
        try:
            import uvloop
        except ImportError:
            asyncio.run(run(args.seconds, args.clients))
        else:
            uvloop.run(run(args.seconds, args.clients))
    except Exception as error:  # a benchmark reports, it does not fail the build
        print(f"error: {error!r}")


if __name__ == "__main__":
    main()
