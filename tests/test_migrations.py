"""The migrations are the schema: complete, applied, and creating every index the models ask for."""

from __future__ import annotations

import sqlite3

from tortoise import Tortoise, connections

from accord.database import detect_model_changes
from models.consent.purposes import DEFAULT_PURPOSES
from tests.processes import accord, clean_env


async def test_models_have_no_changes_without_a_migration(settings):
    changes = await detect_model_changes(settings)
    assert changes == [], "run `accord makemigrations`: " + ", ".join(w.name for w in changes)


def test_accord_migrate_gives_a_fresh_database_the_default_purposes(tmp_path):
    """Seeding lives in the wiring (accord.cli), not in accord.database: the command an
    operator runs must still do it."""
    log = tmp_path / "migrate.log"
    env = clean_env(ACCORD_DATA_DIR=str(tmp_path / "var"))
    assert accord("migrate", cwd=tmp_path, env=env, log=log).wait(timeout=120) == 0, log.read_text()
    with sqlite3.connect(tmp_path / "var" / "accord.sqlite3") as db:
        codes = {code for (code,) in db.execute("SELECT code FROM purpose")}
    assert codes == {p["code"] for p in DEFAULT_PURPOSES}


async def _indexes(model) -> set[tuple[str, ...]]:
    db = connections.get(model._meta.default_connection or "default")
    table = model._meta.db_table
    if db.capabilities.dialect == "sqlite":
        found = set()
        for row in await db.execute_query_dict(f"PRAGMA index_list('{table}')"):
            cols = await db.execute_query_dict(f"PRAGMA index_info('{row['name']}')")
            found.add(tuple(c["name"] for c in sorted(cols, key=lambda c: c["seqno"])))
        return found
    rows = await db.execute_query_dict(
        """
        SELECT array_agg(a.attname ORDER BY k.n) AS cols
        FROM pg_index i
        JOIN pg_class t ON t.oid = i.indrelid
        CROSS JOIN LATERAL unnest(i.indkey) WITH ORDINALITY AS k(attnum, n)
        JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = k.attnum
        WHERE t.relname = $1
        GROUP BY i.indexrelid
        """,
        [table],
    )
    return {tuple(r["cols"]) for r in rows}


def _wanted(model) -> list[tuple[str, ...]]:
    meta = model._meta
    wanted = []
    for name, field in meta.fields_map.items():
        if field.pk or not (field.index or field.unique) or name in meta.fetch_fields:
            continue
        wanted.append((field.source_field or name,))
    for group in (*meta.unique_together, *meta.indexes):
        fields = getattr(group, "fields", group)
        wanted.append(tuple(meta.fields_map[f].source_field or f for f in fields))
    return wanted


async def test_every_declared_index_exists_in_the_database(app, settings):
    missing = []
    for model in Tortoise.apps.get_models_iterable():
        table = model._meta.db_table
        present = await _indexes(model)
        for columns in _wanted(model):
            if not any(index[: len(columns)] == columns for index in present):
                missing.append(f"{table}{columns}")
    assert missing == []


async def test_the_schema_came_from_migrations(app, settings):
    db = connections.get("default")
    rows = await db.execute_query_dict("SELECT app, name FROM tortoise_migrations")
    assert {"app": "models", "name": "0001_initial"} in [dict(r) for r in rows]


def test_no_model_description_has_a_semicolon(app):
    """Tortoise 1.x writes descriptions into SQLite DDL comments and splits on ';'."""
    offending = []
    for model in Tortoise.apps.get_models_iterable():
        meta = model._meta
        texts = [("table", meta.table_description or "")]
        texts += [(name, f.description or "") for name, f in meta.fields_map.items()]
        offending += [f"{meta.db_table}.{name}" for name, text in texts if ";" in text]
    assert offending == []
