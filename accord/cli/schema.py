"""``accord export-schema``: the GraphQL schema the code defines, as SDL."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from accord.settings import load_settings


def export_schema(
    output: Annotated[Path, typer.Option(help="Where to write the SDL.")] = Path("schema.graphql"),
) -> None:
    """Write the GraphQL schema (SDL) that the code defines."""
    from api.schema import schema_sdl

    output.write_text(schema_sdl(load_settings(env="dev")))
    typer.echo(f"Wrote {output}")
