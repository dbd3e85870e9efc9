"""A data export of a large account: the archive's build time against a raw dump of the same
rows, and the worker's memory while it builds.

    .venv/bin/python bench/export.py [--rows 20000] [--consent-share 0.1] [--rounds 5]
                                     [--postgres]

One account holds ``--rows`` rows: ``--consent-share`` of them consent decisions (one valid
hash chain; each gets a signed receipt in the archive, by far the costliest row), the rest
search and click records (35 % each of the whole by default) and favorites and feedback
(the remainder, halved); a second account holds as many. Bulk-loaded, then ANALYZE.

A child process, the worker, runs the export job's rule
(``models.rights.export_jobs.run_export``: lease, the streamed ZIP, the link, the request
answered and the user notified) while this process samples the child's resident memory
(``VmRSS`` in ``/proc/<pid>/status``) during its first, cold build. Then the worker times,
in turn, a raw dump of the same rows (one ``SELECT *`` per table and ``json.dumps`` of the
result, no archive) and an export, ``--rounds`` times each. Prints `metric: value` lines:
the export's rows/s as a ratio of the raw dump's (goal >= 0.3) and the worker's RSS growth
(goal < 32 MiB). SQLite by default; with ``--postgres`` also PostgreSQL at DATABASE_URL
(default postgres://postgres@127.0.0.1:5432/test; a temporary database is created and
dropped). Always exits 0.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

from tortoise import connections
from tortoise.context import TortoiseContext

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from accord.cli.wiring import migrate_database  # noqa: E402
from accord.database import tortoise_config  # noqa: E402
from accord.logs import configure_logging  # noqa: E402
from accord.settings import load_settings  # noqa: E402
from accord.sqlite_backend import timestamp_text  # noqa: E402
from bench.consent_sync import drop_database, postgres_database  # noqa: E402
from bench.deletion import insert  # noqa: E402
from models.consent.ledger import COLUMNS as EVENT_COLUMNS  # noqa: E402
from models.consent.ledger import EventKind, EventRecord, Source, chain_hash  # noqa: E402
from models.hash_chains import GENESIS  # noqa: E402
from models.keys import key_ring  # noqa: E402
from models.placeholders import placeholders  # noqa: E402

PURPOSES = ["personalization", "analytics", "advertising", "activity_log"]
#: The dumped tables: (table, the column naming the account, how it names it).
TABLES = [
    ("consent_event", "subject", lambda account: f"account:{account}"),
    ("search_record", "account_id", lambda account: account),
    ("click_record", "account_id", lambda account: account),
    ("favorite", "account_id", lambda account: account),
    ("feedback", "author_id", lambda account: account),
]
TARGET = 1


def settings_for(database_url: str, data_dir: str):
    return load_settings(
        database_url=database_url,
        data_dir=data_dir,
        secret_key="bench-secret-" + "x" * 32,
        log_level="WARNING",
    )


def shares(rows: int, consent_share: float) -> dict[str, int]:
    """How many rows of each table an account gets."""
    consent = int(rows * consent_share)
    activity = (rows - consent) * 7 // 18  # 35 % each with the default share
    rest = rows - consent - 2 * activity
    return {
        "consent_event": consent,
        "search_record": activity,
        "click_record": activity,
        "favorite": rest // 2,
        "feedback": rest - rest // 2,
    }


async def load(account: int, count: dict[str, int], sqlite: bool) -> None:
    """One account and its rows, bulk-inserted (a valid consent chain included)."""
    moment = datetime.now(UTC) - timedelta(days=1)
    stamp = timestamp_text if sqlite else (lambda value: value)
    columns = "id account_name nickname gender signature role status created_at updated_at email"
    name, at = f"bench{account}", stamp(moment)
    await insert(
        "account",
        columns.split(),
        [[account, name, name, "UNDISCLOSED", "", "USER", "ACTIVE", at, at, f"{name}@x.org"]],
    )
    subject, previous, events = f"account:{account}", GENESIS, []
    for n in range(count["consent_event"]):
        at = moment + timedelta(seconds=n)
        record = EventRecord(
            subject=subject,
            seq=n + 1,
            kind=EventKind.GRANTED if n % 3 else EventKind.WITHDRAWN,
            purpose_code=PURPOSES[n % len(PURPOSES)],
            policy_version="bench-1",
            source=Source.ANDROID,
            device_id=None,
            client_timestamp=at,
            server_timestamp=at,
            idempotency_key=str(uuid.uuid4()),
            user_agent="BenchApp/1.0 (Android 14)",
            client_address="203.0.113.0",
            prev_hash=previous,
        )
        record.hash = previous = chain_hash(previous, record)
        values = [getattr(record, column) for column in EVENT_COLUMNS]
        values[EVENT_COLUMNS.index("client_timestamp")] = stamp(at)
        values[EVENT_COLUMNS.index("server_timestamp")] = stamp(at)
        events.append(values)
    await insert("consent_event", EVENT_COLUMNS, events)
    await insert("consent_chain", ["subject", "seq", "hash"], [[subject, len(events), previous]])
    agent, address = "Mozilla/5.0 (X11; Linux x86_64) Firefox/130.0", "203.0.113.0"
    activity = ["account_id", "device_id", "client_address", "user_agent", "recorded_at"]
    await insert(
        "search_record",
        [*activity, "keywords"],
        [
            [account, None, address, agent, stamp(moment), f"running shoes size {n}"]
            for n in range(count["search_record"])
        ],
    )
    await insert(
        "click_record",
        [*activity, "link"],
        [
            [account, None, address, agent, stamp(moment), f"https://shop.example/p/{n}"]
            for n in range(count["click_record"])
        ],
    )
    await insert(
        "favorite",
        ["account_id", "item_type", "item_id", "note", "created_at"],
        [
            [account, "product", f"sku-{n}", "for the summer", stamp(moment)]
            for n in range(count["favorite"])
        ],
    )
    await insert(
        "feedback",
        ["author_id", "kind", "subject", "body", "rating", "visibility", "created_at"],
        [
            [account, "RATING", f"product-{n}", "Fits well, on time.", 4, "PRIVATE", stamp(moment)]
            for n in range(count["feedback"])
        ],
    )


async def prepare(database_url: str, data_dir: str, count: dict[str, int]) -> None:
    settings = settings_for(database_url, data_dir)
    await migrate_database(settings)
    async with TortoiseContext() as orm:
        key_ring.install(settings)
        await orm.init(config=tortoise_config(settings))
        sqlite = settings.is_sqlite
        await load(TARGET, count, sqlite)
        await load(TARGET + 1, count, sqlite)  # another account, as many rows
        db = connections.get("default")
        await db.execute_script("ANALYZE" if sqlite else "VACUUM ANALYZE")


async def raw_dump(account: int) -> int:
    """The baseline: every row of the account in the same tables, read and serialised."""
    db = connections.get("default")
    mark = placeholders(db.capabilities.dialect, 1)
    count = 0
    for table, column, value in TABLES:
        result = await db.execute_query_dict(
            f"SELECT * FROM {table} WHERE {column} = {mark}",
            [value(account)],
        )
        json.dumps(result, default=str)
        count += len(result)
    return count


async def worker(database_url: str, data_dir: str, rounds: int) -> None:
    """The worker's side, in its own process (so its memory is its own)."""
    from models.accounts.account import Account
    from models.personal.storage import LocalStorage
    from models.rights.data_requests import file_request
    from models.rights.export_files import ExportFiles
    from models.rights.export_jobs import ExportOutcome, run_export
    from models.rights.exports import DataExport, remove
    from models.rights.requests import DataRequestKind

    settings = settings_for(database_url, data_dir)
    configure_logging(settings)  # as `accord worker` does: nothing below WARNING
    storage, files = LocalStorage(Path(data_dir) / "files"), ExportFiles.of(settings)
    lease = timedelta(minutes=10)

    async def export() -> tuple[float, int]:
        account = await Account.get(id=TARGET)
        request = await file_request(account, DataRequestKind.ACCESS, settings, verified=True)
        started = time.perf_counter()
        outcome = await run_export(request.id, settings, storage, lease)
        elapsed = time.perf_counter() - started
        assert outcome == ExportOutcome.DONE, outcome
        made = await DataExport.get(request_id=request.id)
        size = made.size or 0
        await remove(made, files)
        return elapsed, size

    async with TortoiseContext() as orm:
        key_ring.install(settings)
        await orm.init(config=tortoise_config(settings))
        await Account.filter(id=TARGET).first()  # connected: the process is at rest now
        print("ready", flush=True)
        await asyncio.to_thread(sys.stdin.readline)
        cold, size = await export()
        print("built", flush=True)
        raw_seconds = export_seconds = 0.0
        rows = 0
        for _ in range(rounds):  # in turn, so both meet the same machine
            started = time.perf_counter()
            rows = await raw_dump(TARGET)
            raw_seconds += time.perf_counter() - started
            export_seconds += (await export())[0]
    print(
        json.dumps(
            {"cold": cold, "size": size, "rows": rows, "raw": raw_seconds, "export": export_seconds}
        )
    )


def rss_kib(pid: int) -> int:
    """Resident memory of a process, from /proc (Linux)."""
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def measure(
    name: str, database_url: str, data_dir: str, count: dict[str, int], rounds: int
) -> None:
    asyncio.run(prepare(database_url, data_dir, count))
    child = subprocess.Popen(
        [sys.executable, __file__, "--worker", database_url, data_dir, "--rounds", str(rounds)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert child.stdout is not None and child.stdin is not None
    assert child.stdout.readline().strip() == "ready"
    baseline = peak = rss_kib(child.pid)
    lines: list[str] = []
    built = threading.Event()

    def read() -> None:
        assert child.stdout is not None
        for line in child.stdout:
            lines.append(line.strip())
            if line.strip() == "built":
                built.set()
        built.set()  # the child ended (or failed)

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    child.stdin.write("go\n")
    child.stdin.flush()
    while not built.is_set():
        peak = max(peak, rss_kib(child.pid))
        time.sleep(0.002)
    child.wait()
    reader.join()
    output = lines
    result = json.loads(output[-1])
    raw_rate = result["rows"] * rounds / result["raw"]
    export_rate = result["rows"] * rounds / result["export"]
    print(f"{name}_rows: {result['rows']}")
    print(f"{name}_archive_mib: {result['size'] / 2**20:.2f}")
    print(f"{name}_cold_export_seconds: {result['cold']:.2f}")
    print(f"{name}_export_seconds: {result['export'] / rounds:.3f}")
    print(f"{name}_raw_dump_seconds: {result['raw'] / rounds:.3f}")
    print(f"{name}_export_rows_per_s: {export_rate:.0f}")
    print(f"{name}_raw_dump_rows_per_s: {raw_rate:.0f}")
    print(f"{name}_ratio_vs_raw_dump: {export_rate / raw_rate:.2f}")
    print(f"{name}_worker_rss_growth_mib: {(peak - baseline) / 1024:.1f}")


def run(backend: str, count: dict[str, int], rounds: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        if backend == "sqlite":
            measure("sqlite", f"sqlite:///{tmp}/bench.sqlite3", tmp, count, rounds)
            return
        admin_url = os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/test")
        created = asyncio.run(postgres_database(admin_url))
        if created is None:
            print("postgres: unavailable")
            return
        url, name = created
        try:
            measure("postgres", url, tmp, count, rounds)
        finally:
            asyncio.run(drop_database(admin_url, name))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=20_000)
    parser.add_argument("--consent-share", type=float, default=0.1)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--postgres", action="store_true", help="also on PostgreSQL")
    parser.add_argument("--worker", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    logging.disable(logging.INFO)
    if args.worker:
        asyncio.run(worker(*args.worker, args.rounds))
        return
    count = shares(args.rows, args.consent_share)
    print(f"rows_per_account: {sum(count.values())}")
    for table, rows in count.items():
        print(f"{table}_rows: {rows}")
    print(f"rounds: {args.rounds}")
    for backend in ("sqlite", "postgres") if args.postgres else ("sqlite",):
        try:
            run(backend, count, args.rounds)
        except Exception as error:  # a benchmark reports, it does not fail the build
            print(f"{backend}_error: {error!r}")
    sys.exit(0)


if __name__ == "__main__":
    main()
