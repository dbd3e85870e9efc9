"""The personal-data fields of ``Account``; only the account itself (or an ADMIN) reads them."""

from __future__ import annotations

import strawberry
from strawberry.types import Info

from api.pagination import Connection, connection, fetch_page
from api.personal.favorites import Favorite, favorites_page
from api.personal.feedback import Feedback, feedback_page
from api.personal.support import SupportThread
from models.accounts.account import Role
from models.personal.support import SupportThread as SupportThreadRow


async def _allowed(info: Info, account_id: int) -> bool:
    viewer = await info.context.viewer()
    return viewer is not None and (viewer.id == account_id or viewer.role == Role.ADMIN)


def _empty() -> Connection:
    return connection([], False, lambda row: row)


@strawberry.type
class AccountPersonalFields:
    """Mixed into ``Account``; resolvers read ``self.id``."""

    @strawberry.field(description="Newest first; `first` is capped at 100.")
    async def favorites(
        self, info: Info, first: int = 20, after: str | None = None, item_type: str | None = None
    ) -> Connection[Favorite]:
        account_id = int(self.id)  # type: ignore[attr-defined]
        if not await _allowed(info, account_id):
            return _empty()
        return await favorites_page(account_id, first, after, item_type)

    @strawberry.field(description="Your feedback, public and private, newest first.")
    async def feedback(
        self, info: Info, first: int = 20, after: str | None = None
    ) -> Connection[Feedback]:
        account_id = int(self.id)  # type: ignore[attr-defined]
        if not await _allowed(info, account_id):
            return _empty()
        return await feedback_page(account_id, first, after)

    @strawberry.field(description="Your support correspondence, newest first.")
    async def support_threads(
        self, info: Info, first: int = 20, after: str | None = None
    ) -> Connection[SupportThread]:
        account_id = int(self.id)  # type: ignore[attr-defined]
        if not await _allowed(info, account_id):
            return _empty()
        rows, more = await fetch_page(SupportThreadRow.filter(account_id=account_id), first, after)
        return connection(rows, more, SupportThread.of)
