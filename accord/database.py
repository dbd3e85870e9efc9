"""The one Tortoise configuration that the app, the workers, the CLI and the tests share.

The ground floor: it names the model modules (configuration, as strings) but imports
nothing from models/, api/ or workers/; what a fresh database must contain is the wiring's
(``accord.cli.wiring.migrate_database``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tortoise import Tortoise
from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.backends.base.config_generator import expand_db_url
from tortoise.context import TortoiseContext
from tortoise.migrations.api import migrate
from tortoise.migrations.autodetector import MigrationAutodetector
from tortoise.migrations.writer import MigrationWriter, format_migration_name

from accord.settings import Settings

#: Every module that defines models. A new domain adds its module here and nowhere else.
MODEL_MODULES = [
    "models.accounts.account",
    "models.accounts.sessions",
    "models.accounts.bindings",
    "models.consent.purposes",
    "models.consent.policies",
    "models.consent.ledger",
    "models.consent.anchors",
    "models.personal.devices",
    "models.personal.activity",
    "models.personal.error_reports",
    "models.personal.pictures",
    "models.personal.feedback",
    "models.personal.favorites",
    "models.personal.support",
    "models.personal.questionnaires",
    "models.notifications.inbox",
    "models.rights.requests",
    "models.rights.audit",
    "models.accounts.quarantine",
    "models.notifications.campaigns",
    "models.accounts.totp",
    "models.accounts.recovery_codes",
    "models.accounts.sign_in_challenges",
    "models.accounts.contacts",
    "models.accounts.passkeys",
    "models.accounts.sign_ins",
    "models.rights.exports",
    "models.webhooks.endpoints",
    "models.webhooks.outbox",
    "models.consent.guardians",
    "models.rights.shutdowns",
]
#: The key store's models: an app of their own, on a connection of their own (``keys``)
#: when the key store is a database apart (``Settings.key_store_is_separate``).
KEY_STORE_MODULES = ["models.keys.key_store"]
#: The connection the key store's models use when it is a database apart.
KEY_STORE = "keys"


def connection_config(settings: Settings, url: str | None = None) -> dict[str, Any]:
    """The connection to ``url`` (the data's database by default): asyncpg for PostgreSQL;
    SQLite in WAL mode with a busy timeout so that the API and a worker process can both
    write to the same file, and ``secure_delete`` so that a deleted or rewritten row's bytes
    are overwritten with zeros, not left in free space where a copy of the file would still
    hold them (``scrub_freed_pages`` empties the WAL too)."""
    url = url or settings.effective_database_url
    if url.startswith("sqlite://"):
        path = url.removeprefix("sqlite://")
        # Order matters: the busy timeout must be in force before switching journal mode.
        return {
            "engine": "accord.sqlite_backend",
            "credentials": {
                "file_path": path,
                "busy_timeout": settings.sqlite_busy_timeout_ms,
                "journal_mode": "WAL",
                "synchronous": "NORMAL",
                "foreign_keys": "ON",
                "secure_delete": "ON",
            },
        }
    for scheme in ("postgresql://", "postgres://"):
        if url.startswith(scheme):
            url = "asyncpg://" + url.removeprefix(scheme)
    return expand_db_url(url)


def key_store_connection(settings: Settings) -> str:
    """The name of the connection the key store's models use."""
    return KEY_STORE if settings.key_store_is_separate else "default"


async def scrub_freed_pages(settings: Settings) -> bool:
    """After an erasure: move SQLite's write-ahead log into the database file and truncate
    it, so that the log no longer holds the erased rows' old pages (``secure_delete`` has
    zeroed them in the file). False when a reader kept part of the log (it is retried at the
    next erasure; the WAL is also checkpointed as it grows). PostgreSQL keeps dead tuples
    until vacuum: the README says what its operators do."""
    if not settings.is_sqlite:
        return True
    return await _checkpoint("default")


async def scrub_key_store(settings: Settings) -> bool:
    """After a data key is destroyed: the same for the key store, so that its log no longer
    holds the destroyed keyset (False when a reader kept part of it). A key store that
    shares the data's SQLite file is scrubbed with it after the deletion (here it may be
    inside the deletion's transaction, where no checkpoint can run)."""
    if not (settings.key_store_is_sqlite and settings.key_store_is_separate):
        return True
    return await _checkpoint(KEY_STORE)


async def _checkpoint(connection: str) -> bool:
    rows = await Tortoise.get_connection(connection).execute_query_dict(
        "PRAGMA wal_checkpoint(TRUNCATE)"
    )
    return bool(rows) and rows[0].get("busy", 1) == 0


async def table_exists(client: BaseDBAsyncClient, table: str) -> bool:
    """Whether the connection's database has ``table`` (a migration's or a move's question)."""
    if client.capabilities.dialect == "sqlite":
        sql = "SELECT name FROM sqlite_master WHERE type = 'table' AND name = ?"
    else:
        sql = "SELECT to_regclass($1) AS name"
    rows = await client.execute_query_dict(sql, [table])
    return bool(rows) and rows[0]["name"] is not None


def tortoise_config(settings: Settings) -> dict[str, Any]:
    """Two apps: the data (``models``) and the key store (``keys``), each with its own
    migrations; the key store on a connection of its own when it is a database apart, so
    that a copy of the data's database carries no keys."""
    connections = {"default": connection_config(settings)}
    if settings.key_store_is_separate:
        connections[KEY_STORE] = connection_config(settings, settings.effective_key_store_url)
    return {
        "connections": connections,
        "apps": {
            "models": {
                "models": list(MODEL_MODULES),
                "default_connection": "default",
                "migrations": "migrations",
            },
            "keys": {
                "models": list(KEY_STORE_MODULES),
                "default_connection": key_store_connection(settings),
                "migrations": "migrations.keys",
            },
        },
        "use_tz": True,
        "timezone": "UTC",
    }


def ensure_data_dir(settings: Settings) -> None:
    """SQLite and uploads need the data folder to exist before anything opens them."""
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    for url in (settings.effective_database_url, settings.effective_key_store_url):
        path = url.removeprefix("sqlite://")
        if url.startswith("sqlite://") and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)


async def apply_migrations(settings: Settings) -> None:
    """Bring the data's database and the key store up to their newest migrations (the
    schema only: no rows). The data first: when the key store shares its database, the
    key store's first migration finds the tables the data's ``0004`` made (see
    ``migrations/keys/0001_initial``)."""
    ensure_data_dir(settings)
    config = tortoise_config(settings)
    try:
        await migrate(config=config, app_labels=["models"])
        await migrate(config=config, app_labels=["keys"])
    finally:
        await Tortoise.close_connections()


async def detect_model_changes(settings: Settings) -> list[MigrationWriter]:
    """Migrations the models need that ``migrations/`` does not have yet (empty when current).

    Runs Tortoise's autodetector against the migration files only; no database is touched
    beyond opening the connection object.
    """
    config = tortoise_config(settings)
    async with TortoiseContext() as ctx:
        await ctx.init(config=config, init_connections=False)
        if ctx.apps is None:  # init has just made them; Tortoise types them as optional
            raise RuntimeError("Tortoise registered no models")
        detector = MigrationAutodetector(ctx.apps, config["apps"])
        return await detector.changes()


async def make_migrations(settings: Settings, name: str | None = None) -> list[Path]:
    """Write a migration for every model change (what `accord makemigrations` runs)."""
    written = []
    for writer in await detect_model_changes(settings):
        if name:
            number = int(writer.name.split("_", 1)[0])
            writer.name = format_migration_name(number, name)
        written.append(Path(writer.write()))
    return written
