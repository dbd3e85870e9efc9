"""Hash chains: rows each bound to the one before by a SHA-256 over its hash and their own
canonical bytes, numbered from 1, ending at a head row that names the last one's number and
hash. The consent ledger keeps one per subject (``models.consent.ledger``), the staff audit
log one for the deployment (``models.rights.audit``); both are checked by ``walk``, so a
link is judged the same way in either.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Protocol, TypeVar

#: The hash before the first link.
GENESIS = "0" * 64


class Link(Protocol):
    @property
    def id(self) -> int | None: ...

    @property
    def seq(self) -> int: ...

    @property
    def prev_hash(self) -> str: ...

    @property
    def hash(self) -> str: ...


LINK = TypeVar("LINK", bound=Link)


@dataclass
class Walked:
    ok: bool
    checked: int
    #: The first link whose hash, back-link or place in the sequence is wrong (or the last
    #: good one, when the head disagrees with the end of the chain).
    first_broken_id: int | None


async def walk(
    links_from: Callable[[int, int], Awaitable[Sequence[LINK]]],
    rehash: Callable[[str, LINK], str],
    head: Callable[[], Awaitable[tuple[int, str] | None]],
    page: int = 1000,
) -> Walked:
    """Recompute every hash in order, a page at a time (``links_from(first_seq, limit)``),
    and compare the end with the ``head`` (its seq and hash; None when there is none: then
    the chain must be empty)."""
    prev, expected_seq, checked, last_id = GENESIS, 1, 0, None
    while True:
        links = await links_from(expected_seq, page)
        for link in links:
            if (
                link.seq != expected_seq
                or link.prev_hash != prev
                or rehash(prev, link) != link.hash
            ):
                return Walked(False, checked, link.id)
            prev, expected_seq, checked, last_id = link.hash, expected_seq + 1, checked + 1, link.id
        if len(links) < page:
            break
    end = await head()
    if (end is None and checked) or (end is not None and end != (expected_seq - 1, prev)):
        return Walked(False, checked, last_id)
    return Walked(True, checked, None)
