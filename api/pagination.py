"""Relay-style connections over keyset pages (``id`` descending: newest first).

Cursors are opaque; a page never uses OFFSET, so deep pages cost what the first one does.
"""

from __future__ import annotations

import base64
from collections.abc import Callable, Sequence
from typing import Generic, TypeVar

import strawberry
from tortoise.queryset import QuerySet

MAX_PAGE = 100
#: The largest id a BIGINT column holds; anything above is no row's id.
MAX_ID = 2**63 - 1
Node = TypeVar("Node")
Row = TypeVar("Row")


@strawberry.type
class PageInfo:
    has_next_page: bool
    end_cursor: str | None


@strawberry.type
class Edge(Generic[Node]):
    cursor: str
    node: Node


@strawberry.type
class Connection(Generic[Node]):
    edges: list[Edge[Node]]
    page_info: PageInfo


def encode_cursor(row_id: int) -> str:
    return base64.urlsafe_b64encode(f"id:{row_id}".encode()).decode()


def parse_id(raw: object) -> int | None:
    """A row id from client input: ASCII digits naming a value a BIGINT can hold, else None.

    (``str.isdigit`` alone is not enough: it accepts "²", which ``int`` refuses, and numbers
    too large for the column, which the database driver refuses, both as a server error.)
    """
    value = str(raw)
    if not value.isascii() or not value.isdigit() or len(value) > 19:
        return None
    number = int(value)
    return number if 0 < number <= MAX_ID else None


def decode_cursor(cursor: str | None) -> int | None:
    if not cursor:
        return None
    try:
        kind, _, value = base64.urlsafe_b64decode(cursor.encode()).decode().partition(":")
        if kind == "id" and (row_id := parse_id(value)) is not None:
            return row_id
    except (ValueError, UnicodeDecodeError):
        pass
    return -1  # matches nothing: a forged cursor reads an empty page


def clamp(first: int) -> int:
    """``first`` within 0..MAX_PAGE (Relay: 0 asks only whether there is anything)."""
    return max(0, min(first, MAX_PAGE))


async def fetch_page(query: QuerySet, first: int, after: str | None) -> tuple[list, bool]:
    """``first`` rows after the cursor, newest first, and whether more exist."""
    first = clamp(first)
    after_id = decode_cursor(after)
    if after_id is not None:
        query = query.filter(id__lt=after_id)
    rows = await query.order_by("-id").limit(first + 1)
    return list(rows[:first]), len(rows) > first


def connection(
    rows: Sequence[Row], has_next: bool, node: Callable[[Row], Node]
) -> Connection[Node]:
    edges = [Edge(cursor=encode_cursor(row.id), node=node(row)) for row in rows]  # type: ignore[attr-defined]
    return Connection(
        edges=edges,
        page_info=PageInfo(has_next_page=has_next, end_cursor=edges[-1].cursor if edges else None),
    )
