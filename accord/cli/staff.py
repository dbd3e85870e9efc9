"""``accord create-staff``: staff accounts come from the command line, never the public API."""

from __future__ import annotations

import asyncio
import getpass
import os
from typing import Annotated

import typer

from accord.cli.wiring import orm, read_settings


def create_staff(
    account_name: Annotated[str, typer.Option(help="Account name of the staff member.")],
    role: Annotated[str, typer.Option(help="SUPPORT, PRIVACY_OFFICER, OPERATOR or ADMIN.")],
    nickname: Annotated[
        str | None, typer.Option(help="Shown name; the account name if unset.")
    ] = None,
) -> None:
    """Create a staff account (or give an existing account a staff role). Reads the password
    from the ACCORD_STAFF_PASSWORD variable or asks for it."""
    from models.accounts.passwords import Passwords
    from models.accounts.staff import create_staff as create

    settings = read_settings()
    password = os.environ.get("ACCORD_STAFF_PASSWORD") or getpass.getpass("Password: ")

    async def run() -> tuple[str, bool]:
        passwords = Passwords(settings)
        try:
            async with orm(settings):
                return await create(passwords, account_name, role, password, nickname)
        finally:
            passwords.close()

    try:
        account, created = asyncio.run(run())
    except ValueError as error:
        typer.echo(str(error), err=True)
        raise typer.Exit(2) from None
    typer.echo(f"{'Created' if created else 'Updated'} {account} with role {role}.")
