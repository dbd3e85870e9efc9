"""``accord migrate`` and ``accord makemigrations``: the database's schema, from
``migrations/``."""

from __future__ import annotations

import asyncio
from typing import Annotated

import typer

from accord.cli.wiring import migrate_database, read_settings
from accord.database import detect_model_changes, make_migrations


def migrate() -> None:
    """Apply every migration in migrations/ to DATABASE_URL."""
    settings = read_settings()
    asyncio.run(migrate_database(settings))
    typer.echo("Database is up to date.")


def makemigrations(
    name: Annotated[str | None, typer.Option(help="Suffix of the migration file.")] = None,
    check: Annotated[bool, typer.Option(help="Exit 1 if a migration is missing.")] = False,
) -> None:
    """Write a migration for model changes (developers only)."""
    settings = read_settings()
    if check:
        missing = asyncio.run(detect_model_changes(settings))
        if missing:
            typer.echo("Models have changes with no migration: run `accord makemigrations`.")
            raise typer.Exit(1)
        typer.echo("No model changes.")
        return
    for path in asyncio.run(make_migrations(settings, name)):
        typer.echo(f"Wrote {path}")
