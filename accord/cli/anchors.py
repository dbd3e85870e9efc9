"""``accord anchors``: check a consent receipt against the published consent anchors,
offline (``models.consent.anchor_check``; ``docs/consent-anchors.md``)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

anchors_cli = typer.Typer(
    help="Consent anchors: the ledger's published history.", no_args_is_help=True
)


def _text(path: Path) -> str:
    try:
        return path.read_text().strip()
    except OSError as error:
        typer.echo(f"Cannot read {path}: {error.strerror}", err=True)
        raise typer.Exit(2) from None


@anchors_cli.command("verify")
def verify(
    receipt: Annotated[Path, typer.Argument(help="The receipt (a compact JWS) in a file.")],
    jwks: Annotated[
        Path, typer.Option(help="The key set, saved from /.well-known/jwks.json.")
    ] = Path("jwks.json"),
    proof: Annotated[
        Path | None,
        typer.Option(help="The receipt's proof (consentAnchorProof), if it carries none."),
    ] = None,
) -> None:
    """Exit 0 when the receipt is signed by the published key and its event is in a signed
    anchor (each step printed), 1 when a step fails (which one), 2 when a file is unreadable."""
    from models.consent.anchor_check import NotVerified, verify_receipt

    try:
        keys = json.loads(_text(jwks))
    except json.JSONDecodeError:
        typer.echo(f"{jwks} is not JSON", err=True)
        raise typer.Exit(2) from None
    try:
        found = verify_receipt(_text(receipt), keys, _text(proof) if proof is not None else None)
    except NotVerified as error:
        typer.echo(f"NOT VERIFIED: {error}", err=True)
        raise typer.Exit(1) from None
    for step in found.steps:
        typer.echo(f"ok: {step}")
    typer.echo(
        f"VERIFIED: receipt {found.receipt_id} is in the anchor of {found.anchor_period} "
        f"(root {found.root_hash}, {found.tree_size} chains). Compare that root with the one "
        "published at /.well-known/consent-anchors, or with a copy you kept."
    )
