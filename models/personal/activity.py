"""Search keywords and clicked links: kept only while the subject consents to ``activity_log``.

Consent is checked at the moment of recording, against the ledger's current state; without
it nothing is stored. Withdrawing it erases the subject's rows in the same transaction
(``models.personal.consent_bound``); rows older than the retention period are deleted by the
sweeper.
"""

from __future__ import annotations

import unicodedata
from datetime import timedelta
from urllib.parse import urlsplit

from tortoise import fields
from tortoise.expressions import Q

from models import clock
from models.accounts.account import Account
from models.batches import delete_in_batches
from models.consent.ledger import (
    EventKind,
    device_subject,
    latest_decisions,
    subjects_of,
    truncate_address,
)
from models.errors import DomainError
from models.keys.data_keys import recorder_subject
from models.keys.device_refs import device_ref
from models.keys.sealed_fields import SealedField, SealedManager, SealedModel
from models.personal.errors import PersonalDataErrorCode

PURPOSE = "activity_log"
KEYWORDS_MAX = 200
LINK_MAX = 2048


class SearchRecord(SealedModel):
    id = fields.BigIntField(primary_key=True)
    account: fields.ForeignKeyNullableRelation[Account] = fields.ForeignKeyField(
        "models.Account",
        null=True,
        related_name="search_records",
        on_delete=fields.CASCADE,
        db_index=True,
    )
    account_id: int | None  # set by the ORM
    # The device's reference (``models.keys.device_refs``), never its id.
    device_id = fields.CharField(max_length=128, null=True, db_index=True)
    keywords = SealedField(max_length=KEYWORDS_MAX)
    client_address = SealedField(max_length=64, default="")
    user_agent = SealedField(max_length=255, default="")
    recorded_at = fields.DatetimeField(db_index=True)

    class Meta:
        manager = SealedManager()
        table = "search_record"

    def sealed_subject(self) -> str | None:
        """The account's key; for an anonymous device's record, the device's."""
        return recorder_subject(self.account_id, self.device_id)


class ClickRecord(SealedModel):
    id = fields.BigIntField(primary_key=True)
    account: fields.ForeignKeyNullableRelation[Account] = fields.ForeignKeyField(
        "models.Account",
        null=True,
        related_name="click_records",
        on_delete=fields.CASCADE,
        db_index=True,
    )
    account_id: int | None  # set by the ORM
    # The device's reference (``models.keys.device_refs``), never its id.
    device_id = fields.CharField(max_length=128, null=True, db_index=True)
    link = SealedField(max_length=LINK_MAX)
    client_address = SealedField(max_length=64, default="")
    user_agent = SealedField(max_length=255, default="")
    recorded_at = fields.DatetimeField(db_index=True)

    class Meta:
        manager = SealedManager()
        table = "click_record"

    def sealed_subject(self) -> str | None:
        """The account's key; for an anonymous device's record, the device's."""
        return recorder_subject(self.account_id, self.device_id)


async def consents_to_activity_log(account: Account | None, device_id: str | None) -> bool:
    if account is not None:
        subjects = await subjects_of(account.id)
    elif device_id is not None:
        subjects = [device_subject(device_id)]
    else:
        return False
    latest = (await latest_decisions(subjects)).get(PURPOSE)
    return latest is not None and latest.kind == EventKind.GRANTED


def _control(value: str) -> bool:
    """Control characters, or lone surrogates (which no database column can hold)."""
    return any(unicodedata.category(c) in ("Cc", "Cs") for c in value)


def clean_keywords(raw: str) -> str:
    value = " ".join(raw.split())
    if not value or len(value) > KEYWORDS_MAX or _control(value):
        raise DomainError(
            PersonalDataErrorCode.INVALID, "keywords", f"must be 1-{KEYWORDS_MAX} characters"
        )
    return value


def clean_link(raw: str) -> str:
    link = raw.strip()
    try:
        parts = urlsplit(link) if len(link) <= LINK_MAX and not _control(link) else None
        host = parts.hostname if parts is not None else None
    except ValueError:  # e.g. "http://[::1" (an unclosed IPv6 bracket)
        parts = host = None
    if parts is None or parts.scheme not in ("http", "https") or not host:
        raise DomainError(PersonalDataErrorCode.INVALID, "link", "must be an http(s) URL")
    return link


async def record_search(
    account: Account | None,
    device_id: str | None,
    keywords: str,
    *,
    user_agent: str,
    client_address: str,
) -> bool:
    """Store the search if (and only if) the subject consents; True when stored."""
    return await _record(
        SearchRecord,
        account,
        device_id,
        user_agent,
        client_address,
        keywords=clean_keywords(keywords),
    )


async def record_click(
    account: Account | None,
    device_id: str | None,
    link: str,
    *,
    user_agent: str,
    client_address: str,
) -> bool:
    """Store the click if (and only if) the subject consents; True when stored."""
    return await _record(
        ClickRecord, account, device_id, user_agent, client_address, link=clean_link(link)
    )


async def _record(
    model: type[SearchRecord] | type[ClickRecord],
    account: Account | None,
    device_id: str | None,
    user_agent: str,
    client_address: str,
    **values: str,
) -> bool:
    if not await consents_to_activity_log(account, device_id):
        return False
    await model.create(
        account=account,
        device_id=None if device_id is None else device_ref(device_id),
        user_agent=user_agent[:255],
        client_address=truncate_address(client_address),
        recorded_at=clock.now(),
        **values,  # type: ignore[arg-type]  # create() takes using_db before **kwargs
    )
    return True


async def purge_older_than(days: int, batch_size: int) -> int:
    """Delete activity past its retention (safe to run twice at once)."""
    old = Q(recorded_at__lt=clock.now() - timedelta(days=days))
    return sum([await delete_in_batches(m, old, batch_size) for m in (SearchRecord, ClickRecord)])
