"""The typer app: every command, in the order ``accord --help`` lists them.

A command lives in its group's module; this file only names it. Modules import what a
command needs inside the command, so ``accord settings`` does not load the API.
"""

from __future__ import annotations

import typer

from accord.cli.anchors import anchors_cli
from accord.cli.campaigns import campaigns_cli
from accord.cli.deletions import deletions_cli
from accord.cli.dev import dev
from accord.cli.keys import keys_cli
from accord.cli.migrate import makemigrations, migrate
from accord.cli.schema import export_schema
from accord.cli.serve import serve
from accord.cli.settings_table import show_settings
from accord.cli.staff import create_staff
from accord.cli.status import status
from accord.cli.worker import worker

cli = typer.Typer(
    help="Accord: a GraphQL consent-and-account backend.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
cli.command()(dev)
cli.command()(serve)
cli.command()(worker)
cli.command()(status)
cli.command()(migrate)
cli.command()(makemigrations)
cli.command("export-schema")(export_schema)
cli.command("create-staff")(create_staff)
cli.add_typer(deletions_cli, name="deletions")
cli.add_typer(campaigns_cli, name="campaigns")
cli.add_typer(keys_cli, name="keys")
cli.add_typer(anchors_cli, name="anchors")
cli.command("settings")(show_settings)


def main() -> None:
    cli()
