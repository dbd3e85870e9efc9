"""The key store: the wrapped data keys (``SubjectKey``) and the master keys' check values
(``MasterKeyCheck``), in a database apart from the data's (``ACCORD_KEY_STORE_URL``).

Apart, because destroying a key must reach the copies of the data: a backup of the data's
database taken before a deletion holds the account's sealed values, and if it also held the
account's wrapped keyset, the live master key would open them again. The data's database
holds no key; the key store holds no data, only keys and their subjects.
"""

from __future__ import annotations

from tortoise import connections, fields
from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.models import Model

from accord.database import table_exists
from accord.settings import Settings


class SubjectKey(Model):
    """The data keys of one data subject, wrapped by the master key. Once ``destroyed_at``
    is set the keysets are gone (NULL) and the row stays, so no new key is ever made for
    the subject again."""

    id = fields.BigIntField(primary_key=True)
    #: ``account:<id>`` (later ``device:<id>``), or ``destroyed:<keyed hash>`` once destroyed.
    subject = fields.CharField(max_length=64, unique=True)
    #: JSON ``{purpose: base64(tink encrypted keyset)}``, NULL once destroyed.
    keysets = fields.TextField(null=True)
    #: The master key that wrapped ``keysets`` (``accord.master_keys``).
    master_key_id = fields.CharField(max_length=100, null=True, db_index=True)
    created_at = fields.DatetimeField()
    destroyed_at = fields.DatetimeField(null=True)

    class Meta:
        table = "subject_key"


class MasterKeyCheck(Model):
    """A known value encrypted by each master key in use, so start-up can tell a wrong
    master key (one that cannot decrypt the data keys) before anything is written."""

    id = fields.BigIntField(primary_key=True)
    master_key_id = fields.CharField(max_length=100, unique=True)
    canary = fields.TextField()
    created_at = fields.DatetimeField()

    class Meta:
        table = "master_key_check"


#: Rows copied at a time when the key store is moved out of the data's database.
MOVE_BATCH = 500


class KeyStoreMoveRefused(Exception):
    """A key row of the data's database could not be copied as it is into the key store
    (another row there has its subject): nothing is dropped."""


async def move_into_key_store(settings: Settings) -> int:
    """Move the key tables an earlier version kept in the data's database into the key
    store, ids kept (sealed values name their key by row id), then drop them there; the
    rows moved. Resumable and harmless twice: rows already copied are skipped
    (``ON CONFLICT DO NOTHING``) and the tables are dropped only once every row is in the
    key store, so a crash between the two loses nothing. Nothing to do when the key store
    shares the data's database (the tables are the key store's)."""
    if not settings.key_store_is_separate:
        return 0
    data = connections.get("default")
    moved = 0
    for model in (MasterKeyCheck, SubjectKey):
        table = model._meta.db_table
        if not await table_exists(data, table):
            continue
        moved += await _copy(model, data)
        await _follow_ids(model)
        await data.execute_script(f'DROP TABLE "{table}"')
    return moved


async def _copy(model: type[Model], data: BaseDBAsyncClient) -> int:
    copied, after = 0, 0
    names = list(model._meta.db_fields)
    while True:
        batch = await model.filter(id__gt=after).using_db(data).order_by("id").limit(MOVE_BATCH)
        if not batch:
            return copied
        values = [{name: getattr(row, name) for name in names} for row in batch]
        await model.bulk_create([model(**row) for row in values], ignore_conflicts=True)
        ids = [row["id"] for row in values]
        kept = await model.filter(id__in=ids).order_by("id").values(*names)
        if kept != values:
            raise KeyStoreMoveRefused(
                f"{model._meta.db_table}: the key store holds other rows under these ids or "
                "subjects; nothing was dropped (was the service started before "
                "`accord migrate`?)"
            )
        copied, after = copied + len(batch), ids[-1]


async def _follow_ids(model: type[Model]) -> None:
    """PostgreSQL: the key store's id sequence past the ids copied in (SQLite's rowid
    follows the largest id by itself)."""
    db = connections.get(model._meta.default_connection or "default")
    if db.capabilities.dialect != "postgres":
        return
    table = model._meta.db_table
    await db.execute_query(
        f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), MAX(id)) FROM \"{table}\""  # noqa: S608
    )
