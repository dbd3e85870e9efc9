"""Campaigns: telling every affected user about a material policy change, a security
incident or a service shutdown, by in-app inbox, e-mail and SMS.

A ``Campaign`` row is written in the same transaction as the event that causes it, with one
``CampaignShard`` per id range of the audience. The fan-out (``fan_out_shard``) pages through
its range by keyset and writes one ``Notification`` per (campaign, account, channel) under a
unique constraint, committing its cursor with each batch; a stopped fan-out resumes from the
cursor and writes nothing twice. Delivery (``models.notifications.delivery``) then sends
from the rows.
The sweeper re-enqueues whatever is unfinished, so Redis only ever carries pointers.
"""

from __future__ import annotations

import functools
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any, NamedTuple, cast

from tortoise import fields
from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.expressions import RawSQL
from tortoise.functions import Count
from tortoise.models import Model
from tortoise.transactions import in_transaction

from accord.settings import Settings
from models import clock
from models.accounts.account import Account, AccountStatus
from models.errors import DomainError
from models.keys.sealed_fields import SealedManager
from models.notifications.affected import PROVIDER_MAX, Affected, AffectedScope, audience_of
from models.notifications.errors import NotificationErrorCode
from models.notifications.inbox import Channel, DeliveryStatus, Notification, NotificationKind
from models.placeholders import placeholders
from models.rights.requests import Urgency
from models.text import clean_text

TEXT_MAX = 5000
#: Where a shutdown notice sends users for a copy of their data (the rights API's export).
EXPORT_POINTER = (
    "Until then you can export your data: in the app, ask for an export of your data "
    "(exportMyData); if you cannot sign in, file a data request of kind ACCESS with your "
    "account name and the e-mail address or phone number we have on file (fileDataRequest)."
)


class CampaignStatus(StrEnum):
    FANNING_OUT = "FANNING_OUT"
    DELIVERING = "DELIVERING"
    DONE = "DONE"
    #: An operator stopped it: nothing more is written or sent
    #: (``models.notifications.campaign_actions``).
    CANCELLED = "CANCELLED"


#: A campaign in one of these still has work: the sweeper and operators take it up.
UNFINISHED = (CampaignStatus.FANNING_OUT, CampaignStatus.DELIVERING)


class Audience(StrEnum):
    ALL = "ALL"
    LISTED = "LISTED"


class Campaign(Model):
    id = fields.BigIntField(primary_key=True)
    kind = fields.CharEnumField(NotificationKind, max_length=32)
    #: What the templates render: title, summary, impact, measures, advice, remedies...
    content: fields.JSONField[dict[str, Any]] = fields.JSONField()
    audience = fields.CharEnumField(Audience, max_length=8)
    channels: fields.JSONField[list[str]] = fields.JSONField()
    status = fields.CharEnumField(CampaignStatus, max_length=16, default=CampaignStatus.FANNING_OUT)
    #: Audience size when the campaign was created (accounts, not messages).
    total = fields.IntField(default=0)
    created_at = fields.DatetimeField(auto_now_add=True)
    finished_at = fields.DatetimeField(null=True)
    #: When a fan-out or delivery batch last moved it on (NULL: none yet).
    #: An unfinished campaign that has not moved for a while is stalled (``campaign_actions``).
    progressed_at = fields.DatetimeField(null=True)
    cancelled_at = fields.DatetimeField(null=True)
    #: Why an operator cancelled it, in their words (who did is in the staff audit log).
    cancel_reason = fields.CharField(max_length=500, default="", db_default="")
    shards: fields.ReverseRelation[CampaignShard]

    class Meta:
        table = "campaign"


class CampaignShard(Model):
    """One id range of the audience, fanned out by one job, with its resume cursor."""

    id = fields.BigIntField(primary_key=True)
    campaign: fields.ForeignKeyRelation[Campaign] = fields.ForeignKeyField(
        "models.Campaign", related_name="shards", on_delete=fields.CASCADE, db_index=True
    )
    campaign_id: int  # set by the ORM
    #: Accounts with ``start_id < id <= end_id``.
    start_id = fields.BigIntField()
    end_id = fields.BigIntField()
    cursor = fields.BigIntField()
    done = fields.BooleanField(default=False)

    class Meta:
        table = "campaign_shard"


class CampaignAudience(Model):
    """The accounts of a LISTED campaign (e.g. those an incident affected)."""

    id = fields.BigIntField(primary_key=True)
    campaign: fields.ForeignKeyRelation[Campaign] = fields.ForeignKeyField(
        "models.Campaign", related_name="audience_rows", on_delete=fields.CASCADE
    )
    campaign_id: int  # set by the ORM
    account: fields.ForeignKeyRelation[Account] = fields.ForeignKeyField(
        "models.Account",
        related_name="campaign_audiences",
        on_delete=fields.CASCADE,
        db_index=True,
    )
    account_id: int  # set by the ORM

    class Meta:
        manager = SealedManager()
        table = "campaign_audience"
        unique_together = (("campaign", "account"),)


class SecurityIncident(Model):
    """An incident, what users were told of it, and its report to the supervisory
    authority (policy 3.3; GDPR Art 33: within 72 hours of becoming aware of it), whose
    clock the sweeper keeps (``models.notifications.authority_reports``). Nothing here
    names a person: whom it affected is in ``campaign_audience``, who recorded the report
    in the staff audit log."""

    id = fields.BigIntField(primary_key=True)
    title = fields.CharField(max_length=200)
    impact = fields.TextField()
    measures_taken = fields.TextField()
    advice_to_users = fields.TextField()
    remedies = fields.TextField()
    campaign: fields.OneToOneNullableRelation[Campaign] = fields.OneToOneField(
        "models.Campaign", null=True, related_name="incident", on_delete=fields.SET_NULL
    )
    campaign_id: int | None  # set by the ORM
    #: When it was recorded here (and users' notification began).
    reported_at = fields.DatetimeField(auto_now_add=True)
    #: Whom it affected: every account, listed accounts, or those bound to a provider.
    affected = fields.CharEnumField(
        AffectedScope, max_length=24, default=AffectedScope.ALL, db_default=AffectedScope.ALL
    )
    #: The identity provider whose bound accounts it affected (BOUND_TO_PROVIDER).
    affected_provider = fields.CharField(max_length=PROVIDER_MAX, null=True)
    #: When the controller became aware of it (NULL: recorded before the authority clock).
    detected_at = fields.DatetimeField(null=True)
    #: ``detected_at`` + ACCORD_AUTHORITY_REPORT_HOURS (72).
    authority_report_due_at = fields.DatetimeField(null=True)
    #: When it was reported to the supervisory authority (stops the clock).
    authority_reported_at = fields.DatetimeField(null=True)
    #: The authority's reference for the report.
    authority_reference = fields.CharField(max_length=200, null=True)
    #: What was reported (Art 33(3)), in the officer's words, naming no one.
    authority_report = fields.TextField(default="", db_default="")
    #: The sweeper's mark, as a data request's (``models.rights.deadlines``).
    urgency = fields.CharEnumField(
        Urgency, max_length=16, default=Urgency.ON_TIME, db_default=Urgency.ON_TIME
    )
    #: What the privacy officers were last told.
    urgency_notified = fields.CharEnumField(
        Urgency, max_length=16, default=Urgency.ON_TIME, db_default=Urgency.ON_TIME
    )

    class Meta:
        table = "security_incident"


class Announcement(Model):
    """A public notice anyone can read without signing in (a banner, or an incident notice
    when telling users one by one is not enough)."""

    id = fields.BigIntField(primary_key=True)
    kind = fields.CharEnumField(NotificationKind, max_length=32)
    title = fields.CharField(max_length=200)
    body = fields.TextField()
    published_at = fields.DatetimeField(auto_now_add=True)
    expires_at = fields.DatetimeField(null=True)
    # The policy version it announces (its immutable version name), if any
    policy_version = fields.CharField(max_length=32, null=True)

    class Meta:
        table = "announcement"


def clean_channels(channels: list[Channel]) -> list[str]:
    if not channels:
        raise DomainError(NotificationErrorCode.REQUIRED, "channels", "name at least one channel")
    return sorted({str(c) for c in channels})


async def _id_range() -> tuple[int, int]:
    # Tortoise types flat values_list as tuples.
    rows = cast(
        "list[int]",
        await Account.filter(status=AccountStatus.ACTIVE)
        .order_by("id")
        .limit(1)
        .values_list("id", flat=True),
    )
    last = cast(
        "list[int]",
        await Account.filter(status=AccountStatus.ACTIVE)
        .order_by("-id")
        .limit(1)
        .values_list("id", flat=True),
    )
    return (rows[0] - 1, last[0]) if rows else (0, 0)


async def create_campaign(
    kind: NotificationKind,
    content: dict[str, Any],
    channels: list[Channel],
    *,
    account_ids: list[int] | None,
    shards: int,
) -> Campaign:
    """Write a campaign and its shards. Call inside the transaction of the event causing it."""
    audience = Audience.ALL if account_ids is None else Audience.LISTED
    if account_ids is None:
        low, high = await _id_range()
        total = await Account.filter(status=AccountStatus.ACTIVE).count()
    else:
        ids = sorted(set(account_ids))
        low, high = (ids[0] - 1, ids[-1]) if ids else (0, 0)
        total = len(ids)
    campaign = await Campaign.create(
        kind=kind,
        content=content,
        audience=audience,
        channels=clean_channels(channels),
        total=total,
    )
    if audience == Audience.LISTED and account_ids:
        await CampaignAudience.bulk_create(
            [CampaignAudience(campaign=campaign, account_id=i) for i in sorted(set(account_ids))]
        )
    step = max(1, -(-(high - low) // shards))
    bounds = list(range(low, high, step)) or [low]
    await CampaignShard.bulk_create(
        [
            CampaignShard(
                campaign=campaign, start_id=start, end_id=min(start + step, high), cursor=start
            )
            for start in bounds
        ]
    )
    return campaign


async def report_security_incident(
    *,
    title: str,
    impact: str,
    measures_taken: str,
    advice_to_users: str,
    remedies: str,
    affected: Affected,
    detected_at: datetime | None,
    channels: list[Channel],
    settings: Settings,
) -> tuple[SecurityIncident, Campaign]:
    """The incident, its campaign to the affected accounts only and, for a wide audience, a
    public announcement: one transaction, so an incident is never recorded without the
    promise to tell users. Its authority clock starts at ``detected_at`` (default: now)."""
    values = {
        "title": clean_text(title, "title", 200),
        "impact": clean_text(impact, "impact", TEXT_MAX, multiline=True),
        "measures_taken": clean_text(measures_taken, "measuresTaken", TEXT_MAX, multiline=True),
        "advice_to_users": clean_text(advice_to_users, "adviceToUsers", TEXT_MAX, multiline=True),
        "remedies": clean_text(remedies, "remedies", TEXT_MAX, multiline=True),
    }
    moment = clock.now()
    detected = detected_at or moment
    if detected > moment:
        raise DomainError(NotificationErrorCode.INVALID, "detectedAt", "is in the future")
    account_ids = await audience_of(affected, settings.oidc_providers)
    async with in_transaction("default"):
        campaign = await create_campaign(
            NotificationKind.SECURITY_INCIDENT,
            values,
            channels,
            account_ids=account_ids,
            shards=settings.fanout_shards,
        )
        # Tortoise's create() takes using_db before **kwargs: mypy fears values fill it.
        incident = await SecurityIncident.create(
            campaign=campaign,
            affected=affected.scope,
            affected_provider=affected.provider,
            detected_at=detected,
            authority_report_due_at=detected + timedelta(hours=settings.authority_report_hours),
            **values,  # type: ignore[arg-type]
        )
        if account_ids is None or campaign.total > settings.announcement_threshold:
            await Announcement.create(
                kind=NotificationKind.SECURITY_INCIDENT,
                title=values["title"],
                body=(
                    f"{values['impact']}\n\nWhat we did: {values['measures_taken']}\n\n"
                    f"What you can do: {values['advice_to_users']}\n\n"
                    f"Remedies: {values['remedies']}"
                ),
            )
    return incident, campaign


async def announce_service_shutdown(
    *,
    title: str,
    message: str,
    shutdown_at: datetime,
    channels: list[Channel],
    shards: int,
    erases: str = "",
) -> Campaign:
    """The notice to everyone that the service (or the part of it ``erases`` names, in
    words: what is deleted on that date) stops, pointing to the data export. Call it
    inside the transaction of a scheduled shutdown (``models.rights.shutdowns``), if any."""
    content = {
        "title": clean_text(title, "title", 200),
        "message": clean_text(message, "message", TEXT_MAX, multiline=True),
        "shutdown_at": shutdown_at.isoformat(),
        "erases": erases,
    }
    async with in_transaction("default"):
        campaign = await create_campaign(
            NotificationKind.SERVICE_SHUTDOWN, content, channels, account_ids=None, shards=shards
        )
        await Announcement.create(
            kind=NotificationKind.SERVICE_SHUTDOWN,
            title=content["title"],
            body=f"{content['message']}\n\nThe service stops on {shutdown_at:%Y-%m-%d %H:%M} UTC."
            + (f" On that date we delete what we hold only for it: {erases}." if erases else "")
            + f"\n\n{EXPORT_POINTER}",
        )
    return campaign


# --- fan-out -------------------------------------------------------------------------------


class NotificationRow(NamedTuple):
    """A ``notification`` row as the fan-out writes it: the field names are the table's
    columns, in the order of the INSERT (``COLUMNS``). Plain values, no model instance:
    building a model per row would cost more than storing it."""

    account_id: int
    campaign_id: int | None
    kind: str
    channel: str
    title: str
    body: str
    created_at: datetime
    status: str
    sent_at: datetime | None
    attempts: int
    resent: bool
    last_error: str


#: The notification table's columns the fan-out writes, in the order of ``NotificationRow``.
COLUMNS = NotificationRow._fields


@functools.cache
def _insert_sql(dialect: str) -> str:
    marks = placeholders(dialect, len(COLUMNS))
    verb = "INSERT OR IGNORE INTO" if dialect == "sqlite" else "INSERT INTO"
    tail = "" if dialect == "sqlite" else " ON CONFLICT DO NOTHING"
    return f"{verb} notification ({', '.join(COLUMNS)}) VALUES ({marks}){tail}"


async def fan_out_shard(shard_id: int, batch_size: int, sms_available: bool) -> tuple[int, int]:
    """Write the notifications of one shard, a keyset batch per transaction; returns the
    accounts handled by this run and the in-app messages it wrote (delivered by writing).
    Safe to run twice or concurrently; stops when the campaign is cancelled (its shards
    are marked done)."""
    handled = in_app_rows = 0
    while True:
        try:
            async with in_transaction("default") as connection:
                batch = await _fan_out_batch(connection, shard_id, batch_size, sms_available)
        except _Overtaken:  # its rows are rolled back
            return handled, in_app_rows
        if batch is None:
            return handled, in_app_rows
        accounts, in_app, finished, campaign_id, moment = batch
        handled += accounts
        in_app_rows += in_app
        await note_progress(campaign_id, moment)
        if finished:
            return handled, in_app_rows


async def note_progress(campaign_id: int, at: datetime) -> None:
    """A batch moved the campaign on at ``at``: one UPDATE per batch, after its
    transaction, so shards fanned out at once never wait on the campaign row for longer
    than this."""
    await Campaign.filter(id=campaign_id).update(progressed_at=at)


class _Overtaken(Exception):
    """The shard moved on under this batch: another runner advanced it, or an operator
    cancelled the campaign (``cancel_campaign`` marks its shards done). The batch's rows
    are rolled back: whoever moved the shard owns what comes next."""


async def _fan_out_batch(
    connection: BaseDBAsyncClient, shard_id: int, batch_size: int, sms_available: bool
) -> tuple[int, int, bool, int, datetime] | None:
    """One keyset batch, in the caller's transaction: (accounts handled, in-app rows
    written, shard finished, campaign id, its time), or None when the shard is done
    already."""
    shard = await CampaignShard.get(id=shard_id).select_related("campaign")
    if shard.done:
        return None
    campaign = shard.campaign
    query = Account.filter(status=AccountStatus.ACTIVE, id__gt=shard.cursor, id__lte=shard.end_id)
    if campaign.audience == Audience.LISTED:
        query = query.filter(campaign_audiences__campaign_id=campaign.id)
    accounts = await query.order_by("id").limit(batch_size).values_list("id", "email", "phone")
    moment = clock.now()
    rows: list[NotificationRow] = []
    for account_id, email, phone in accounts:
        for channel in _channels_for(campaign.channels, email, phone, sms_available):
            in_app = channel == Channel.IN_APP
            rows.append(
                NotificationRow(
                    account_id=account_id,
                    campaign_id=campaign.id,
                    kind=str(campaign.kind),
                    channel=str(channel),
                    title="",
                    body="",
                    created_at=moment,
                    status=str(DeliveryStatus.SENT if in_app else DeliveryStatus.PENDING),
                    sent_at=moment if in_app else None,
                    attempts=0,
                    resent=False,
                    last_error="",
                )
            )
    if rows:
        # Tortoise types the rows as lists; any sequence of values is what the driver takes.
        await connection.execute_many(
            _insert_sql(connection.capabilities.dialect),
            rows,  # type: ignore[arg-type]
        )
    last = accounts[-1][0] if accounts else shard.end_id
    finished = len(accounts) < batch_size
    moved = await CampaignShard.filter(id=shard.id, cursor=shard.cursor, done=False).update(
        cursor=last, done=finished
    )
    if not moved:
        raise _Overtaken
    in_app_written = sum(1 for r in rows if r.channel == Channel.IN_APP.value)
    return len(accounts), in_app_written, finished, campaign.id, moment


def _channels_for(
    channels: list[str], email: str | None, phone: str | None, sms_available: bool
) -> set[Channel]:
    """Each wanted channel the account can be reached on; IN_APP stands in for the rest."""
    chosen: set[Channel] = set()
    for name in channels:
        channel = Channel(name)
        reachable = (
            channel == Channel.IN_APP
            or (channel == Channel.EMAIL and email)
            or (channel == Channel.SMS and phone and sms_available)
        )
        chosen.add(channel if reachable else Channel.IN_APP)
    return chosen


async def progress(campaign_id: int) -> dict[str, int]:
    """Messages written, delivered and failed, by one grouped count.

    ``COUNT(*)``, not ``Count("id")``: measured over 200,000 rows, counting a column was 20 %
    slower on SQLite and PostgreSQL alike; counting rows is as fast as the hand-written SQL
    this replaced (the query builder adds about 0.2 ms a call)."""
    rows = (
        await Notification.filter(campaign_id=campaign_id)
        .annotate(n=Count(RawSQL("*")))  # type: ignore[arg-type]  # Count takes any term
        .group_by("status")
        .values("status", "n")
    )
    counts = {str(r["status"]): int(r["n"]) for r in rows}
    return {
        "created": sum(counts.values()),
        "delivered": counts.get(DeliveryStatus.SENT.value, 0),
        "failed": counts.get(DeliveryStatus.FAILED.value, 0),
        "pending": counts.get(DeliveryStatus.PENDING.value, 0)
        + counts.get(DeliveryStatus.SENDING.value, 0),
        "cancelled": counts.get(DeliveryStatus.CANCELLED.value, 0),
    }
