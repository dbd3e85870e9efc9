"""schema.graphql is what the code exports; frontend teams code against it."""

from __future__ import annotations

from pathlib import Path

from accord.settings import load_settings
from api.schema import schema_sdl

SCHEMA_FILE = Path(__file__).resolve().parent.parent / "schema.graphql"


def test_schema_file_is_current():
    exported = schema_sdl(load_settings(env="dev", data_dir=Path("/nonexistent")))
    assert SCHEMA_FILE.read_text() == exported, (
        "schema.graphql is stale: run `accord export-schema`"
    )


def test_mutations_follow_the_input_and_payload_convention():
    from api.schema import Mutation

    for field in Mutation.__strawberry_definition__.fields:
        name = field.python_name
        pascal = "".join(part.title() for part in name.split("_"))
        assert field.type.__name__ == f"{pascal}Payload", name
        args = {a.python_name: a for a in field.arguments}
        if args:
            assert list(args) == ["input"], name
            assert args["input"].type.__name__ == f"{pascal}Input", name
