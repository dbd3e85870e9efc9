"""The consent fields of ``Account``: its current consents, re-consent flag and history.

Only the account itself (or an ADMIN) reads them; anyone else gets nothing.
"""

from __future__ import annotations

import strawberry
from strawberry.types import Info

from api.consent.types import (
    Consent,
    ConsentEvent,
    ConsentEventConnection,
    ConsentEventEdge,
    after_id,
)
from api.pagination import PageInfo, clamp, encode_cursor
from models.accounts.account import Role
from models.consent import decisions


async def _subjects_if_allowed(info: Info, account_id: int) -> list[str] | None:
    viewer = await info.context.viewer()
    if viewer is None or (viewer.id != account_id and viewer.role != Role.ADMIN):
        return None
    return await info.context.consent_loaders.subjects.load(account_id)


@strawberry.type
class AccountConsentFields:
    """Mixed into ``Account``; resolvers read ``self.id``."""

    @strawberry.field(description="One row per purpose: the latest decision, or the default.")
    async def consents(self, info: Info) -> list[Consent]:
        subjects = await _subjects_if_allowed(info, int(self.id))  # type: ignore[attr-defined]
        if subjects is None:
            return []
        return [Consent.of(row) for row in await decisions.current_consents(subjects)]

    @strawberry.field(
        description="True while a material policy version is in effect that you have not "
        "accepted (acceptPolicy)."
    )
    async def requires_reconsent(self, info: Info) -> bool:
        subjects = await _subjects_if_allowed(info, int(self.id))  # type: ignore[attr-defined]
        return False if subjects is None else await decisions.requires_reconsent(subjects)

    @strawberry.field(description="Your consent ledger, newest first.")
    async def consent_history(
        self, info: Info, first: int = 20, after: str | None = None
    ) -> ConsentEventConnection:
        empty = ConsentEventConnection(
            edges=[], page_info=PageInfo(has_next_page=False, end_cursor=None)
        )
        subjects = await _subjects_if_allowed(info, int(self.id))  # type: ignore[attr-defined]
        if subjects is None:
            return empty
        first = clamp(first)
        rows = await decisions.history(subjects, first, after_id(after))
        edges = [
            ConsentEventEdge(cursor=encode_cursor(r.id), node=ConsentEvent.of(r))
            for r in rows[:first]
        ]
        return ConsentEventConnection(
            edges=edges,
            page_info=PageInfo(
                has_next_page=len(rows) > first, end_cursor=edges[-1].cursor if edges else None
            ),
        )
