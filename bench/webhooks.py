"""Consent webhook delivery: consent changes/s delivered to a local receiver through Accord's
delivery job (claim, sign, POST, mark), next to the raw rate of the same receiver alone
(the same signed bodies POSTed straight with httpx at the same concurrency), in one run.

    .venv/bin/python bench/webhooks.py [--slices 6] [--events 400]

Both sides run in turn, slice after slice, so they meet the same machine and the same
table size. Each slice records `--events` decisions (for a quarter as many subjects: four
each, in order) outside the clock, then times the job delivering them all. The receiver is
a process of its own (uvicorn, Starlette) that checks every signature as a processor would;
its CPU per event is reported for both sides, and the CPU of the process running the job
for Accord's. Runs on SQLite, and on PostgreSQL when one answers at DATABASE_URL. Prints
`metric: value` lines (median and spread over slices). Always exits 0.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

import httpx
import psutil

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


SECRET = "whsec_" + "YmVuY2ggc2VjcmV0IG9mIDI0IGJ5dGVz"  # 24 bytes, base64
PURPOSES = ["analytics", "advertising"]
EVENTS_PER_SUBJECT = 4


def receiver_app():  # pragma: no cover - runs in the receiver process
    from standardwebhooks.webhooks import Webhook
    from starlette.applications import Starlette
    from starlette.responses import Response
    from starlette.routing import Route

    verifier = Webhook(SECRET)

    async def receive(request):
        verifier.verify(await request.body(), dict(request.headers))
        return Response(status_code=204)

    return Starlette(routes=[Route("/consent", receive, methods=["POST"])])


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start_receiver(port: int) -> subprocess.Popen:
    process = subprocess.Popen(
        [sys.executable, __file__, "--receiver", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    for _ in range(300):
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return process
        except OSError:
            time.sleep(0.05)
    process.kill()
    raise RuntimeError("the receiver did not start")


def cpu_seconds(process: psutil.Process) -> float:
    times = process.cpu_times()
    return times.user + times.system


async def record_changes(slice_no: int, events: int) -> None:
    """``events`` decisions for ``events / 4`` subjects, each subject's in order."""
    from models.consent.ledger import EventKind, NewEvent, Source, append

    subjects = max(1, events // EVENTS_PER_SUBJECT)
    for s in range(subjects):
        batch = [
            NewEvent(
                kind=EventKind.GRANTED if i % 2 == 0 else EventKind.WITHDRAWN,
                source=Source.WEB,
                idempotency_key=str(uuid.uuid4()),
                client_timestamp=datetime.now(UTC),
                purpose_code=PURPOSES[i % len(PURPOSES)],
                policy_version="bench-1",
            )
            for i in range(EVENTS_PER_SUBJECT)
        ]
        await append(f"account:{slice_no * 100_000 + s}", batch, reload=False)


async def measure(name: str, database_url: str, redis_url: str, data_dir: str, args) -> None:
    # Imported here: the receiver process (this file too) needs none of Accord.
    from accord.cli.wiring import migrate_database
    from accord.logs import configure_logging
    from accord.settings import load_settings
    from api.app import create_app
    from models.webhooks import outbox, signing
    from models.webhooks.endpoints import ConsentWebhook
    from workers.webhooks import deliver_consent_webhooks

    settings = load_settings(
        database_url=database_url,
        redis_url=redis_url,
        data_dir=data_dir,
        secret_key="bench-secret-" + "x" * 32,
        log_level="WARNING",
        webhook_allow_local_http=True,
    )
    configure_logging(settings)
    await migrate_database(settings)
    port = free_port()
    receiver = start_receiver(port)
    receiver_process = psutil.Process(receiver.pid)
    own = psutil.Process()
    url = f"http://127.0.0.1:{port}/consent"
    from asgi_lifespan import LifespanManager

    app = create_app(settings, redis_url)
    accord_rates, raw_rates = [], []
    accord_receiver_cpu, raw_receiver_cpu, job_cpu = [], [], []
    try:
        async with LifespanManager(app):  # the ORM and the key ring, as in a worker
            await ConsentWebhook.create(url=url, purposes=PURPOSES, secret=SECRET)
            limits = httpx.Limits(max_connections=None, max_keepalive_connections=None)
            async with httpx.AsyncClient(limits=limits, timeout=10) as client:
                gate = asyncio.Semaphore(settings.webhook_concurrency)

                async def post(content: str, headers: dict[str, str]) -> None:
                    async with gate:
                        response = await client.post(url, content=content, headers=headers)
                        response.raise_for_status()

                for slice_no in range(args.slices + 1):  # the first warms up, unrecorded
                    await record_changes(slice_no, args.events)
                    before_r, before_j = cpu_seconds(receiver_process), cpu_seconds(own)
                    started = time.perf_counter()
                    delivered = await deliver_consent_webhooks({"settings": settings})
                    seconds = time.perf_counter() - started
                    after_r, after_j = cpu_seconds(receiver_process), cpu_seconds(own)
                    assert delivered == args.events, (delivered, args.events)

                    # The raw side: the bodies this slice delivered, signed beforehand.
                    rows = await outbox.WebhookDelivery.filter(
                        sequence__gt=slice_no * args.events
                    ).order_by("sequence")
                    signed = []
                    for row in rows:
                        text = outbox.body(row)
                        headers = signing.headers(SECRET, row.message_id, datetime.now(UTC), text)
                        signed.append((text, headers))
                    raw_before = cpu_seconds(receiver_process)
                    raw_started = time.perf_counter()
                    await asyncio.gather(*(post(text, headers) for text, headers in signed))
                    raw_seconds = time.perf_counter() - raw_started
                    raw_after = cpu_seconds(receiver_process)
                    if slice_no == 0:
                        continue
                    accord_rates.append(args.events / seconds)
                    raw_rates.append(len(signed) / raw_seconds)
                    accord_receiver_cpu.append((after_r - before_r) / args.events * 1000)
                    job_cpu.append((after_j - before_j) / args.events * 1000)
                    raw_receiver_cpu.append((raw_after - raw_before) / len(signed) * 1000)
    finally:
        receiver.terminate()
        receiver.wait(10)

    def line(metric: str, values: list[float], digits: int = 0) -> None:
        spread = max(values) - min(values)
        print(f"{name}_{metric}: {statistics.median(values):.{digits}f}")
        print(f"{name}_{metric}_spread: {spread:.{digits}f}")

    line("accord_delivered_events_per_s", accord_rates)
    line("raw_receiver_events_per_s", raw_rates)
    ratios = [a / r for a, r in zip(accord_rates, raw_rates, strict=True)]
    line("ratio_vs_raw", ratios, 2)
    line("accord_job_cpu_ms_per_event", job_cpu, 3)
    line("accord_receiver_cpu_ms_per_event", accord_receiver_cpu, 3)
    line("raw_receiver_cpu_ms_per_event", raw_receiver_cpu, 3)


async def run(backend: str, args) -> None:
    from accord.embedded_redis import EmbeddedRedis
    from bench.consent_sync import drop_database, postgres_database

    with tempfile.TemporaryDirectory() as tmp, EmbeddedRedis() as redis:
        if backend == "sqlite":
            await measure("sqlite", f"sqlite:///{tmp}/bench.sqlite3", redis.url, tmp, args)
            return
        admin_url = os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/test")
        created = await postgres_database(admin_url)
        if created is None:
            print("postgres: unavailable")
            return
        url, db_name = created
        try:
            await measure("postgres", url, redis.url, tmp, args)
        finally:
            await drop_database(admin_url, db_name)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--slices", type=int, default=6)
    parser.add_argument("--events", type=int, default=400)
    parser.add_argument("--backend", choices=["sqlite", "postgres"], help=argparse.SUPPRESS)
    parser.add_argument("--receiver", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.receiver is not None:
        import uvicorn

        uvicorn.run(receiver_app(), host="127.0.0.1", port=args.receiver, log_level="warning")
        return
    if args.backend is None:
        # One process per database: an ORM initialised for one dialect stays that dialect.
        print(f"events_per_slice: {args.events}")
        print(f"slices: {args.slices}")
        sizes = ["--slices", str(args.slices), "--events", str(args.events)]
        for backend in ("sqlite", "postgres"):
            subprocess.run([sys.executable, __file__, "--backend", backend, *sizes], check=False)
        return
    logging.disable(logging.INFO)
    try:
        asyncio.run(run(args.backend, args))
    except Exception as error:  # a benchmark reports, it does not fail the build
        print(f"{args.backend}_error: {error!r}")


if __name__ == "__main__":
    main()
