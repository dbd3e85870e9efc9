"""Password logins under load, against a real `accord serve` with production argon2 settings.

    .venv/bin/python bench/login.py [--seconds 10] [--clients 32]

Prints `metric: value` lines. The baseline is measured in the same run, before and after the
load (this machine's speed drifts): the hash-bound limit is (cores / the time of one
argon2id verification with the server's parameters), the most logins/s any implementation
could reach here. Goals: login ratio >= 0.8, probe p99 < 25 ms (the API's event loop stays
responsive while it hashes). Always exits 0.

With TOTP enrolled (the same run, against the same server): accounts with an authenticator
sign in in two steps, `login` (argon2id, then a challenge row) and `completeSignIn` (the
challenge, a TOTP code, a session). Rounds alternate a batch of first steps with the batch of
second steps that completes them, so machine drift hits both alike; printed per step:
requests/s under the same 32 clients and the server's CPU per request (event loop and other
threads), and the second step's CPU as a fraction of the first's. Every account completes
one sign-in in the run (a TOTP code is accepted once, and an account's next code comes 30 s
later), so the accounts are made beforehand, `--totp-rounds` x `--totp-batch` of them.

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
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pyotp
from argon2 import PasswordHasher, Type

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from accord.settings import load_settings  # noqa: E402
from bench.load import connect, exchange, fetch, request_bytes  # noqa: E402
from tests.processes import clean_env, free_port, wait_ready  # noqa: E402

PASSWORD = "correct horse battery staple"
LOGIN = "mutation($n: String!, $p: String!) { login(input: {accountName: $n, password: $p}) { token errors { code } } }"
REGISTER = 'mutation($n: String!, $p: String!) { register(input: {accountName: $n, password: $p, nickname: "B"}) { errors { code } } }'
REGISTER_TOKEN = 'mutation($n: String!, $p: String!) { register(input: {accountName: $n, password: $p, nickname: "B"}) { token errors { code } } }'
ENROLL = "mutation { enrollTotp { secret errors { code } } }"
CONFIRM = "mutation($c: String!) { confirmTotp(input: {code: $c}) { errors { code } } }"
FIRST_STEP = "mutation($n: String!, $p: String!) { login(input: {accountName: $n, password: $p}) { token secondFactor { challenge } errors { code } } }"
SECOND_STEP = "mutation($c: String!, $t: String!) { completeSignIn(input: {challenge: $c, totpCode: $t}) { token errors { code } } }"


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


def _post_as(token: str, body: dict) -> bytes:
    return request_bytes("POST", "/graphql", {"authorization": f"Bearer {token}"}, body)


async def each(port: int, requests: list[bytes], clients: int) -> tuple[float, list[dict]]:
    """Send every request once, ``clients`` at a time over keep-alive connections; the
    elapsed seconds and the answers, in order."""
    answers: list[dict] = [{}] * len(requests)
    position = 0

    async def client() -> None:
        nonlocal position
        reader, writer = await connect(port)
        try:
            while position < len(requests):
                mine, position = position, position + 1
                answers[mine] = json.loads(await exchange(reader, writer, requests[mine]))
        finally:
            writer.close()

    started = time.perf_counter()
    await asyncio.gather(*(client() for _ in range(min(clients, len(requests)))))
    return time.perf_counter() - started, answers


@dataclass
class StepCost:
    requests: int = 0
    seconds: float = 0.0
    loop_cpu: float = 0.0
    other_cpu: float = 0.0
    failures: int = 0

    async def measure(self, pid: int, port: int, requests: list[bytes], clients: int) -> list[dict]:
        before = thread_cpu_seconds(pid)
        elapsed, answers = await each(port, requests, clients)
        after = thread_cpu_seconds(pid)
        self.requests += len(requests)
        self.seconds += elapsed
        self.loop_cpu += after[0] - before[0]
        self.other_cpu += after[1] - before[1]
        return answers

    def report(self, name: str) -> list[str]:
        n = max(self.requests, 1)
        return [
            f"totp_{name}_requests: {self.requests}",
            f"totp_{name}_per_s: {self.requests / self.seconds if self.seconds else 0:.1f}",
            f"totp_{name}_server_loop_cpu_ms: {self.loop_cpu / n * 1000:.2f}",
            f"totp_{name}_server_other_threads_cpu_ms: {self.other_cpu / n * 1000:.2f}",
            f"totp_{name}_failures: {self.failures}",
        ]


async def enrolled_accounts(port: int, count: int, clients: int) -> list[tuple[str, str, int]]:
    """``count`` accounts with a confirmed authenticator: (name, secret, the step of the
    code that confirmed it)."""
    names = [f"totp{i}" for i in range(count)]
    _, registered = await each(
        port,
        [_post({"query": REGISTER_TOKEN, "variables": {"n": n, "p": PASSWORD}}) for n in names],
        clients,
    )
    tokens = [r["data"]["register"]["token"] for r in registered]
    _, enrolled = await each(port, [_post_as(t, {"query": ENROLL}) for t in tokens], clients)
    secrets = [e["data"]["enrollTotp"]["secret"] for e in enrolled]
    steps = [pyotp.TOTP(secret).timecode(datetime.now(UTC)) for secret in secrets]
    confirms = [
        _post_as(t, {"query": CONFIRM, "variables": {"c": pyotp.TOTP(s).generate_otp(step)}})
        for t, s, step in zip(tokens, secrets, steps, strict=True)
    ]
    _, confirmed = await each(port, confirms, clients)
    for answer in confirmed:
        if answer["data"]["confirmTotp"]["errors"]:
            raise RuntimeError(f"confirmTotp: {answer}")
    return list(zip(names, secrets, steps, strict=True))


async def totp_sign_ins(pid: int, port: int, rounds: int, batch: int, clients: int) -> list[str]:
    """Two-step sign-ins, first and second steps measured apart in alternating rounds."""
    accounts = await enrolled_accounts(port, rounds * batch, clients)
    first, second = StepCost(), StepCost()
    for index in range(rounds):
        group = accounts[index * batch : (index + 1) * batch]
        started = await first.measure(
            pid,
            port,
            [
                _post({"query": FIRST_STEP, "variables": {"n": n, "p": PASSWORD}})
                for n, _, _ in group
            ],
            clients,
        )
        challenges = []
        for answer, (_, secret, used) in zip(started, group, strict=True):
            login = answer["data"]["login"]
            if login["secondFactor"] is None:
                first.failures += 1
                continue
            totp = pyotp.TOTP(secret)
            # A step after the one that confirmed it (the server takes the next one too).
            step = max(used + 1, totp.timecode(datetime.now(UTC)))
            code = totp.generate_otp(step)
            challenges.append(
                _post(
                    {
                        "query": SECOND_STEP,
                        "variables": {"c": login["secondFactor"]["challenge"], "t": code},
                    }
                )
            )
        done = await second.measure(pid, port, challenges, clients)
        second.failures += sum(1 for d in done if not d["data"]["completeSignIn"]["token"])
    lines = [*first.report("first_step"), *second.report("second_step")]
    both = first.loop_cpu + first.other_cpu
    if both and first.requests and second.requests:
        per_second = (second.loop_cpu + second.other_cpu) / second.requests
        lines.append(
            f"totp_second_step_cpu_vs_first_step: {per_second / (both / first.requests):.2f}"
        )
    if first.seconds and second.seconds:
        sign_ins = min(first.requests, second.requests)
        lines.append(f"totp_sign_ins_per_s: {sign_ins / (first.seconds + second.seconds):.1f}")
    return lines


async def run(seconds: float, clients: int, totp_rounds: int, totp_batch: int) -> None:
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
            totp_lines: list[str] = []
            if totp_rounds and totp_batch:
                try:
                    totp_lines = await totp_sign_ins(
                        server.pid, port, totp_rounds, totp_batch, clients
                    )
                except Exception as error:  # the password figures still print
                    totp_lines = [f"totp_error: {error!r}"]
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
    for line in totp_lines:
        print(line)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--totp-rounds", type=int, default=4, help="0: no TOTP sign-ins")
    parser.add_argument("--totp-batch", type=int, default=200)
    args = parser.parse_args()
    work = (args.seconds, args.clients, args.totp_rounds, args.totp_batch)
    try:
        # The load generator shares the cores that hash: on uvloop (installed with
        # uvicorn[standard]) it takes about half the CPU per request of asyncio's own loop.
        try:
            import uvloop
        except ImportError:
            asyncio.run(run(*work))
        else:
            uvloop.run(run(*work))
    except Exception as error:  # a benchmark reports, it does not fail the build
        print(f"error: {error!r}")


if __name__ == "__main__":
    main()
