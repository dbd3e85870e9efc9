"""Query fields of the rights domain."""

from __future__ import annotations

import strawberry
from strawberry.types import Info

from api.context import Context
from api.pagination import Connection, connection, empty, fetch_page
from api.permissions import OWNER_OR_ADMIN, PRIVACY_OFFICE, staff_only, visible_to
from api.rights.types import DataMap, DataRequest, PersonalDataKind, TableWithoutPersonalData
from models.rights import data_map, requests


@strawberry.type
class RightsQueries:
    @strawberry.field(
        description="PRIVACY_OFFICER: the map of personal data (the record of processing), "
        "generated from the declaration that account deletion reads."
    )
    @staff_only(*PRIVACY_OFFICE)
    async def data_map(self, info: Info[Context, None]) -> DataMap:
        settings = info.context.settings
        return DataMap(
            kinds=[PersonalDataKind.of(entry, settings) for entry in data_map.DATA_MAP],
            tables_without_personal_data=[
                TableWithoutPersonalData(table=table, reason=reason)
                for table, reason in sorted(data_map.NO_PERSONAL_DATA.items())
            ],
        )


@strawberry.type
class AccountRightsFields:
    """Mixed into ``Account``; resolvers read ``self.pk`` (the row id)."""

    @strawberry.field(
        description="Every right you exercised (exports, corrections, erasures, the account's "
        "deletion), newest first, with where each stands and when it is due."
    )
    @visible_to(OWNER_OR_ADMIN, otherwise=empty)
    async def data_requests(
        self, info: Info[Context, None], first: int = 20, after: str | None = None
    ) -> Connection[DataRequest]:
        query = requests.DataRequest.filter(account_id=self.pk)  # type: ignore[attr-defined]
        rows, more = await fetch_page(query, first, after)
        return connection(rows, more, DataRequest.of)
