"""Tortoise's SQLite client, with write transactions that take the write lock up front.

Two processes share the SQLite file (the API and a worker). A plain ``BEGIN`` starts a read
transaction that upgrades to a write on its first INSERT; if another connection wrote in
between, SQLite cannot wait (it would deadlock) and fails at once with "database is
locked", whatever the busy timeout. ``BEGIN IMMEDIATE`` takes the write lock at the start,
so writers queue behind each other for up to the busy timeout instead. Used through the
engine path ``accord.sqlite_backend`` in ``accord.database``.
"""

from __future__ import annotations

import sqlite3

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


class ImmediateSqliteClient(SqliteClient):
    def _in_transaction(self) -> TransactionContext:
        return SqliteTransactionContext(ImmediateTransactionWrapper(self), self._lock)


client_class = ImmediateSqliteClient


def get_client_class(db_info: dict) -> type[SqliteClient]:
    return ImmediateSqliteClient
