"""The key store is a database apart (issue 17, "encryption at rest with a key per account"):
a copy of the data's database taken while an account holds personal data, restored beside
the live service with the live keys after the account's deletion, gives back none of its
sealed values, in plain text or decryptable. And an earlier version's keys, kept in the
data's database, move into the key store with their ids.

The copy is taken while the account holds every kind of personal data (``fill``): its
bytes hold only what is not sealed (README, "What is not sealed"), and its sealed values,
opened with the live keys, give back none of the account's after the deletion. No table
holds an e-mail address in the clear."""

from __future__ import annotations

import secrets
import shutil
import sqlite3
import subprocess
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import pytest
from tortoise import Tortoise, connections
from tortoise.context import TortoiseContext
from tortoise.migrations.api import migrate

from accord.cli.wiring import migrate_database, orm
from accord.database import table_exists, tortoise_config
from models.accounts.account import Account, account_name_index
from models.clock import now
from models.keys import key_ring, key_store
from models.keys.key_store import MasterKeyCheck, SubjectKey
from models.keys.sealed_fields import PREFIX, open_values, sealed_fields_of
from models.queue import Queue
from models.rights.requests import DeletionRequest, DeletionStatus
from tests.accounts_api import PASSWORD, register
from tests.conftest import make_settings
from tests.contact_helpers import add_and_verify_email
from tests.test_deletion import (
    Person,
    cancel,
    fill,
    make_due,
    needles_of,
    run_worker,
)
from tests.test_deletion_files import copied, plain_in_the_files
from tests.test_sealed_content import sealed_models

SEALED = ("account_name", "nickname", "avatar_url", "signature", "email")
#: Where a verified e-mail address is still stored in the clear: the code sent to it
#: (``contact_verification.address``, ``address_key``) and the notice that carried it
#: (``notification.address``).
KEY_TABLES = ("subject_key", "master_key_check")


class Restored:
    """A copy of the data's database, restored beside the live one: its raw bytes as the
    backup holds them, and the rows of its sealed tables read with plain SQL (no ORM, no
    keys)."""

    def __init__(
        self, raw: bytes, rows_by_table: dict[str, list[dict[str, Any]]], tables: set[str]
    ) -> None:
        self.raw, self.rows_by_table, self.tables = raw, rows_by_table, tables
        self.rows = rows_by_table["account"]

    def account(self, account_id: int) -> dict[str, Any]:
        return next(row for row in self.rows if row["id"] == account_id)


def sealed_tables() -> list[str]:
    return [m._meta.db_table for m in sealed_models()]


def _sqlite_copy(settings, folder: Path) -> Restored:
    main = Path(settings.effective_database_url.removeprefix("sqlite://"))
    folder.mkdir(parents=True, exist_ok=True)
    target, raw = folder / "restored.sqlite3", b""
    for suffix in ("", "-wal"):
        source = Path(f"{main}{suffix}")
        if source.exists():
            data = copied(source)  # from another process, as a backup tool would
            Path(f"{target}{suffix}").write_bytes(data)
            raw += data
    with sqlite3.connect(target) as db:
        db.row_factory = sqlite3.Row
        rows = {t: [dict(r) for r in db.execute(f'SELECT * FROM "{t}"')] for t in sealed_tables()}
        tables = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    return Restored(raw, rows, tables)


def _dsn(url: str, database: str | None = None) -> str:
    parts = urlsplit("postgresql://" + url.split("://", 1)[1])
    return urlunsplit(parts._replace(path=f"/{database}")) if database else urlunsplit(parts)


async def _postgres_copy(settings) -> Restored:
    """``pg_dump`` of the data's database, restored into a database of its own."""
    if shutil.which("pg_dump") is None or shutil.which("psql") is None:
        pytest.skip("pg_dump and psql are needed to copy a PostgreSQL database")
    url = settings.effective_database_url
    dump = subprocess.run(
        ["pg_dump", "--no-owner", "--no-privileges", _dsn(url)], capture_output=True, check=True
    ).stdout
    name = f"{urlsplit(url).path.lstrip('/')}_restored_{secrets.token_hex(3)}"
    admin = await asyncpg.connect(_dsn(url, "postgres"))
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
        subprocess.run(
            ["psql", "-q", "-v", "ON_ERROR_STOP=1", _dsn(url, name)],
            input=dump,
            capture_output=True,
            check=True,
        )
        restored = await asyncpg.connect(_dsn(url, name))
        try:
            rows = {
                t: [dict(r) for r in await restored.fetch(f'SELECT * FROM "{t}"')]
                for t in sealed_tables()
            }
            tables = {
                r["tablename"]
                for r in await restored.fetch(
                    "SELECT tablename FROM pg_tables WHERE schemaname = 'public'"
                )
            }
        finally:
            await restored.close()
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()
    return Restored(dump, rows, tables)


async def copy_of_the_data(settings, folder: Path) -> Restored:
    if settings.is_sqlite:
        return _sqlite_copy(settings, folder)
    return await _postgres_copy(settings)


async def opened_with_live_keys(row: dict[str, Any]) -> dict[str, Any]:
    """The copy's sealed values opened as the live service would: its key store and master
    key, nothing cached."""
    key_ring.forget()
    values = {column: row[column] for column in SEALED}
    await open_values(Account, [values])
    return values


async def test_a_copy_taken_before_a_deletion_opens_nothing_after_it(
    gql, settings, redis_url, tmp_path
):
    alice = {
        "account_name": "alice.backed-up",
        "nickname": "AliceCopyNick",
        "signature": "alice copied signature",
        "avatar_url": "https://cdn.example.com/alice-copied.png",
        "email": "alice.copied@example.org",
    }
    payload = await register(
        gql,
        alice["account_name"],
        nickname=alice["nickname"],
        signature=alice["signature"],
        avatarUrl=alice["avatar_url"],
    )
    await add_and_verify_email(gql, payload["token"], alice["email"])
    await register(gql, "bob.stays", nickname="BobStaysNick")
    account_id = (
        await Account.get(account_name_index=await account_name_index("alice.backed-up"))
    ).id

    backup = await copy_of_the_data(settings, tmp_path / "before")
    row = backup.account(account_id)
    assert all(str(row[c]).startswith(PREFIX) for c in SEALED)  # sealed, not in the clear
    # Not the e-mail address: see test_a_copy_holds_no_e_mail_address_in_the_clear.
    needles = [v.lower().encode() for k, v in alice.items() if k != "email"]
    assert [n for n in needles if n in backup.raw.lower()] == []
    # The test can fail: with the key still live, the copy's values open.
    assert await opened_with_live_keys(row) == alice

    cancelled = await gql(
        "mutation($i: CancelAccountInput!) { cancelAccount(input: $i) { errors { code } } }",
        {"i": {"password": PASSWORD}},
        token=payload["token"],
    )
    assert cancelled["data"]["cancelAccount"]["errors"] == []
    await make_due(account_id)
    queue = await Queue.connect(redis_url, settings.queue_name)
    try:
        worker = await run_worker(settings, redis_url, queue)
    finally:
        await queue.close()
    assert worker.jobs_failed == 0
    assert (await DeletionRequest.get(account_id=account_id)).status == DeletionStatus.DONE

    # The backup, restored beside the live service, with the live key store and master key.
    opened = await opened_with_live_keys(row)
    assert opened == {
        "account_name": "",
        "nickname": "",
        "avatar_url": None,
        "signature": "",
        "email": None,
    }
    refs = {int(str(row[c]).removeprefix(PREFIX).split(".", 1)[0]) for c in SEALED}
    for key in await SubjectKey.filter(id__in=refs):
        assert key.keysets is None and key.subject.startswith("destroyed:")
    assert not backup.tables & set(KEY_TABLES)
    # Nor is any of it in the key store's own files.
    if settings.key_store_is_sqlite:
        store = Path(settings.effective_key_store_url.removeprefix("sqlite://"))
        raw = b"".join(copied(p) for p in (store, Path(f"{store}-wal")) if p.exists()).lower()
        assert [n for n in needles if n in raw] == []
    # Bob's account reads as before.
    bob = await Account.get(account_name_index=await account_name_index("bob.stays"))
    assert bob.nickname == "BobStaysNick"


async def opened_copy(restored: Restored) -> str:
    """Every sealed value of the copy, opened with the live key store and master key, as
    one lowercase text to search."""
    key_ring.forget()
    found = []
    for model in sealed_models():
        columns = {
            f.model_field_name: f.source_field or f.model_field_name
            for f in sealed_fields_of(model)
        }
        rows = [
            {name: row[column] for name, column in columns.items()}
            for row in restored.rows_by_table[model._meta.db_table]
        ]
        await open_values(model, rows)
        found += [str(value) for row in rows for value in row.values() if value]
    return "\n".join(found).lower()


async def test_a_copy_with_every_kind_of_personal_data_opens_none_of_it_after_a_deletion(
    world,
    settings,
    redis_url,
    tmp_path,
):
    """The issue's "must show": a copy taken while the account holds every kind of personal
    data, restored beside the live service after the deletion, with the live keys."""
    app, tokens, queue = world
    alice = Person(app, "alice.deleteme", "198.51.100.23", "AliceBrowser/7.1")
    bob = Person(app, "bob.keeps", "192.0.2.55", "BobBrowser/3.0")
    alice_data = await fill(app, alice, "alice", **tokens)
    await fill(app, bob, "bob", **tokens)
    needles = [n.lower() for n in needles_of(alice, alice_data)]
    plain = {n.lower() for n in plain_in_the_files(alice, alice_data)}

    backup = await copy_of_the_data(settings, tmp_path / "before")
    # In the copy's bytes: only what is not sealed (README, "What is not sealed").
    raw = backup.raw.lower()
    assert {n for n in needles if n.encode() in raw} <= plain
    # The test can fail: with her key live, the copy's sealed values open.
    before = await opened_copy(backup)
    sealed_needles = [n for n in needles if n not in plain and n in before]
    assert len(sealed_needles) > len(needles) // 2, sealed_needles

    await cancel(alice, "alice reason text")
    await make_due(alice.id)
    assert (await run_worker(settings, redis_url, queue)).jobs_failed == 0
    assert (await DeletionRequest.get(account_id=alice.id)).status == DeletionStatus.DONE

    after = await opened_copy(backup)
    assert [n for n in needles if n in after] == []
    # Bob's rows in the same copy still open: only her key is gone.
    assert all(v in after for v in ("bob private body", "bob support message", "bob note"))


async def test_a_copy_holds_no_e_mail_address_in_the_clear(gql, settings, tmp_path):
    payload = await register(gql, "dave.mailed", nickname="Dave")
    await add_and_verify_email(gql, payload["token"], "dave.mailed@example.org")
    backup = await copy_of_the_data(settings, tmp_path)
    assert b"dave.mailed@example.org" not in backup.raw.lower()


async def test_a_copy_of_the_data_holds_no_keys(gql, settings, tmp_path):
    await register(gql, "carol.keyless", nickname="Carol")
    assert await SubjectKey.all().count() > 0  # her key, and the blind-index key
    restored = await copy_of_the_data(settings, tmp_path)
    assert settings.key_store_is_separate
    assert not restored.tables & set(KEY_TABLES)
    assert not await table_exists(connections.get("default"), "subject_key")


async def _earlier_version(settings) -> None:
    """A database as the release before the key store left it: the data's migrations up to
    ``0005``, whose ``0004`` made ``subject_key`` and ``master_key_check`` there."""
    try:
        await migrate(
            config=tortoise_config(settings),
            app_labels=["models"],
            target="models.0005_sealed_fields",
        )
    finally:
        await Tortoise.close_connections()


async def test_an_earlier_versions_keys_move_into_the_key_store_with_their_ids(
    settings, database_url, redis_url, tmp_path, monkeypatch
):
    if not database_url.startswith("sqlite://"):
        pytest.skip("the move is the same ORM code on PostgreSQL; SQLite files are cheap here")
    old = tmp_path / "old.sqlite3"
    earlier = make_settings(tmp_path / "var", f"sqlite:///{old}", redis_url)
    try:
        async with TortoiseContext():  # its own ORM: the running app's stays as it is
            await _an_earlier_version_moved(earlier, old, monkeypatch)
    finally:
        key_ring.install(settings)  # the running app's keys again


async def _an_earlier_version_moved(settings, old: Path, monkeypatch) -> None:
    await _earlier_version(settings)
    with sqlite3.connect(old) as db:
        db.executemany(
            "INSERT INTO subject_key (id, subject, keysets, master_key_id, created_at) "
            "VALUES (?, ?, ?, ?, '2025-01-02 03:04:05+00:00')",
            [(7, "account:1", '{"aead": "x"}', "m1"), (41, "account:2", '{"aead": "y"}', "m1")],
        )
        db.execute(
            "INSERT INTO master_key_check (id, master_key_id, canary, created_at) "
            "VALUES (3, 'm1', 'c', '2025-01-02 03:04:05+00:00')"
        )

    def crash(*args: Any) -> None:
        raise RuntimeError("the power went out between the copy and the drop")

    with monkeypatch.context() as patched:
        patched.setattr(key_store, "_follow_ids", crash)
        with pytest.raises(RuntimeError):
            await migrate_database(settings)
    with sqlite3.connect(old) as db:  # copied, not dropped: nothing lost
        assert db.execute("SELECT count(*) FROM subject_key").fetchone() == (2,)
    await migrate_database(settings)
    await migrate_database(settings)  # and again: harmless

    with sqlite3.connect(old) as db:
        left = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    assert not left & set(KEY_TABLES)
    async with orm(settings):
        keys = await SubjectKey.all().order_by("id").values_list("id", "subject", "keysets")
        assert keys == [(7, "account:1", '{"aead": "x"}'), (41, "account:2", '{"aead": "y"}')]
        assert await MasterKeyCheck.filter(id=3, master_key_id="m1").exists()
        made = await SubjectKey.create(subject="account:3", created_at=now())
        assert made.id > 41
