"""How Accord connects to PostgreSQL."""

from __future__ import annotations

import pytest
from tortoise import connections

from accord.database import connection_config
from accord.settings import load_settings


def test_postgres_connections_plan_every_statement_with_its_values() -> None:
    config = connection_config(load_settings(database_url="postgres://app@db.internal:5432/accord"))
    assert config["engine"] == "tortoise.backends.asyncpg"
    assert config["credentials"]["server_settings"]["plan_cache_mode"] == "force_custom_plan"
    assert config["credentials"]["database"] == "accord"


async def test_the_setting_reaches_the_server(app, backend: str) -> None:
    if backend != "postgres":
        pytest.skip("a PostgreSQL setting")
    _, rows = await connections.get("default").execute_query("SHOW plan_cache_mode")
    assert rows[0][0] == "force_custom_plan"
