"""What the SQLite client adds to Tortoise's: timestamps read in C, values kept exact."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from tortoise import connections

from accord.sqlite_backend import _timestamp
from models.accounts.account import Account
from models.personal.favorites import Favorite


def test_timestamp_converter_reads_what_tortoise_writes() -> None:
    assert _timestamp(b"2026-11-29 05:49:55.123456+00:00") == datetime(
        2026, 11, 29, 5, 49, 55, 123456, tzinfo=UTC
    )
    assert _timestamp(b"2026-11-29 07:49:55+02:00") == datetime(2026, 11, 29, 5, 49, 55, tzinfo=UTC)
    # Anything else is left as text for Tortoise's own parser.
    assert _timestamp(b"not a time") == "not a time"


async def test_timestamps_round_trip_exactly(app, settings) -> None:
    account = await Account.create(account_name="clock.user", nickname="Clock")
    written = datetime(2026, 3, 1, 23, 59, 59, 999999, tzinfo=timezone(timedelta(hours=-5)))
    favorite = await Favorite.create(account=account, item_type="t", item_id="1", note="")
    await Favorite.filter(id=favorite.id).update(created_at=written)
    read = await Favorite.get(id=favorite.id)
    assert read.created_at == written
    assert read.created_at.utcoffset() == timedelta(0)  # stored and served in UTC
    if not settings.is_sqlite:
        pytest.skip("the converter is the SQLite client's")
    rows = await connections.get("default").execute_query_dict(
        "SELECT created_at FROM favorite WHERE id = ?", [favorite.id]
    )
    assert isinstance(rows[0]["created_at"], datetime)
