"""What sealing personal fields costs: the same requests against Accord before and after.

    .venv/bin/python bench/sealing.py [--baseline 31c7b41] [--slices 6] [--seconds 3]

Two `accord serve` processes run side by side, each on its own SQLite file: this checkout
(account fields sealed under per-account keys, found by blind indexes) and the baseline
commit (default: the last one before sealed fields), checked out into a temporary git
worktree and run from the same virtualenv. Both are set up through their public API alone
(an account with a profile, 50 favorites and 50 feedback items, a privacy officer and a
policy). Then slices alternate, baseline then sealed, for each of:

- viewer: the viewer page (account fields, favorites, feedback) by 16 keep-alive clients;
- login: password logins with the production argon2 parameters (argon2 dominates);
- sync: a signed-in `syncConsents` of 500 events (the session opens the account).

Printed per measure and side: requests/s and the server's CPU per request (user + system
time of the server process, all threads, read from /proc around each slice), as medians
over the slices with their spread; then the sealed/baseline ratios of throughput and of CPU
(baseline CPU / sealed CPU, so 1.0 means free). Goal: each >= 0.85. Always exits 0.
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
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.consent_sync import SYNC, batch_events  # noqa: E402
from bench.load import fetch, hammer, pin_server, pinned_load, request_bytes  # noqa: E402
from tests.processes import clean_env, free_port, wait_ready  # noqa: E402

PASSWORD = "correct horse battery staple"
OFFICER_PASSWORD = "violet-harbour-42-quietly"
VIEWER = """{ viewer { id accountName nickname avatarUrl gender region signature
  favorites(first: 50) { edges { node { id itemType itemId note createdAt } } }
  feedback(first: 50) { edges { node { id kind subject body rating visibility createdAt } } } } }"""
LOGIN = """mutation { login(input: {accountName: "bench.viewer",
  password: "correct horse battery staple"}) { token errors { code } } }"""
TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """User + system time of the process and all its threads so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


class Side:
    """One Accord, from one checkout, with its own data and server."""

    def __init__(self, name: str, checkout: Path, tmp: Path) -> None:
        self.name, self.checkout = name, checkout
        self.var = tmp / name / "var"
        self.var.mkdir(parents=True)
        self.port = free_port()
        self.env = clean_env(
            ACCORD_DATA_DIR=str(self.var),
            ACCORD_LOG_LEVEL="WARNING",
            ACCORD_LOGIN_LIMIT_PER_ACCOUNT_AND_ADDRESS="1000000/minute",
            ACCORD_LOGIN_LIMIT_PER_ACCOUNT="1000000/minute",
            ACCORD_LOGIN_LIMIT_PER_ADDRESS="1000000/minute",
            ACCORD_STAFF_PASSWORD=OFFICER_PASSWORD,
            PYTHONPATH=str(checkout),
        )
        self.env.pop("ACCORD_ARGON2_TIME_COST")  # production hashing, as a login costs
        self.env.pop("ACCORD_ARGON2_MEMORY_KIB")
        self.process: subprocess.Popen[bytes] | None = None
        self.samples: dict[str, list[tuple[float, float]]] = {}

    def accord(self, *args: str) -> None:
        command = [sys.executable, "-c", "from accord.cli.main import main; main()", *args]
        subprocess.run(command, env=self.env, cwd=self.checkout, check=True, capture_output=True)

    def start(self) -> None:
        self.accord("migrate")
        self.accord("create-staff", "--account-name", "bench.officer", "--role", "PRIVACY_OFFICER")
        log = self.var / "server.log"
        command = [sys.executable, "-c", "from accord.cli.main import main; main()"]
        self.process = subprocess.Popen(
            [*command, "serve", "--port", str(self.port)],
            env=self.env,
            cwd=self.checkout,
            stdout=log.open("wb"),
            stderr=subprocess.STDOUT,
            preexec_fn=pin_server,
        )
        wait_ready(self.port, self.process, log)

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait()

    def measure(self, name: str, run: Callable[[], float]) -> None:
        assert self.process is not None
        before, started = cpu_seconds(self.process.pid), time.perf_counter()
        requests = run()
        elapsed, cpu = time.perf_counter() - started, cpu_seconds(self.process.pid) - before
        self.samples.setdefault(name, []).append((requests / elapsed, cpu / requests * 1000))


async def gql(http: httpx.AsyncClient, query: str, token: str | None = None, **variables):
    headers = {"authorization": f"Bearer {token}"} if token else {}
    body = (
        await http.post("/graphql", json={"query": query, "variables": variables}, headers=headers)
    ).json()
    assert "errors" not in body, body
    return body["data"]


async def setup(side: Side) -> str:
    """The viewer's account, its content and a policy to consent to; returns its token."""
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{side.port}", timeout=60) as http:
        registered = await gql(
            http,
            """mutation { register(input: {accountName: "bench.viewer",
            password: "correct horse battery staple", nickname: "Bench",
            avatarUrl: "https://img.example/a.png", region: "FR", signature: "hello"}) {
            token errors { code } } }""",
        )
        token = registered["register"]["token"]
        for i in range(50):
            await gql(
                http,
                f"""mutation {{ addFavorite(input: {{itemType: "product", itemId: "p{i}",
                note: "n{i}"}}) {{ errors {{ code }} }} }}""",
                token,
            )
            await gql(
                http,
                f"""mutation {{ submitFeedback(input: {{kind: COMMENT, subject: "s",
                body: "body {i}", visibility: PUBLIC}}) {{ errors {{ code }} }} }}""",
                token,
            )
        officer = await gql(
            http,
            f"""mutation {{ login(input: {{accountName: "bench.officer",
            password: "{OFFICER_PASSWORD}"}}) {{ token }} }}""",
        )
        published = await gql(
            http,
            """mutation { publishPolicy(input: {version: "bench-1", summary: "s", text: "t",
            effectiveAt: "2020-01-01T00:00:00Z", material: false}) { errors { code } } }""",
            officer["login"]["token"],
        )
        assert published["publishPolicy"]["errors"] == [], published
    return token


def sync_requests(token: str, batches: int) -> list[bytes]:
    """Signed-in syncs of 500 events each (``bench/consent_sync.py``'s batches), made
    before the clock starts."""
    start = datetime.now(UTC) - timedelta(days=1)
    device = str(uuid.uuid4())
    auth = {"authorization": f"Bearer {token}"}
    return [
        request_bytes(
            "POST",
            "/graphql",
            auth,
            {
                "query": SYNC,
                "variables": {
                    "input": {
                        "deviceId": device,
                        "events": batch_events(start + timedelta(minutes=b)),
                    }
                },
            },
        )
        for b in range(batches)
    ]


def run(baseline: str, slices: int, seconds: float) -> None:
    with tempfile.TemporaryDirectory() as directory:
        tmp = Path(directory)
        worktree = tmp / "baseline-checkout"
        subprocess.run(
            ["git", "-C", str(ROOT), "worktree", "add", "--detach", str(worktree), baseline],
            check=True,
            capture_output=True,
        )
        sides = [Side("baseline", worktree, tmp), Side("sealed", ROOT, tmp)]
        try:
            for side in sides:
                side.start()
            tokens = {side.name: asyncio.run(setup(side)) for side in sides}
            syncs = {side.name: sync_requests(tokens[side.name], slices * 4) for side in sides}
            viewer = {
                s.name: request_bytes(
                    "POST",
                    "/graphql",
                    {"authorization": f"Bearer {tokens[s.name]}"},
                    {"query": VIEWER},
                )
                for s in sides
            }
            login = request_bytes("POST", "/graphql", {}, {"query": LOGIN})
            for side in sides:  # the same answers, and a warm cache
                answer = json.loads(asyncio.run(fetch(side.port, viewer[side.name])))
                assert answer["data"]["viewer"]["nickname"] == "Bench", answer
                asyncio.run(hammer(side.port, viewer[side.name], 1, 8))
            for index in range(slices):
                for side in sides:
                    batch = syncs[side.name][index * 4 : index * 4 + 4]
                    with pinned_load():
                        one_slice(side, viewer[side.name], login, batch, seconds)
        finally:
            for side in sides:
                side.stop()
            subprocess.run(
                ["git", "-C", str(ROOT), "worktree", "remove", "--force", str(worktree)],
                capture_output=True,
            )
    report(sides)


def one_slice(side: Side, viewer: bytes, login: bytes, sync: list[bytes], seconds: float) -> None:
    port = side.port
    side.measure("viewer", lambda: seconds * asyncio.run(hammer(port, viewer, seconds, 16)))
    side.measure("login", lambda: seconds * asyncio.run(hammer(port, login, seconds, 4)))
    side.measure("sync", lambda: _sync(port, sync))


def _sync(port: int, batch: list[bytes]) -> int:
    for request in batch:
        answer = json.loads(asyncio.run(fetch(port, request)))
        result = answer["data"]["syncConsents"]
        assert not result["errors"] and result["results"][0]["status"] == "ACCEPTED", result
    return len(batch)


def report(sides: list[Side]) -> None:
    baseline, sealed = sides
    print(f"slices: {len(baseline.samples['viewer'])}")
    for name in ("viewer", "login", "sync"):
        unit = "requests" if name != "sync" else "batches_of_500"
        for side in sides:
            rates = [r for r, _ in side.samples[name]]
            cpus = [c for _, c in side.samples[name]]
            print(
                f"{name}_{side.name}_{unit}_per_s: {statistics.median(rates):.1f} "
                f"(spread {min(rates):.1f}-{max(rates):.1f})"
            )
            print(
                f"{name}_{side.name}_cpu_ms_per_request: {statistics.median(cpus):.3f} "
                f"(spread {min(cpus):.3f}-{max(cpus):.3f})"
            )
        throughput = [
            s[0] / b[0] for b, s in zip(baseline.samples[name], sealed.samples[name], strict=True)
        ]
        cpu = [
            b[1] / s[1] for b, s in zip(baseline.samples[name], sealed.samples[name], strict=True)
        ]
        print(f"{name}_throughput_ratio_sealed_vs_before: {statistics.median(throughput):.2f}")
        print(
            f"{name}_cpu_ratio_sealed_vs_before: {statistics.median(cpu):.2f} "
            f"(spread {min(cpu):.2f}-{max(cpu):.2f})"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--baseline", default="31c7b41", help="the commit before sealing")
    parser.add_argument("--slices", type=int, default=6)
    parser.add_argument("--seconds", type=float, default=3)
    args = parser.parse_args()
    try:
        run(args.baseline, args.slices, args.seconds)
    except Exception as error:  # a benchmark reports, it does not fail the build
        print(f"error: {error!r}")


if __name__ == "__main__":
    main()
