"""One export archive: a ZIP of everything Accord holds about an account, complete by
construction.

Its JSON files are generated from the map of personal data: one per kind the map exports
(``Export.EXPORT``), holding every row the map's ways of finding the subject find and every
field the map names but ``not_exported``, so a kind added to the map is exported with no
code here. Beside them: the consent chains checked with signed receipts and their key
(``models.rights.consent_proofs``), the account's pictures, and a README.txt generated from
the same map (``models.rights.export_readme``).

Written streaming into a file (``zipfile`` entries opened for writing, one batch of rows at
a time, read by keyset), so memory stays the same whatever the account holds: at most one
batch of rows, or one picture.
"""

from __future__ import annotations

import asyncio
import zipfile
from collections.abc import AsyncIterator
from typing import IO, Any

import structlog

from accord.settings import Settings
from models import clock
from models.accounts.account import Account
from models.consent.purposes import Purpose
from models.keys.data_keys import account_subject
from models.keys.sealed_files import FileEncryption, open_stored
from models.personal.pictures import Picture
from models.personal.storage import Storage
from models.rights.consent_proofs import write_consent_proofs
from models.rights.data_map import BY_KIND, PersonalData
from models.rights.export_readme import PICTURES, README, exported_kinds, file_name, readme
from models.rights.subject_rows import DataSubject, batches
from models.rights.zip_entries import COMPRESS_LEVEL, write_array, write_bytes

log = structlog.get_logger("accord.export")

#: Rows read (and written) at a time. Bounded rows (an error report is at most 64 KiB)
#: times this is the most memory a batch takes.
BATCH_SIZE = 250
EXTENSIONS = {"image/png": "png", "image/jpeg": "jpg", "image/webp": "webp"}


async def write_archive(
    out: IO[bytes],
    account_id: int,
    settings: Settings,
    storage: Storage,
    batch_size: int = BATCH_SIZE,
) -> dict[str, int]:
    """Write the account's archive into ``out``; how many rows (or files) each file holds."""
    subject = await DataSubject.of(account_id)
    account = await Account.get(id=account_id)
    made_at = clock.now()
    counts: dict[str, int] = {}
    with zipfile.ZipFile(
        out, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=COMPRESS_LEVEL
    ) as archive:
        for entry in exported_kinds():
            rows = batches(entry, subject, entry.export_columns, batch_size)
            counts[file_name(entry)] = await write_array(archive, file_name(entry), rows)
        counts.update(await write_consent_proofs(archive, subject, settings, batch_size))
        counts[PICTURES] = await _write_pictures(archive, subject, settings, storage, batch_size)
        titles = dict(await Purpose.all().values_list("code", "title"))
        text = readme(account.account_name, made_at, counts, titles, settings)
        await write_bytes(archive, README, text.encode(), stored=False)
    return counts


async def _write_pictures(
    archive: zipfile.ZipFile,
    subject: DataSubject,
    settings: Settings,
    storage: Storage,
    batch_size: int,
) -> int:
    """Each picture's file, decrypted (already compressed: stored as is), one at a time."""
    written = 0
    async for batch in _picture_rows(BY_KIND["Picture"], subject, batch_size):
        for row in batch:
            data = await _picture_bytes(row, subject.account_id, settings, storage)
            if data is None:  # removed meanwhile (its row too, a moment later)
                log.warning("picture file missing from export", picture_id=str(row["id"]))
                continue
            extension = EXTENSIONS.get(row["content_type"], "bin")
            await write_bytes(archive, f"{PICTURES}{row['id']}.{extension}", data, stored=True)
            written += 1
    return written


async def _picture_bytes(
    row: dict[str, Any], account_id: int, settings: Settings, storage: Storage
) -> bytes | None:
    """One picture's plaintext (at most ``ACCORD_PICTURE_MAX_BYTES``), None when missing."""
    file = await open_stored(
        settings,
        storage,
        account_subject(account_id),
        row["storage_key"],
        FileEncryption(row["encryption"]),
    )
    if file is None:
        return None
    try:
        return await asyncio.to_thread(file.read)
    finally:
        await asyncio.to_thread(file.close)


def _picture_rows(
    entry: PersonalData, subject: DataSubject, batch_size: int
) -> AsyncIterator[list[dict[str, Any]]]:
    assert entry.model is Picture
    key = str(entry.model._meta.pk_attr)
    return batches(entry, subject, (key, "storage_key", "content_type", "encryption"), batch_size)
