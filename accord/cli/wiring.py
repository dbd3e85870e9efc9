"""What the commands share: settings read once, the ORM started for a command's run, and a
database migrated and given the rows a fresh one needs.

Migrating is the ground floor's (``accord.database``); which rows a fresh database needs (the
default purposes) is a rule of ``models/``; joining the two is the wiring's job, so the tests
and benchmarks that migrate call :func:`migrate_database` too.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING

import structlog
import typer
from tortoise.context import TortoiseContext

from accord.database import apply_migrations, tortoise_config
from accord.logs import configure_logging
from accord.settings import Settings, SettingsError, load_settings

if TYPE_CHECKING:
    from models.errors import DomainError
    from models.queue import Queue


def read_settings() -> Settings:
    """The settings from the environment, with logging configured; a bad value stops the
    command with one line naming the variable (exit code 2)."""
    try:
        settings = load_settings()
    except SettingsError as error:
        typer.echo(str(error), err=True)
        raise typer.Exit(2) from None
    configure_logging(settings)
    return settings


@contextlib.asynccontextmanager
async def orm(settings: Settings) -> AsyncIterator[None]:
    """The ORM, connected for as long as the block runs (a command's own, not the app's),
    with the keys its sealed fields use."""
    from models.keys import key_ring

    key_ring.install(settings)
    async with TortoiseContext() as context:
        await context.init(config=tortoise_config(settings))
        yield


@contextlib.asynccontextmanager
async def job_queue(settings: Settings) -> AsyncIterator[Queue | None]:
    """The workers' queue for a command's run, or None without ``REDIS_URL`` (the sweeper
    then queues what the command made due)."""
    from models.queue import Queue

    if not settings.redis_url:
        yield None
        return
    queue = await Queue.connect(
        settings.redis_url, settings.queue_name, settings.job_timeout_seconds
    )
    try:
        yield queue
    finally:
        await queue.close()


def refused(error: DomainError) -> typer.Exit:
    """A rule said no: one line (its code, the field at fault, why) and exit code 1."""
    field = f" ({error.field})" if error.field else ""
    typer.echo(f"refused: {error.code}{field}: {error.message}", err=True)
    return typer.Exit(1)


async def migrate_database(settings: Settings) -> None:
    """Bring the database and the key store up to their newest migrations, move the keys
    an earlier version kept in the data's database into the key store, add the default
    purposes that are missing, convert device ids stored in the clear to references and
    seal personal values stored in the clear by an earlier version (what ``accord
    migrate`` and ``accord dev`` run)."""
    from models.consent.purposes import ensure_default_purposes
    from models.keys.backfill import seal_plain_values
    from models.keys.device_backfill import convert_device_ids
    from models.keys.key_store import move_into_key_store

    await apply_migrations(settings)
    async with orm(settings):
        await move_into_key_store(settings)
        await ensure_default_purposes()
        await convert_device_ids()  # before sealing: a device's rows seal under its reference
        await seal_plain_values()


def check_master_key(settings: Settings) -> None:
    """Start-up refuses a master key that cannot read the stored data keys (or none in
    prod): one line, exit code 2, nothing written (``models.keys.data_keys``). Warns when
    the key store shares the data's database (a copy of it then carries the keys)."""
    import asyncio

    from tortoise.exceptions import OperationalError

    from accord.master_keys import MasterKeyError
    from models.keys.data_keys import check_master_keys

    async def run() -> None:
        async with orm(settings):
            try:
                await check_master_keys(settings)
            except OperationalError as error:
                if "master_key_check" not in str(error):
                    raise
                # Not migrated yet: nothing is encrypted, so no master key can be wrong
                # (the first data key records the key's check value).

    if not settings.key_store_is_separate:
        structlog.get_logger("accord.keys").warning(
            "the key store shares the data's database: a copy of it holds every account's "
            "keys; set ACCORD_KEY_STORE_URL to a database of its own"
        )
    try:
        asyncio.run(run())
    except MasterKeyError as error:
        typer.echo(f"accord: {error}", err=True)
        raise typer.Exit(2) from None
