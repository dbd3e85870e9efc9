"""Query fields of the rights domain."""

from __future__ import annotations

import strawberry
from strawberry.types import Info

from api.context import Context
from api.permissions import PRIVACY_OFFICE, staff_only
from api.rights.types import DataMap, PersonalDataKind, TableWithoutPersonalData
from models.rights import data_map


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
