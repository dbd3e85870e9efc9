"""The one Tortoise configuration that the app, the workers, the CLI and the tests share.

The ground floor: it names the model modules (configuration, as strings) but imports
nothing from models/, api/ or workers/; what a fresh database must contain is the wiring's
(``accord.cli.wiring.migrate_database``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tortoise import Tortoise
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
    "models.keys.data_keys",
]


def connection_config(settings: Settings) -> dict[str, Any]:
    """asyncpg for PostgreSQL; SQLite in WAL mode with a busy timeout so that the API and a
    worker process can both write to the same file, and ``secure_delete`` so that a deleted
    or rewritten row's bytes are overwritten with zeros, not left in free space where a copy
    of the file would still hold them (``scrub_freed_pages`` empties the WAL too)."""
    url = settings.effective_database_url
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


async def scrub_freed_pages(settings: Settings) -> bool:
    """After an erasure: move SQLite's write-ahead log into the database file and truncate
    it, so that the log no longer holds the erased rows' old pages (``secure_delete`` has
    zeroed them in the file). False when a reader kept part of the log (it is retried at the
    next erasure; the WAL is also checkpointed as it grows). PostgreSQL keeps dead tuples
    until vacuum: the README says what its operators do."""
    if not settings.is_sqlite:
        return True
    rows = await Tortoise.get_connection("default").execute_query_dict(
        "PRAGMA wal_checkpoint(TRUNCATE)"
    )
    return bool(rows) and rows[0].get("busy", 1) == 0


def tortoise_config(settings: Settings) -> dict[str, Any]:
    return {
        "connections": {"default": connection_config(settings)},
        "apps": {
            "models": {
                "models": list(MODEL_MODULES),
                "default_connection": "default",
                "migrations": "migrations",
            }
        },
        "use_tz": True,
        "timezone": "UTC",
    }


def ensure_data_dir(settings: Settings) -> None:
    """SQLite and uploads need the data folder to exist before anything opens them."""
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    if settings.is_sqlite:
        path = settings.effective_database_url.removeprefix("sqlite://")
        if path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)


async def apply_migrations(settings: Settings) -> None:
    """Bring the database up to the newest migration (the schema only: no rows)."""
    ensure_data_dir(settings)
    try:
        await migrate(config=tortoise_config(settings))
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
