"""``accord settings``: the table of settings, printed or written into the README."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from accord.settings import settings_table


def show_settings(
    readme: Annotated[Path | None, typer.Option(help="Rewrite the table in this file.")] = None,
) -> None:
    """Print the table of settings, or rewrite the README's copy of it."""
    if readme is None:
        typer.echo(settings_table())
        return
    begin, end = "<!-- settings:begin -->", "<!-- settings:end -->"
    text = readme.read_text()
    head, _, rest = text.partition(begin)
    _, _, tail = rest.partition(end)
    readme.write_text(f"{head}{begin}\n{settings_table()}\n{end}{tail}")
    typer.echo(f"Wrote the settings table to {readme}")
