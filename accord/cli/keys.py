"""``accord keys``: the master key that wraps every data key (``models.keys.data_keys``).

Rotating: make the new key the current one (``ACCORD_MASTER_KEY_FILE``,
``ACCORD_MASTER_KEY`` or ``ACCORD_VAULT_TRANSIT_KEY``) and give the old one as the previous
(``ACCORD_PREVIOUS_MASTER_KEY_FILE``, ``ACCORD_PREVIOUS_MASTER_KEY`` or
``ACCORD_VAULT_PREVIOUS_TRANSIT_KEY``), restart the service with both (it reads keys
wrapped by either and wraps new ones with the new), then run ``accord keys rotate-master``;
once it says everything is re-wrapped, drop the previous key.
"""

from __future__ import annotations

import asyncio
from typing import Annotated

import typer

from accord.cli.wiring import orm, read_settings
from accord.master_keys import MasterKeyError

keys_cli = typer.Typer(help="The master key and the data keys it wraps.", no_args_is_help=True)


@keys_cli.command("rotate-master")
def rotate_master(
    batch_size: Annotated[int, typer.Option(help="Data keys re-wrapped per batch.")] = 200,
) -> None:
    """Re-wrap every data key under the current master key (online; resumable; running it
    again is harmless)."""
    from models.keys.data_keys import rotate_master as rewrap_all

    settings = read_settings()

    async def run() -> int:
        async with orm(settings):
            return await rewrap_all(settings, batch_size)

    try:
        count = asyncio.run(run())
    except MasterKeyError as error:
        typer.echo(str(error), err=True)
        raise typer.Exit(2) from None
    typer.echo(f"Re-wrapped {count} data key(s); every data key is under the current master key.")


@keys_cli.command("check")
def check() -> None:
    """Exit 0 if the configured master key reads the stored data keys, 2 (one line) if not."""
    from accord.cli.wiring import check_master_key

    check_master_key(read_settings())
    typer.echo("The master key reads the data keys.")
