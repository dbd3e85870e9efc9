"""Building an export: the job's rule (``run_export``) and the sweeper's (``enqueue_due``).

The request row is the promise: an ACCESS request VERIFIED or IN_PROGRESS is owed an
archive until it is COMPLETED, so a lost Redis or a killed worker loses nothing; the
sweeper queues it again. ``run_export`` is safe to run twice or at once: one run at a time
holds a lease on the export row (a conditional update, as deletions do); another run
returns BUSY, and a run whose lease expired (a worker that came back) can no longer finish,
because finishing is a conditional update on its own lease token. Each run writes its own
file (``ExportFiles``), so two runs never write into one.

Finishing is one transaction: the archive's row gets its file, size, expiry and the link's
hash, the request is COMPLETED and the user is told (in-app and by e-mail, with the link).
"""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Awaitable, Callable
from datetime import timedelta
from enum import StrEnum
from typing import IO, cast

import structlog
from tortoise.expressions import F, Q
from tortoise.transactions import in_transaction

from accord.settings import Settings
from models import clock
from models.accounts.account import Account
from models.keys.data_keys import account_subject, streaming_aead_of
from models.keys.sealed_files import close_sealed, seal_writer
from models.notifications.inbox import NotificationKind, notify
from models.notifications.messages import render
from models.personal.storage import Storage
from models.rights import data_requests
from models.rights.archive import write_archive
from models.rights.export_files import ExportFiles
from models.rights.exports import DataExport, link_for, link_hash, new_link_token, remove
from models.rights.requests import DataRequest, DataRequestKind, DataRequestStatus

log = structlog.get_logger("accord.export")

#: The statuses of a request still owed its archive (RECEIVED: the identity is unproven).
OWED = (DataRequestStatus.VERIFIED, DataRequestStatus.IN_PROGRESS)


class ExportOutcome(StrEnum):
    DONE = "done"
    #: Answered already (completed, or withdrawn by a deletion): nothing to do.
    ALREADY_DONE = "already-done"
    #: Another run holds the export's lease (or took it over from this one).
    BUSY = "busy"
    #: Not an export owed (not found, not an ACCESS request, identity unproven).
    NOT_DUE = "not-due"


class _Abandoned(Exception):
    """The lease was lost, or the request answered otherwise, before this run finished."""


def _leasable(moment: object) -> Q:
    return Q(ready_at__isnull=True) & (Q(lease_until__isnull=True) | Q(lease_until__lt=moment))


async def run_export(
    request_id: int, settings: Settings, storage: Storage, lease: timedelta
) -> ExportOutcome:
    """Build the archive answering one ACCESS request; ``lease`` is the job's timeout."""
    request = await DataRequest.get_or_none(id=request_id)
    if request is None or request.kind != DataRequestKind.ACCESS or request.account_id is None:
        return ExportOutcome.NOT_DUE
    if request.status not in OWED:
        return (
            ExportOutcome.NOT_DUE
            if request.status == DataRequestStatus.RECEIVED
            else ExportOutcome.ALREADY_DONE
        )
    await DataExport.bulk_create(
        [DataExport(request_id=request_id, account_id=request.account_id, created_at=clock.now())],
        ignore_conflicts=True,  # the row of a run before this one
    )
    run, moment = secrets.token_hex(16), clock.now()
    leased = await DataExport.filter(_leasable(moment), request_id=request_id).update(
        lease_token=run, lease_until=moment + lease, attempts=F("attempts") + 1
    )
    export = await DataExport.get(request_id=request_id)
    if not leased:
        return ExportOutcome.ALREADY_DONE if export.ready_at else ExportOutcome.BUSY
    files = ExportFiles.of(settings)
    await files.remove(export.id)  # what a crashed run left half-written
    await data_requests.start(request_id)
    key = files.key_for(export.id, run)
    try:
        primitive = await streaming_aead_of(
            settings, account_subject(request.account_id), create=True
        )
        out = await asyncio.to_thread(files.create, key)
        try:
            sealed = seal_writer(primitive, out, key)
            counts = await write_archive(
                cast("IO[bytes]", sealed), request.account_id, settings, storage
            )
            await asyncio.to_thread(close_sealed, sealed)
        finally:
            await asyncio.to_thread(out.close)
        await files.publish(key)
        size = sealed.count  # what the download sends: the archive, decrypted
        await _finish(export, request.account_id, run, key, size, settings)
    except _Abandoned:
        await asyncio.to_thread(files.partial(key).unlink, missing_ok=True)
        await asyncio.to_thread(files.path(key).unlink, missing_ok=True)
        if await _answered_otherwise(request_id):
            await remove(export, files)
            return ExportOutcome.ALREADY_DONE
        return ExportOutcome.BUSY
    except BaseException:
        # Cancelled (the job's timeout) or failed: no half-written file stays; the lease
        # expires and the sweeper queues the export again.
        await asyncio.to_thread(files.partial(key).unlink, missing_ok=True)
        raise
    log.info("export ready", request_id=request_id, size=size, files=len(counts))
    return ExportOutcome.DONE


async def _finish(
    export: DataExport, account_id: int, run: str, key: str, size: int, settings: Settings
) -> None:
    token, moment = new_link_token(), clock.now()
    expires = moment + settings.export_link_ttl
    async with in_transaction("default"):
        finished = await DataExport.filter(id=export.id, lease_token=run).update(
            file_key=key,
            size=size,
            ready_at=moment,
            expires_at=expires,
            token_hash=link_hash(settings, token),
            lease_token=None,
            lease_until=None,
        )
        if not finished:
            raise _Abandoned
        answer = (
            "Your archive is ready: the link we sent you works once, until "
            f"{expires:%Y-%m-%d %H:%M} UTC."
        )
        if not await data_requests.complete(export.request_id, reason=answer):
            raise _Abandoned  # rolls the row back: the archive is removed by the caller
        account = await Account.get(id=account_id)
        message = render(
            NotificationKind.EXPORT_READY,
            {
                "link": link_for(settings, token),
                "has_base": settings.link_base is not None,
                "expires": f"{expires:%Y-%m-%d %H:%M} UTC",
                "size_mib": f"{size / 2**20:.1f}",
            },
        )
        await notify(account, NotificationKind.EXPORT_READY, message.subject, message.body)


async def _answered_otherwise(request_id: int) -> bool:
    return not await DataRequest.filter(id=request_id, status__in=list(OWED)).exists()


async def enqueue_due(enqueue: Callable[[int], Awaitable[bool]], batch_size: int) -> int:
    """Queue every export owed whose lease is not held (``enqueue(request_id)``, e.g.
    ``models.jobs.export_data`` given its queue), a keyset batch at a time; how many
    were newly queued."""
    moment, after, queued = clock.now(), 0, 0
    while True:
        owed = cast(
            "list[int]",  # Tortoise types flat values_list as tuples
            await DataRequest.filter(
                kind=DataRequestKind.ACCESS, status__in=list(OWED), id__gt=after
            )
            .order_by("id")
            .limit(batch_size)
            .values_list("id", flat=True),
        )
        held = set(
            cast(
                "list[int]",
                await DataExport.filter(request_id__in=owed, lease_until__gt=moment).values_list(
                    "request_id", flat=True
                ),
            )
        )
        for request_id in owed:
            if request_id not in held:
                queued += bool(await enqueue(request_id))
        if len(owed) < batch_size:
            return queued
        after = owed[-1]
