"""Favorites: items a user keeps. Adding the same item twice returns the one already kept."""

from __future__ import annotations

import unicodedata

from tortoise import fields
from tortoise.exceptions import IntegrityError

from models.accounts.account import Account
from models.errors import DomainError
from models.keys.blind_indexes import blind_index
from models.keys.data_keys import account_subject
from models.keys.sealed_fields import SealedField, SealedManager, SealedModel
from models.personal.errors import PersonalDataErrorCode

ITEM_TYPE_MAX = 64
ITEM_ID_MAX = 128
NOTE_MAX = 500
#: The blind index's purpose (``models.keys.blind_indexes``) for the item a favorite keeps.
ITEM_INDEX = "favorite item"


class Favorite(SealedModel):
    """An item kept by an account: which item, and the note, sealed under its key."""

    id = fields.BigIntField(primary_key=True)
    account: fields.ForeignKeyRelation[Account] = fields.ForeignKeyField(
        "models.Account", related_name="favorites", on_delete=fields.CASCADE
    )
    account_id: int  # set by the ORM
    item_type = fields.CharField(max_length=ITEM_TYPE_MAX)
    item_id = SealedField(max_length=ITEM_ID_MAX, blind_index=("item_index", ITEM_INDEX))
    item_index = fields.CharField(max_length=32, null=True)
    note = SealedField(max_length=NOTE_MAX, default="")
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        manager = SealedManager()
        table = "favorite"
        unique_together = (("account", "item_type", "item_index"),)

    def sealed_subject(self) -> str | None:
        return account_subject(self.account_id)


def _control(c: str) -> bool:
    """A control character or a lone surrogate (which no database column can hold)."""
    return unicodedata.category(c) in ("Cc", "Cs")


def _token(raw: str, field: str, limit: int) -> str:
    value = raw.strip()
    if not value or len(value) > limit or any(c.isspace() or _control(c) for c in value):
        raise DomainError(
            PersonalDataErrorCode.INVALID, field, f"must be 1-{limit} characters, no spaces"
        )
    return value


async def add_favorite(
    account: Account, item_type: str, item_id: str, note: str | None
) -> Favorite:
    item_type = _token(item_type, "itemType", ITEM_TYPE_MAX)
    item_id = _token(item_id, "itemId", ITEM_ID_MAX)
    note = (note or "").strip()
    if len(note) > NOTE_MAX or any(_control(c) and c != "\n" for c in note):
        raise DomainError(
            PersonalDataErrorCode.INVALID, "note", f"must be at most {NOTE_MAX} characters"
        )
    key = {
        "account_id": account.id,
        "item_type": item_type,
        "item_index": await blind_index(ITEM_INDEX, item_id),
    }
    existing = await Favorite.get_or_none(**key)
    if existing is not None:
        return existing
    try:
        return await Favorite.create(**key, item_id=item_id, note=note)
    except IntegrityError:  # the same item added twice at once
        return await Favorite.get(**key)


async def remove_favorite(account: Account, favorite_id: int) -> None:
    if not await Favorite.filter(id=favorite_id, account_id=account.id).delete():
        raise DomainError(PersonalDataErrorCode.NOT_FOUND, "id", "no such favorite of yours")
