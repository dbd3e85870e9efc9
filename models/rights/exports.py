"""The export of a user's data (GDPR Art 15 and 20): the row that answers an ACCESS request
with an archive, and the rules of its link.

``exportMyData`` files the request (``request_export``) and queues the job; the job
(``models.rights.export_jobs``) writes the archive and makes the link. The link is the only
key to the archive: its token is random, stored only as a keyed hash, works once
(``claim_download`` marks the row with a conditional update) and only until ``expires_at``
(``ACCORD_EXPORT_LINK_TTL``). Then the sweeper removes the archive, file first and row
second (``remove``), so a crash in between leaves a row that the next sweep finds again,
never a file nothing points to.
"""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import IO, cast

from tortoise import fields
from tortoise.expressions import Q
from tortoise.models import Model

from accord.settings import Settings
from models import clock
from models.accounts.account import Account, AccountStatus
from models.keyed_hashes import keyed_hash
from models.keys.data_keys import KeyDestroyed, account_subject
from models.keys.sealed_fields import SealedManager
from models.keys.sealed_files import FileEncryption, FileUnreadable, opened
from models.rights.data_requests import file_request
from models.rights.export_files import ExportFiles
from models.rights.requests import OPEN_STATUSES, DataRequest, DataRequestKind

#: Where the link leads (``api.rights.pages``).
EXPORT_PATH = "/exports/"
#: A token is ``secrets.token_urlsafe(32)``: 43 characters. Longer input is not looked up.
TOKEN_MAX = 64


class DataExport(Model):
    """One archive answering one ACCESS request, from its building to its removal."""

    id = fields.BigIntField(primary_key=True)
    request: fields.OneToOneRelation[DataRequest] = fields.OneToOneField(
        "models.DataRequest", related_name="export", on_delete=fields.CASCADE
    )
    request_id: int  # set by the ORM
    account: fields.ForeignKeyRelation[Account] = fields.ForeignKeyField(
        "models.Account", related_name="data_exports", on_delete=fields.CASCADE, db_index=True
    )
    account_id: int  # set by the ORM
    created_at = fields.DatetimeField()
    #: The run building it (until ``lease_until``, then the sweeper queues it again).
    lease_token = fields.CharField(max_length=32, null=True)
    lease_until = fields.DatetimeField(null=True)
    attempts = fields.IntField(default=0)
    #: The archive's file name under ``<data_dir>/exports`` (``ExportFiles``), once complete.
    file_key = fields.CharField(max_length=64, null=True)
    size = fields.BigIntField(null=True)
    ready_at = fields.DatetimeField(null=True)
    expires_at = fields.DatetimeField(null=True)
    #: Keyed hash of the link's token (``link_hash``): the token itself is never stored.
    token_hash = fields.CharField(max_length=64, null=True, unique=True)
    downloaded_at = fields.DatetimeField(null=True)
    #: How the archive is sealed (``models.keys.sealed_files``, its file key as associated
    #: data); archives made before files were encrypted are NONE. ``size`` is the plaintext's.
    encryption = fields.CharEnumField(
        FileEncryption,
        max_length=24,
        default=FileEncryption.TINK_STREAMING_V1,
        db_default=FileEncryption.NONE,
    )

    class Meta:
        manager = SealedManager()
        table = "data_export"


def new_link_token() -> str:
    return secrets.token_urlsafe(32)


def link_hash(settings: Settings, token: str) -> str:
    return keyed_hash(settings, "export link", token)


def link_for(settings: Settings, token: str) -> str:
    """The address a user opens: on ``ACCORD_PUBLIC_URL`` (or the path alone in prod
    without one, which the message then explains)."""
    return f"{settings.link_base or ''}{EXPORT_PATH}{token}"


async def request_export(account: Account, settings: Settings) -> DataRequest:
    """File an ACCESS request, verified at once (the caller has just authenticated again);
    REQUEST_IN_PROGRESS while another is open."""
    return await file_request(
        account, DataRequestKind.ACCESS, settings, verified=True, one_at_a_time=True
    )


# --- the link --------------------------------------------------------------------------------


class LinkState(StrEnum):
    READY = "ready"
    #: Downloaded already, or expired: the archive is gone or about to be.
    SPENT = "spent"
    #: No export has this token.
    UNKNOWN = "unknown"


@dataclass
class Download:
    export: DataExport
    #: Opened before the link was spent, so removing the file cannot cut the download;
    #: decrypted as it is read.
    file: IO[bytes]


async def link_state(token: str, settings: Settings) -> tuple[LinkState, DataExport | None]:
    """What a token opens; reads only (a GET of the link, as mail scanners send)."""
    export = None
    if token and len(token) <= TOKEN_MAX:
        export = await DataExport.get_or_none(token_hash=link_hash(settings, token))
    if export is None:
        return LinkState.UNKNOWN, None
    if (
        export.file_key is None
        or export.downloaded_at is not None
        or export.expires_at is None
        or export.expires_at <= clock.now()
    ):
        return LinkState.SPENT, export
    return LinkState.READY, export


async def open_download(token: str, settings: Settings) -> tuple[LinkState, Download | None]:
    """Spend the link, once: the one caller whose conditional update marks the export
    downloaded gets the open archive; any other (a second download, one after expiry, a
    race lost) gets SPENT."""
    state, export = await link_state(token, settings)
    if export is None or export.file_key is None or state != LinkState.READY:
        return state, None
    try:
        source = await asyncio.to_thread(ExportFiles.of(settings).path(export.file_key).open, "rb")
    except FileNotFoundError:
        return LinkState.SPENT, None
    try:
        file = await opened(
            settings,
            account_subject(export.account_id),
            source,
            export.file_key,
            FileEncryption(export.encryption),
        )
    except (FileUnreadable, KeyDestroyed):
        await asyncio.to_thread(source.close)
        return LinkState.SPENT, None
    moment = clock.now()
    claimed = await DataExport.filter(
        id=export.id, downloaded_at__isnull=True, expires_at__gt=moment
    ).update(downloaded_at=moment)
    if not claimed:
        await asyncio.to_thread(file.close)
        return LinkState.SPENT, None
    export.downloaded_at = moment
    return LinkState.READY, Download(export, cast("IO[bytes]", file))


# --- removal -----------------------------------------------------------------------------------


async def remove(export: DataExport, files: ExportFiles) -> None:
    """File first, then row: idempotent, and a crash in between is finished next time."""
    await files.remove(export.id)
    await DataExport.filter(id=export.id).delete()


async def remove_account_exports(
    account_id: int, files: ExportFiles, keys: Sequence[object] | None = None
) -> None:
    """Every export of an account (its deletion), or those of ``keys``."""
    found = DataExport.filter(account_id=account_id)
    if keys is not None:
        found = found.filter(id__in=list(keys))
    for export in await found:
        await remove(export, files)


def _finished(moment: object) -> Q:
    """Exports nobody may download any more: used, expired, of a deleted account, or
    abandoned (their request was answered otherwise and no run holds them)."""
    spent = Q(ready_at__isnull=False) & (Q(downloaded_at__isnull=False) | Q(expires_at__lte=moment))
    abandoned = (
        Q(ready_at__isnull=True)
        & ~Q(request__status__in=list(OPEN_STATUSES))
        & (Q(lease_until__isnull=True) | Q(lease_until__lt=moment))
    )
    return spent | abandoned | Q(account__status=AccountStatus.DELETED)


async def purge_finished(files: ExportFiles, batch_size: int) -> int:
    """The sweeper's part: remove every finished export, a batch at a time; how many."""
    removed = 0
    while batch := await DataExport.filter(_finished(clock.now())).order_by("id").limit(batch_size):
        for export in batch:
            await remove(export, files)
        removed += len(batch)
    return removed
