"""A material-change campaign over many accounts: in-app + e-mail to a local SMTP server.

    .venv/bin/python bench/campaign.py [--accounts 100000]

Runs the real jobs (``fan_out`` then ``deliver_notifications``, what the worker runs) in a
child process whose memory is sampled, against a SQLite file; the e-mails go through
aiosmtplib to an aiosmtpd server in another process. Prints `metric: value` lines:
notifications/s (rows written and e-mails handed to SMTP, end to end) as a ratio of a raw
bulk insert of the same rows into the same database (goal >= 0.3), the same ratio for the
fan-out alone, and the worker's peak RSS growth during the campaign (goal < 64 MiB: memory
does not grow with the audience). The end-to-end figure is bound by SMTP round trips (one
per recipient: aiosmtplib has no PIPELINING, and the local aiosmtpd is Python too).
Always exits 0.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import psutil
from tortoise import connections
from tortoise.context import TortoiseContext

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from accord.cli.wiring import migrate_database  # noqa: E402
from accord.database import tortoise_config  # noqa: E402
from accord.settings import load_settings  # noqa: E402
from bench.deletion import insert  # noqa: E402
from models.keys import key_ring  # noqa: E402
from models.notifications.campaigns import COLUMNS, NotificationRow  # noqa: E402


def settings_for(tmp: str, smtp_port: int):
    return load_settings(
        database_url=f"sqlite:///{tmp}/bench.sqlite3",
        data_dir=tmp,
        secret_key="bench-secret-" + "x" * 32,
        smtp_port=smtp_port,
        notification_batch_size=1000,
        log_level="WARNING",
    )


async def prepare(tmp: str, accounts: int, smtp_port: int) -> float:
    """Accounts, and the baseline: a raw insert of as many rows as the campaign will write."""
    settings = settings_for(tmp, smtp_port)
    await migrate_database(settings)
    async with TortoiseContext() as orm:
        key_ring.install(settings)
        await orm.init(config=tortoise_config(settings))
        moment = datetime.now(UTC)
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
                "email",
            ],
            [
                [
                    i,
                    f"user{i}",
                    f"User {i}",
                    "UNDISCLOSED",
                    "",
                    "USER",
                    "ACTIVE",
                    moment,
                    moment,
                    f"user{i}@example.org",
                ]
                for i in range(1, accounts + 1)
            ],
        )
        # The baseline writes the same rows (one in-app, one e-mail per account) into a copy
        # of the table, then drops it.
        db = connections.get("default")
        await db.execute_script(
            "CREATE TABLE notification_baseline AS SELECT * FROM notification WHERE 0"
        )
        rows = [
            NotificationRow(
                account_id=i,
                campaign_id=None,
                kind="POLICY_CHANGE",
                channel=channel,
                title="",
                body="",
                created_at=moment,
                status=status,
                sent_at=None,
                attempts=0,
                resent=False,
                last_error="",
            )
            for i in range(1, accounts + 1)
            for channel, status in (("IN_APP", "SENT"), ("EMAIL", "PENDING"))
        ]
        started = time.perf_counter()
        await insert("notification_baseline", COLUMNS, rows)
        elapsed = time.perf_counter() - started
        await db.execute_script("DROP TABLE notification_baseline")
    return len(rows) / elapsed


async def campaign(tmp: str, smtp_port: int) -> None:
    """The worker's side, in its own process: publish, fan out, deliver."""
    from models.accounts.account import Account
    from models.consent.policies import publish_policy
    from models.notifications.campaigns import CampaignShard, fan_out_shard
    from models.notifications.delivery import deliver, finish_if_done
    from models.notifications.inbox import Channel

    settings = settings_for(tmp, smtp_port)
    async with TortoiseContext() as orm:
        key_ring.install(settings)
        await orm.init(config=tortoise_config(settings))
        await Account.filter(id=1).first()  # connection open: the process is at rest now
        print("ready", flush=True)
        await asyncio.to_thread(sys.stdin.readline)
        started = time.perf_counter()
        policy = await publish_policy(
            version="v2",
            summary="We now share data with fewer partners.",
            text="policy",
            effective_at=datetime.now(UTC),
            material=True,
            change_categories=["SHARING_RECIPIENTS"],
            purpose_codes=[],
        )
        for shard in await CampaignShard.filter(campaign_id=policy.campaign_id):
            await fan_out_shard(shard.id, settings.notification_batch_size, False)
        fanned = time.perf_counter() - started

        sent = await deliver(policy.campaign_id, Channel.EMAIL, settings)
        done = await finish_if_done(policy.campaign_id)
        elapsed = time.perf_counter() - started
    print(json.dumps({"elapsed": elapsed, "fanned": fanned, "sent": sent, "done": done}))


def smtp_server(folder: str) -> subprocess.Popen:
    code = (
        "import sys, time; sys.path.insert(0, %r)\n"
        "from aiosmtpd.controller import Controller\n"
        "class Count:\n"
        "    n = 0\n"
        "    async def handle_DATA(self, server, session, envelope):\n"
        "        Count.n += len(envelope.rcpt_tos); return '250 OK'\n"
        "c = Controller(Count(), hostname='127.0.0.1', port=0 or %d); c.start()\n"
        "print('ready', flush=True)\n"
        "import signal; signal.sigwait([signal.SIGTERM])\n"
    )
    port = _free_port()
    process = subprocess.Popen(
        [sys.executable, "-c", code % (str(ROOT), port)], stdout=subprocess.PIPE, text=True
    )
    process.stdout.readline()
    process.port = port
    return process


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def run(accounts: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        smtp = smtp_server(tmp)
        try:
            raw_rate = asyncio.run(prepare(tmp, accounts, smtp.port))
            worker = subprocess.Popen(
                [sys.executable, __file__, "--worker", tmp, "--smtp-port", str(smtp.port)],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                text=True,
            )
            assert worker.stdout.readline().strip() == "ready"
            watched = psutil.Process(worker.pid)
            baseline = peak = watched.memory_info().rss
            worker.stdin.write("go\n")
            worker.stdin.flush()
            while worker.poll() is None:
                try:
                    peak = max(peak, watched.memory_info().rss)
                except psutil.NoSuchProcess:
                    break
                time.sleep(0.02)
            output = worker.stdout.read().strip().splitlines()
        finally:
            smtp.terminate()
            smtp.wait()
    result = json.loads(output[-1])
    rows = accounts * 2
    rate = rows / result["elapsed"]
    print(f"accounts: {accounts}")
    print(f"notifications_written: {rows}")
    print(f"emails_sent: {result['sent']}")
    print(f"campaign_done: {result['done']}")
    print(f"fan_out_seconds: {result['fanned']:.2f}")
    print(f"campaign_seconds: {result['elapsed']:.2f}")
    fan_out_rate = rows / result["fanned"]
    print(f"raw_insert_rows_per_s: {raw_rate:.0f}")
    print(f"fan_out_notifications_per_s: {fan_out_rate:.0f}")
    print(f"fan_out_ratio_vs_raw_insert: {fan_out_rate / raw_rate:.2f}")
    print(f"notifications_per_s: {rate:.0f}")
    print(f"ratio_vs_raw_insert: {rate / raw_rate:.2f}")
    print(f"worker_peak_rss_growth_mib: {(peak - baseline) / 2**20:.1f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--accounts", type=int, default=100_000)
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--smtp-port", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    logging.disable(logging.INFO)
    try:
        if args.worker:
            asyncio.run(campaign(args.worker, args.smtp_port))
        else:
            run(args.accounts)
    except Exception as error:  # a benchmark reports, it does not fail the build
        print(f"error: {error!r}")
    sys.exit(0)


if __name__ == "__main__":
    main()
