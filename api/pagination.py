"""Relay connections over keyset pages (``id`` descending: newest first).

The types are ``strawberry.relay``'s (``Connection``, ``Edge``, ``PageInfo``: every field the
Relay cursor spec names); the paging is ours. ``@relay.connection`` pages a list by offset
(``arrayconnection:N`` cursors), so a deep page costs every row before it; here a cursor is
the last row's key and a page never uses OFFSET, so deep pages cost what the first one does.

Pagination is forward (``first``/``after``): ``hasPreviousPage`` is false, as the spec allows
when paginating forward, and ``startCursor``/``endCursor`` are the first and last edges'.
Cursors are opaque.
"""

from __future__ import annotations

import base64
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import TypeVar

from strawberry import relay
from tortoise.queryset import QuerySet

MAX_PAGE = 100
#: The largest id a BIGINT column holds; anything above is no row's id.
MAX_ID = 2**63 - 1
Node = TypeVar("Node", bound=relay.Node)
Row = TypeVar("Row")
#: ``Connection[Favorite]`` is GraphQL's ``FavoriteConnection`` (and ``FavoriteEdge``).
Connection = relay.Connection
Edge = relay.Edge
PageInfo = relay.PageInfo


def page(edges: list[relay.Edge[Node]], has_next: bool) -> relay.Connection[Node]:
    """A forward page of ready edges."""
    return relay.Connection(
        edges=edges,
        page_info=relay.PageInfo(
            has_next_page=has_next,
            has_previous_page=False,
            start_cursor=edges[0].cursor if edges else None,
            end_cursor=edges[-1].cursor if edges else None,
        ),
    )


def empty() -> relay.Connection:
    """What a field shows a reader it does not serve: a page with nothing on it."""
    return page([], False)


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
) -> relay.Connection[Node]:
    return page(
        [relay.Edge(cursor=encode_cursor(row.id), node=node(row)) for row in rows],  # type: ignore[attr-defined]
        has_next,
    )


#: Where a forged position cursor points: after every row, so the page is empty.
_NOWHERE = (datetime.max.replace(tzinfo=UTC), MAX_ID)


def encode_position(kind: str, moment: datetime, row_id: int) -> str:
    """The cursor of a row in a list ordered by a time, then id, ascending (soonest first;
    ``kind`` names the list)."""
    position = f"{kind}:{moment.astimezone(UTC).isoformat()}|{row_id}"
    return base64.urlsafe_b64encode(position.encode()).decode()


def decode_position(kind: str, cursor: str | None) -> tuple[datetime, int] | None:
    """(time, id) of an ``encode_position`` cursor of ``kind``; a forged one is a position
    no row follows (an empty page), never an error."""
    if not cursor:
        return None
    try:
        found, _, rest = base64.urlsafe_b64decode(cursor.encode()).decode().partition(":")
        moment, _, last_id = rest.partition("|")
        if found == kind and (row_id := parse_id(last_id)) is not None:
            at = datetime.fromisoformat(moment)
            if at.tzinfo is not None:
                return at, row_id
    except (ValueError, UnicodeDecodeError):
        pass
    return _NOWHERE
