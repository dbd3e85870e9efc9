"""Tortoise's SQLite client, with write transactions that take the write lock up front.

Two processes share the SQLite file (the API and a worker). A plain ``BEGIN`` starts a read
transaction that upgrades to a write on its first INSERT; if another connection wrote in
between, SQLite cannot wait (it would deadlock) and fails at once with "database is
locked", whatever the busy timeout. ``BEGIN IMMEDIATE`` takes the write lock at the start,
so writers queue behind each other for up to the busy timeout instead. Used through the
engine path ``accord.sqlite_backend`` in ``accord.database``.

It also reads TIMESTAMP columns as datetimes in C (``datetime.fromisoformat``) instead of
leaving strings for Tortoise to parse in Python: a page of 50 rows spent a third of its time
in that parser. sqlite3 converters are process-wide; this one only acts on connections
opened with ``detect_types`` and returns anything it cannot read unchanged, as text, for
Tortoise's own parser.
"""

from __future__ import annotations

import sqlite3
from datetime import datetime

import aiosqlite
from tortoise.backends.base.client import TransactionContext
from tortoise.backends.sqlite.client import (
    SqliteClient,
    SqliteTransactionContext,
    SqliteTransactionWrapper,
)
from tortoise.exceptions import OperationalError, TransactionManagementError


class ImmediateTransactionWrapper(SqliteTransactionWrapper):
    async def begin(self) -> None:
        try:
            await self._connection.commit()
            await self._connection.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as error:
            if "locked" in str(error) or "busy" in str(error):  # waited the busy timeout
                raise OperationalError(error) from error
            raise TransactionManagementError(error) from error


def _timestamp(raw: bytes) -> datetime | str:
    text = raw.decode()
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        return text


sqlite3.register_converter("TIMESTAMP", _timestamp)


def timestamp_text(moment: datetime) -> str:
    """A datetime as TIMESTAMP columns hold it, for statements written in SQL: what Tortoise
    and sqlite3's datetime adapter (deprecated since Python 3.12) write, and ``_timestamp``
    reads back."""
    return moment.isoformat(" ")


class ImmediateSqliteClient(SqliteClient):
    def _in_transaction(self) -> TransactionContext:
        return SqliteTransactionContext(ImmediateTransactionWrapper(self), self._lock)

    async def create_connection(self, with_db: bool) -> None:
        """Tortoise's own, plus ``detect_types`` so that TIMESTAMP columns are converted."""
        if not self._connection:
            self._connection = await aiosqlite.connect(
                self.filename, isolation_level=None, detect_types=sqlite3.PARSE_DECLTYPES
            )
            self._connection._conn.row_factory = sqlite3.Row
            for pragma, value in self.pragmas.items():
                cursor = await self._connection.execute(f"PRAGMA {pragma}={value}")
                await cursor.close()
            await self._post_connect()


client_class = ImmediateSqliteClient


def get_client_class(db_info: dict) -> type[SqliteClient]:
    return ImmediateSqliteClient
