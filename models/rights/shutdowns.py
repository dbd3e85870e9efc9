"""A service shutdown (policy 1.2(3)): the notice to everyone, then, on its date, the
deletion of what was held only for the part of the service that stops.

A shutdown names its scope as a consent purpose (``Purpose.code``): the map of personal
data (``models.rights.data_map``) says which kinds are held for which purposes, and the
kinds held for that purpose alone (``held_only_for``) are what goes, every row of them,
whoever's. Kinds held for other purposes too, consent records (the ledger proves what was
decided and stays) and the accounts are not touched. The ``necessary`` purpose is the whole
service and is not a scope.

``ServiceShutdown`` is the promise: written in the transaction of its notice, with the
kinds it will erase fixed then. From its date the sweeper queues its job
(``models.jobs.erase_shutdown_scope``); the job deletes one keyset batch of one kind per
transaction and moves the row's cursor (kind, last key, counts) with a compare-and-set in
that same transaction, so a killed worker resumes from the last committed batch, a batch is
never counted twice, and two runners at once cannot both delete it: the one that loses the
compare-and-set rolls its batch back.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import cast

from tortoise import fields
from tortoise.models import Model
from tortoise.transactions import in_transaction

from models import clock
from models.consent.purposes import Purpose
from models.errors import DomainError
from models.notifications.campaigns import Campaign, announce_service_shutdown
from models.notifications.errors import NotificationErrorCode
from models.notifications.inbox import Channel
from models.rights.data_map import BY_KIND, DATA_MAP, NECESSARY, Erasure, PersonalData, Step


class ShutdownStatus(StrEnum):
    #: Announced; its date has not come.
    SCHEDULED = "SCHEDULED"
    ERASING = "ERASING"
    DONE = "DONE"


class ServiceShutdown(Model):
    """One announced shutdown of a part of the service, and its erasure's progress."""

    id = fields.BigIntField(primary_key=True)
    #: The scope: the consent purpose whose data goes.
    purpose_code = fields.CharField(max_length=64)
    shutdown_at = fields.DatetimeField(db_index=True)
    campaign: fields.ForeignKeyNullableRelation[Campaign] = fields.ForeignKeyField(
        "models.Campaign", null=True, related_name="shutdowns", on_delete=fields.SET_NULL
    )
    campaign_id: int | None  # set by the ORM
    status = fields.CharEnumField(ShutdownStatus, max_length=16, default=ShutdownStatus.SCHEDULED)
    #: The map's kinds it erases, in order, fixed when it was announced.
    kinds: fields.JSONField[list[str]] = fields.JSONField()
    #: The cursor's kind: an index into ``kinds``.
    step = fields.IntField(default=0)
    #: The cursor's last key done, in that kind.
    cursor = fields.BigIntField(default=0)
    #: Rows deleted so far, by kind.
    erased: fields.JSONField[dict[str, int]] = fields.JSONField()
    created_at = fields.DatetimeField(auto_now_add=True)
    started_at = fields.DatetimeField(null=True)
    finished_at = fields.DatetimeField(null=True)

    class Meta:
        table = "service_shutdown"


def held_only_for(purpose_code: str) -> list[PersonalData]:
    """The map's kinds whose one purpose is ``purpose_code``."""
    return [entry for entry in DATA_MAP if entry.purposes == (purpose_code,)]


def _erasable(entry: PersonalData) -> bool:
    """A plain delete by integer key; a kind with files (pictures) or an anonymising
    erasure would need its own step, and no kind held for a single optional purpose has
    one today."""
    key = entry.model._meta.fields_map[entry.model._meta.pk_attr]
    return (
        entry.erasure == Erasure.DELETE
        and entry.step != Step.PICTURES
        and isinstance(key, fields.BigIntField | fields.IntField)
    )


async def kinds_in_scope(purpose_code: str) -> list[PersonalData]:
    """What a shutdown of ``purpose_code`` erases; a typed error for a scope that is not
    one (unknown, the whole service, or a kind it cannot erase)."""
    purpose = await Purpose.get_or_none(code=purpose_code)
    if purpose is None:
        raise DomainError(NotificationErrorCode.NOT_FOUND, "scope.purposeCode", "no such purpose")
    if purpose.required or (purpose_code,) == NECESSARY:
        raise DomainError(
            NotificationErrorCode.INVALID,
            "scope.purposeCode",
            "a required purpose is the whole service, not a part of it that can stop",
        )
    kinds = held_only_for(purpose_code)
    refused = [entry.kind for entry in kinds if not _erasable(entry)]
    if refused:
        raise DomainError(
            NotificationErrorCode.INVALID,
            "scope.purposeCode",
            f"a shutdown cannot erase {', '.join(refused)} yet",
        )
    return kinds


async def schedule_shutdown(
    *,
    title: str,
    message: str,
    shutdown_at: datetime,
    purpose_code: str,
    channels: list[Channel],
    shards: int,
) -> tuple[ServiceShutdown, Campaign]:
    """The notice (naming what goes) and the shutdown row, in one transaction."""
    if shutdown_at <= clock.now():
        raise DomainError(NotificationErrorCode.INVALID, "shutdownAt", "must be in the future")
    kinds = await kinds_in_scope(purpose_code)
    erases = ", ".join(entry.kind for entry in kinds) or "nothing but this service's notices"
    async with in_transaction("default"):
        campaign = await announce_service_shutdown(
            title=title,
            message=message,
            shutdown_at=shutdown_at,
            channels=channels,
            shards=shards,
            erases=erases,
        )
        shutdown = await ServiceShutdown.create(
            purpose_code=purpose_code,
            shutdown_at=shutdown_at,
            campaign=campaign,
            kinds=[entry.kind for entry in kinds],
            erased={entry.kind: 0 for entry in kinds},
        )
    return shutdown, campaign


async def due_shutdowns(limit: int) -> list[int]:
    """Shutdowns whose date has come and whose erasure is not done."""
    return cast(
        "list[int]",  # Tortoise types flat values_list as tuples
        await ServiceShutdown.filter(shutdown_at__lte=clock.now(), status__not=ShutdownStatus.DONE)
        .order_by("shutdown_at", "id")
        .limit(limit)
        .values_list("id", flat=True),
    )


class _Overtaken(Exception):
    """Another runner moved the cursor first: this batch is rolled back."""


async def erase_batch(shutdown_id: int, batch_size: int) -> int | None:
    """Delete one batch of the current kind and move the cursor, in one transaction;
    the rows deleted, or None when there is nothing left to do (done, not due, or
    overtaken by another runner)."""
    try:
        async with in_transaction("default"):
            shutdown = await ServiceShutdown.get(id=shutdown_id)
            moment = clock.now()
            if shutdown.status == ShutdownStatus.DONE or shutdown.shutdown_at > moment:
                return None
            claim = ServiceShutdown.filter(
                id=shutdown.id, step=shutdown.step, cursor=shutdown.cursor
            )
            if shutdown.step >= len(shutdown.kinds):
                await claim.update(status=ShutdownStatus.DONE, finished_at=moment)
                return None
            kind = shutdown.kinds[shutdown.step]
            entry = BY_KIND.get(kind)
            keys: list[int] = []
            if entry is not None:  # a kind the map no longer has: nothing of it to erase
                key = entry.model._meta.pk_attr
                keys = cast(
                    "list[int]",
                    await entry.model.filter(**{f"{key}__gt": shutdown.cursor})
                    .order_by(key)
                    .limit(batch_size)
                    .values_list(key, flat=True),
                )
            deleted = (
                await entry.model.filter(**{f"{entry.model._meta.pk_attr}__in": keys}).delete()
                if entry is not None and keys
                else 0
            )
            finished = len(keys) < batch_size
            erased = {**shutdown.erased, kind: shutdown.erased.get(kind, 0) + deleted}
            moved = await claim.update(
                step=shutdown.step + 1 if finished else shutdown.step,
                cursor=0 if finished else keys[-1],
                erased=erased,
                status=ShutdownStatus.ERASING,
                started_at=shutdown.started_at or moment,
            )
            if not moved:
                raise _Overtaken
            return deleted
    except _Overtaken:
        return None


async def erase_scope(shutdown_id: int, batch_size: int) -> int:
    """The job's work: batches until done; the rows this run deleted. Safe to run twice
    or at once, and to kill at any point."""
    total = 0
    while True:
        deleted = await erase_batch(shutdown_id, batch_size)
        if deleted is None:
            return total
        total += deleted


async def remaining(shutdown: ServiceShutdown) -> dict[str, int]:
    """Rows of each kind in scope still held (for the operators' view)."""
    counts: dict[str, int] = {}
    for kind in shutdown.kinds:
        entry = BY_KIND.get(kind)
        counts[kind] = await entry.model.all().count() if entry is not None else 0
    return counts
