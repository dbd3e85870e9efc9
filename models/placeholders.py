"""Parameter placeholders for the few statements written in SQL rather than built by Tortoise
(bulk inserts and lookups where the query builder cost more than the query)."""

from __future__ import annotations


def placeholders(dialect: str, count: int, start: int = 1) -> str:
    """``?, ?, ?`` for SQLite, ``$1, $2, $3`` (from ``start``) for PostgreSQL."""
    if dialect == "sqlite":
        return ", ".join("?" * count)
    return ", ".join(f"${i}" for i in range(start, start + count))
