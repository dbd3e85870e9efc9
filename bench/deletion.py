"""Account deletion cost: deletions/s, and whether one deletion's time grows with the table.

    .venv/bin/python bench/deletion.py [--targets 20] [--large 50000]

Each target account holds about 100 rows of personal data (favorites, search and click
records, consent events, notifications, sessions, feedback). The same deletion
(``models.rights.deletion.run_deletion``, what the worker job runs) is timed with 1,000 other
accounts in the database and again with ``--large`` others, each with rows of its own in
the same tables. Goal: ``ratio_large_vs_small <= 1.5`` (cost grows with the account's own
data, not with the tables). Runs on SQLite, and on PostgreSQL when one answers at
DATABASE_URL (default postgres://postgres@127.0.0.1:5432/test; a temporary database is
created and dropped). Prints `metric: value` lines; always exits 0.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

from tortoise import connections
from tortoise.context import TortoiseContext

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from accord.cli.wiring import migrate_database  # noqa: E402
from accord.database import tortoise_config  # noqa: E402
from accord.settings import load_settings  # noqa: E402
from bench.consent_sync import drop_database, postgres_database  # noqa: E402
from models.accounts.sessions import COLUMNS as SESSION_COLUMNS  # noqa: E402
from models.consent.ledger import COLUMNS as EVENT_COLUMNS  # noqa: E402
from models.keys import key_ring  # noqa: E402
from models.personal.storage import LocalStorage  # noqa: E402
from models.placeholders import placeholders  # noqa: E402
from models.rights.deletion import DeletionOutcome, run_deletion  # noqa: E402

SMALL = 1_000


async def insert(table: str, columns: Sequence[str], rows: list[list]) -> None:
    if not rows:
        return
    db = connections.get("default")
    sql = (
        f"INSERT INTO {table} ({', '.join(columns)}) "
        f"VALUES ({placeholders(db.capabilities.dialect, len(columns))})"
    )
    for start in range(0, len(rows), 5000):
        async with db._in_transaction() as conn:
            await conn.execute_many(sql, rows[start : start + 5000])


async def add_accounts(first_id: int, count: int, rows_each: int, *, pending: bool) -> list[int]:
    """Accounts with ``rows_each`` rows spread over the personal-data tables."""
    moment = datetime.now(UTC)
    past = moment - timedelta(minutes=1)
    ids = list(range(first_id, first_id + count))
    status = "PENDING_DELETION" if pending else "ACTIVE"
    await insert(
        "account",
        [
            "id",
            "account_name",
            "nickname",
            "gender",
            "signature",
            "role",
            "status",
            "created_at",
            "updated_at",
            "deletion_due_at",
        ],
        [
            [
                i,
                f"user{i}",
                f"User {i}",
                "UNDISCLOSED",
                "",
                "USER",
                status,
                moment,
                moment,
                past if pending else None,
            ]
            for i in ids
        ],
    )
    share = max(1, rows_each // 6)
    favorites, searches, clicks, events, notes, sessions = [], [], [], [], [], []
    for i in ids:
        for n in range(share):
            favorites.append([i, "product", f"p{n}", "", moment])
            searches.append([i, None, f"query {n}", "", "", moment])
            clicks.append([i, None, f"https://shop.example/{n}", "", "", moment])
            events.append(
                [
                    f"account:{i}",
                    n + 1,
                    "GRANTED",
                    "analytics",
                    "v1",
                    "WEB",
                    None,
                    moment,
                    moment,
                    str(uuid.uuid4()),
                    "",
                    "",
                    "0" * 64,
                    "",
                    "f" * 64,
                ]
            )
            notes.append(
                [
                    i,
                    "ACCOUNT_CANCELLED",
                    "IN_APP",
                    "t",
                    "b",
                    moment,
                    moment,
                    None,
                    "SENT",
                    0,
                    False,
                    "",
                ]
            )
            sessions.append(
                [
                    str(uuid.uuid4()),
                    i,
                    secrets.token_hex(32),
                    moment,
                    moment,
                    moment,
                    moment + timedelta(days=1),
                    "",
                ]
            )
    await insert(
        "favorite", ["account_id", "item_type", "item_id", "note", "created_at"], favorites
    )
    await insert(
        "search_record",
        ["account_id", "device_id", "keywords", "client_address", "user_agent", "recorded_at"],
        searches,
    )
    await insert(
        "click_record",
        ["account_id", "device_id", "link", "client_address", "user_agent", "recorded_at"],
        clicks,
    )
    await insert(
        "consent_event",
        EVENT_COLUMNS,  # subject ... client_address, prev_hash, detail, hash
        events,
    )
    await insert(
        "consent_chain",
        ["subject", "seq", "hash"],
        [[f"account:{i}", share, "f" * 64] for i in ids],
    )
    await insert(
        "notification",
        [
            "account_id",
            "kind",
            "channel",
            "title",
            "body",
            "created_at",
            "sent_at",
            "read_at",
            "status",
            "attempts",
            "resent",
            "last_error",
        ],
        notes,
    )
    await insert("session", SESSION_COLUMNS, sessions)
    if pending:
        await insert(
            "deletion_request",
            [
                "account_id",
                "status",
                "requested_at",
                "due_at",
                "next_attempt_at",
                "step",
                "attempts",
                "last_error",
                "reason",
            ],
            [[i, "PENDING", past, past, past, "", 0, "", ""] for i in ids],
        )
    return ids


async def settle() -> None:
    """Bring the planner's statistics up to date after a bulk load, as autovacuum would in
    time, so that neither measurement runs beside (or before) an autovacuum pass."""
    db = connections.get("default")
    if db.capabilities.dialect == "sqlite":
        await db.execute_script("ANALYZE")
    else:
        await db.execute_script("VACUUM ANALYZE")


async def time_deletions(ids: list[int], settings, storage) -> list[float]:
    times = []
    for account_id in ids:
        started = time.perf_counter()
        outcome = await run_deletion(account_id, settings, storage)
        times.append(time.perf_counter() - started)
        assert outcome == DeletionOutcome.DONE, outcome
    return times


async def measure(name: str, database_url: str, data_dir: str, targets: int, large: int):
    settings = load_settings(
        database_url=database_url, data_dir=data_dir, secret_key="bench-secret-" + "x" * 32
    )
    await migrate_database(settings)
    storage = LocalStorage(Path(data_dir) / "files")
    async with TortoiseContext() as orm:
        key_ring.install(settings)
        await orm.init(config=tortoise_config(settings))
        next_id = 1
        await add_accounts(next_id, SMALL, 6, pending=False)
        next_id += SMALL
        warm = await add_accounts(next_id, 2, 100, pending=True)
        next_id += 2
        await time_deletions(warm, settings, storage)
        small_targets = await add_accounts(next_id, targets, 100, pending=True)
        next_id += targets
        await settle()
        small = await time_deletions(small_targets, settings, storage)
        await add_accounts(next_id, large - SMALL, 6, pending=False)
        next_id += large - SMALL
        large_targets = await add_accounts(next_id, targets, 100, pending=True)
        await settle()
        big = await time_deletions(large_targets, settings, storage)
    t_small, t_large = statistics.median(small), statistics.median(big)
    print(f"{name}_deletion_ms_with_{SMALL}_accounts: {t_small * 1000:.1f}")
    print(f"{name}_deletion_ms_with_{large}_accounts: {t_large * 1000:.1f}")
    print(f"{name}_deletions_per_s: {1 / t_large:.1f}")
    print(f"{name}_ratio_large_vs_small: {t_large / t_small:.2f}")


async def run(backend: str, targets: int, large: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        if backend == "sqlite":
            await measure("sqlite", f"sqlite:///{tmp}/bench.sqlite3", tmp, targets, large)
            return
        admin_url = os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/test")
        created = await postgres_database(admin_url)
        if created is None:
            print("postgres: unavailable")
            return
        url, name = created
        try:
            await measure("postgres", url, tmp, targets, large)
        finally:
            await drop_database(admin_url, name)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--targets", type=int, default=20)
    parser.add_argument("--large", type=int, default=50_000)
    parser.add_argument("--backend", choices=["sqlite", "postgres"], help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.backend is None:
        print("rows_per_deleted_account: 100")
        print(f"targets: {args.targets}")
        for backend in ("sqlite", "postgres"):
            subprocess.run(
                [
                    sys.executable,
                    __file__,
                    "--backend",
                    backend,
                    "--targets",
                    str(args.targets),
                    "--large",
                    str(args.large),
                ],
                check=False,
            )
        return
    logging.disable(logging.INFO)
    try:
        asyncio.run(run(args.backend, args.targets, args.large))
    except Exception as error:  # a benchmark reports, it does not fail the build
        print(f"{args.backend}_error: {error!r}")


if __name__ == "__main__":
    main()
