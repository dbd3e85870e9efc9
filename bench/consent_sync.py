"""Offline consent sync throughput: 500-event `syncConsents` batches through the GraphQL API,
against a raw bulk insert of the same rows into the same database, in the same run.

    .venv/bin/python bench/consent_sync.py [--batches 40]

Runs on SQLite, and on PostgreSQL when one answers at DATABASE_URL (default
postgres://postgres@127.0.0.1:5432/test; a temporary database is created and dropped).
Prints `metric: value` lines; goal: `<db>_ratio_vs_raw_insert >= 0.5`. Always exits 0.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import secrets
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import asyncpg
import httpx
from asgi_lifespan import LifespanManager
from tortoise import connections

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from accord.cli.wiring import migrate_database  # noqa: E402
from accord.embedded_redis import EmbeddedRedis  # noqa: E402
from accord.logs import configure_logging  # noqa: E402
from accord.settings import load_settings  # noqa: E402
from accord.sqlite_backend import timestamp_text  # noqa: E402
from api.app import create_app  # noqa: E402
from models.consent.ledger import COLUMNS as EVENT_COLUMNS  # noqa: E402
from models.consent.ledger import truncate_address  # noqa: E402
from models.placeholders import placeholders  # noqa: E402

BATCH = 500
PURPOSES = ["personalization", "analytics", "advertising", "activity_log"]
SYNC = """mutation($input: SyncConsentsInput!) { syncConsents(input: $input) {
  results { status } cursor errors { code } } }"""
PUBLISH = """mutation { publishPolicy(input: {version: "bench-1", summary: "s", text: "t",
  effectiveAt: "2020-01-01T00:00:00Z", material: false}) { errors { code } } }"""


def batch_events(start: datetime) -> list[dict]:
    return [
        {
            "idempotencyKey": str(uuid.uuid4()),
            "purpose": PURPOSES[i % len(PURPOSES)],
            "granted": i % 3 != 0,
            "policyVersion": "bench-1",
            "clientTimestamp": (start + timedelta(milliseconds=i)).isoformat(),
            "source": "ANDROID",
        }
        for i in range(BATCH)
    ]


def raw_rows(batch: int, sqlite: bool) -> list[list]:
    """The rows of one batch as a sync stores them (in `EVENT_COLUMNS` order), made before
    the clock starts."""
    moment = datetime.now(UTC)
    stamp = timestamp_text(moment) if sqlite else moment
    subject = f"device:raw-{batch}-{secrets.token_hex(4)}"
    address = truncate_address("203.0.113.9")
    return [
        [
            subject,
            i + 1,
            "GRANTED",
            PURPOSES[i % 4],
            "bench-1",
            "ANDROID",
            "raw-device",
            stamp,
            stamp,
            str(uuid.uuid4()),
            "bench",
            address,
            "0" * 64,
            "",
            "f" * 64,
        ]
        for i in range(BATCH)
    ]


async def analyze() -> None:
    """Table statistics, as autovacuum keeps them on a live database. Without any, the plan
    PostgreSQL caches for a prepared lookup (after its fifth run) is costed for a near-empty
    table: a sequential scan, kept until the next ANALYZE, which autovacuum runs within about
    a minute of the first rows but not within this benchmark's seconds."""
    await connections.get("default").execute_script("ANALYZE")


async def run_batches(http: httpx.AsyncClient, batches: int) -> tuple[float, float]:
    """Raw inserts and syncs, one batch of each in turn, so that both meet the same table
    size and the same machine; returns (raw rows/s, synced events/s).

    The raw side is one transaction per batch with one prepared multi-row INSERT (what a
    sync's own INSERT is). Syncs go one after another, each with the cursor of the answer
    before. A phone serialises its batch on the phone: the JSON of every batch is made
    before the clock starts, and only the cursor is spliced in per call.
    """
    db = connections.get("default")
    sqlite = db.capabilities.dialect == "sqlite"
    marks = placeholders(db.capabilities.dialect, len(EVENT_COLUMNS))
    sql = f"INSERT INTO consent_event ({', '.join(EVENT_COLUMNS)}) VALUES ({marks})"
    raw = [raw_rows(b, sqlite) for b in range(batches)]
    start = datetime.now(UTC) - timedelta(hours=1)
    device = str(uuid.uuid4())  # as an app makes one (a device id acts as a secret)
    prefix = json.dumps({"query": SYNC})[:-1] + ', "variables": {"input": {"deviceId": '
    prefix += json.dumps(device) + ', "events": '
    encoded = [json.dumps(batch_events(start + timedelta(minutes=b))) for b in range(batches)]
    headers = {"content-type": "application/json"}
    cursor = None
    raw_seconds = sync_seconds = 0.0
    for rows, events in zip(raw, encoded, strict=True):
        started = time.perf_counter()
        async with db._in_transaction() as conn:
            await conn.execute_many(sql, rows)
        raw_seconds += time.perf_counter() - started

        started = time.perf_counter()
        body = f'{prefix}{events}, "since": {json.dumps(cursor)}}}}}}}'
        answer = (await http.post("/graphql", content=body, headers=headers)).json()
        sync_seconds += time.perf_counter() - started
        result = answer["data"]["syncConsents"]
        assert not result["errors"], result["errors"]
        assert all(r["status"] == "ACCEPTED" for r in result["results"])
        cursor = result["cursor"]
    return batches * BATCH / raw_seconds, batches * BATCH / sync_seconds


async def measure(name: str, database_url: str, redis_url: str, data_dir: str, batches: int):
    settings = load_settings(
        database_url=database_url,
        redis_url=redis_url,
        data_dir=data_dir,
        secret_key="bench-secret-" + "x" * 32,
        log_level="WARNING",
        max_body_bytes=16 * 1024 * 1024,
        max_tokens=100_000,
    )
    configure_logging(settings)  # as `accord serve` does: no line per request below WARNING
    await migrate_database(settings)
    app = create_app(settings, redis_url)
    async with LifespanManager(app) as manager:
        transport = httpx.ASGITransport(app=manager.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://bench") as http:
            from models.accounts.account import Account, Role, account_name_index

            await http.post(
                "/graphql",
                json={
                    "query": """mutation { register(input: {
                accountName: "bench.officer", password: "correct horse battery staple",
                nickname: "B"}) { token } }"""
                },
            )
            await Account.filter(
                account_name_index=await account_name_index("bench.officer")
            ).update(role=Role.PRIVACY_OFFICER)
            token = (
                await http.post(
                    "/graphql",
                    json={
                        "query": """mutation { login(input: {
                accountName: "bench.officer", password: "correct horse battery staple"})
                { token } }"""
                    },
                )
            ).json()["data"]["login"]["token"]
            await http.post(
                "/graphql", json={"query": PUBLISH}, headers={"authorization": f"Bearer {token}"}
            )
            await run_batches(http, 2)  # warm-up: caches, first chain rows
            await analyze()
            baseline, synced = await run_batches(http, batches)
    print(f"{name}_sync_events_per_s: {synced:.0f}")
    print(f"{name}_raw_insert_rows_per_s: {baseline:.0f}")
    print(f"{name}_ratio_vs_raw_insert: {synced / baseline:.2f}")


async def postgres_database(admin_url: str) -> tuple[str, str] | None:
    name = f"accord_bench_{secrets.token_hex(4)}"
    dsn = "postgresql://" + admin_url.split("://", 1)[1]
    try:
        admin = await asyncpg.connect(dsn, timeout=3)
    except (OSError, asyncpg.PostgresError):
        return None
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    base = admin_url.rsplit("/", 1)[0]
    return f"{base}/{name}", name


async def drop_database(admin_url: str, name: str) -> None:
    admin = await asyncpg.connect("postgresql://" + admin_url.split("://", 1)[1])
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await admin.close()


async def run(backend: str, batches: int) -> None:
    with tempfile.TemporaryDirectory() as tmp, EmbeddedRedis() as redis:
        if backend == "sqlite":
            await measure("sqlite", f"sqlite:///{tmp}/bench.sqlite3", redis.url, tmp, batches)
            return
        admin_url = os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/test")
        created = await postgres_database(admin_url)
        if created is None:
            print("postgres: unavailable")
            return
        url, name = created
        try:
            await measure("postgres", url, redis.url, tmp, batches)
        finally:
            await drop_database(admin_url, name)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batches", type=int, default=40)
    parser.add_argument("--backend", choices=["sqlite", "postgres"], help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.backend is None:
        # One process per database: an ORM initialised for one dialect stays that dialect.
        print(f"batch_size: {BATCH}")
        print(f"batches: {args.batches}")
        for backend in ("sqlite", "postgres"):
            subprocess.run(
                [sys.executable, __file__, "--backend", backend, "--batches", str(args.batches)],
                check=False,
            )
        return
    logging.disable(logging.INFO)
    try:
        asyncio.run(run(args.backend, args.batches))
    except Exception as error:  # a benchmark reports, it does not fail the build
        print(f"{args.backend}_error: {error!r}")


if __name__ == "__main__":
    main()
