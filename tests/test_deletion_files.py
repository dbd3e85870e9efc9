"""Deletion reaches the database file itself, not only its rows (promise 15, "cancel account
-> stop using and delete"; issue 17's hygiene for the embedded default): SQLite overwrites a
deleted row's bytes (``secure_delete``) and the deletion job empties the write-ahead log, so a
copy of ``accord.sqlite3`` and its ``-wal`` taken after a deletion holds none of the values.

Before this, the WAL file held every value of a deleted account in readable pages."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import pytest

from models.accounts.account import Account
from models.rights.requests import DeletionRequest, DeletionStatus
from tests.test_deletion import (
    Person,
    cancel,
    fill,
    make_due,
    needles_of,
    run_worker,
)


def database_files(settings) -> list[Path]:
    main = Path(settings.effective_database_url.removeprefix("sqlite://"))
    return [p for p in (main, Path(f"{main}-wal"), Path(f"{main}-journal")) if p.exists()]


def plain_in_the_files(alice: Person, alice_data: dict[str, Any]) -> list[str]:
    """What of Alice's stays in the clear: her account's number, which names her consent
    chain (``account:<id>``) as every row's ``account_id`` does; a number Accord gave, not
    a value she did. The deletion pseudonymises the chain."""
    return [f"account:{alice.id}"]


def copied(path: Path) -> bytes:
    """The file's bytes as a backup tool would copy them: from another process. Opening and
    closing the database file here would drop every POSIX lock this process's SQLite
    connection holds on it (fcntl locks belong to the process, not the descriptor), and a
    worker process would then rebuild the WAL index and miss committed rows."""
    return subprocess.run(["cat", str(path)], capture_output=True, check=True).stdout


async def test_a_deleted_accounts_values_are_not_in_the_database_files(
    world,
    settings,
    redis_url,
):
    if not settings.is_sqlite:
        pytest.skip("PostgreSQL keeps dead tuples until vacuum: the README's operator notes")
    app, tokens, queue = world
    alice = Person(app, "alice.deleteme", "198.51.100.23", "AliceBrowser/7.1")
    bob = Person(app, "bob.keeps", "192.0.2.55", "BobBrowser/3.0")
    alice_data = await fill(app, alice, "alice", **tokens)
    await fill(app, bob, "bob", **tokens)
    needles = [n.lower().encode() for n in needles_of(alice, alice_data)]

    def raw_hits() -> set[str]:
        found = set()
        for path in database_files(settings):
            raw = copied(path).lower()
            found |= {n.decode() for n in needles if n in raw}
        return found

    # Before the deletion, the files hold exactly the values not sealed (so the scan can fail).
    assert raw_hits() == {n.lower() for n in plain_in_the_files(alice, alice_data)}

    await cancel(alice, "alice reason text")
    await make_due(alice.id)
    worker = await run_worker(settings, redis_url, queue)
    assert worker.jobs_failed == 0
    assert (await DeletionRequest.get(account_id=alice.id)).status == DeletionStatus.DONE

    assert raw_hits() == set()
    # Bob's data is untouched: his row opens as before, his name sealed in the file.
    assert (await Account.get(id=bob.id)).account_name == "bob.keeps"
    assert b"bob.keeps" not in b"".join(copied(p) for p in database_files(settings))
