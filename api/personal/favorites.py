"""Favorites at the GraphQL edge."""

from __future__ import annotations

from datetime import datetime

import strawberry
from strawberry.types import Info

from api.pagination import (
    Connection,
    connection,
    fetch_page,
    parse_id,
)
from api.payloads import payload
from api.personal.errors import PersonalDataError
from models.errors import DomainError
from models.personal import favorites
from models.personal.errors import PersonalDataErrorCode


@strawberry.type(description="An item the user keeps.")
class Favorite:
    id: strawberry.ID
    item_type: str
    item_id: str
    note: str
    created_at: datetime

    @classmethod
    def of(cls, row: favorites.Favorite) -> Favorite:
        return cls(
            id=strawberry.ID(str(row.id)),
            item_type=row.item_type,
            item_id=row.item_id,
            note=row.note,
            created_at=row.created_at,
        )


@strawberry.input
class AddFavoriteInput:
    item_type: str
    item_id: str
    note: str | None = None


@strawberry.input
class RemoveFavoriteInput:
    id: strawberry.ID


@strawberry.type
class AddFavoritePayload:
    favorite: Favorite | None = None
    errors: list[PersonalDataError] = strawberry.field(default_factory=list)


@strawberry.type
class RemoveFavoritePayload:
    errors: list[PersonalDataError] = strawberry.field(default_factory=list)


def _id(raw: strawberry.ID) -> int:
    row_id = parse_id(raw)
    if row_id is None:
        raise DomainError(PersonalDataErrorCode.NOT_FOUND, "id", "no such item")
    return row_id


async def favorites_page(
    account_id: int, first: int, after: str | None, item_type: str | None
) -> Connection[Favorite]:
    query = favorites.Favorite.filter(account_id=account_id)
    if item_type is not None:
        query = query.filter(item_type=item_type)
    rows, more = await fetch_page(query, first, after)
    return connection(rows, more, Favorite.of)


@strawberry.type
class FavoriteMutations:
    @strawberry.mutation(description="Adding an item already kept returns the kept one.")
    @payload(PersonalDataError, signed_in=True)
    async def add_favorite(self, info: Info, input: AddFavoriteInput) -> AddFavoritePayload:
        account = await info.context.require_viewer()
        row = await favorites.add_favorite(account, input.item_type, input.item_id, input.note)
        return AddFavoritePayload(favorite=Favorite.of(row))

    @strawberry.mutation
    @payload(PersonalDataError, signed_in=True)
    async def remove_favorite(
        self, info: Info, input: RemoveFavoriteInput
    ) -> RemoveFavoritePayload:
        account = await info.context.require_viewer()
        await favorites.remove_favorite(account, _id(input.id))
        return RemoveFavoritePayload()
