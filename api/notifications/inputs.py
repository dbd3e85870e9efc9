"""Inputs of the notifications mutations: one ``<MutationName>Input`` each."""

from __future__ import annotations

from datetime import datetime

import strawberry

from api.notifications.types import NotificationChannel


@strawberry.input(description="Give `ids`, or `all: true` for the whole inbox.")
class MarkNotificationsReadInput:
    ids: list[strawberry.ID] | None = None
    all: bool = False


@strawberry.input(
    description="Name the affected accounts, or set `allAccounts`; the message carries the "
    "impact, the measures taken, advice to users and the remedies."
)
class ReportSecurityIncidentInput:
    title: str
    impact: str
    measures_taken: str
    advice_to_users: str
    remedies: str
    affected_account_ids: list[strawberry.ID] | None = None
    all_accounts: bool = False
    channels: list[NotificationChannel] = strawberry.field(
        default_factory=lambda: [NotificationChannel.IN_APP, NotificationChannel.EMAIL]
    )


@strawberry.input
class AnnounceServiceShutdownInput:
    title: str
    message: str
    shutdown_at: datetime
    channels: list[NotificationChannel] = strawberry.field(
        default_factory=lambda: [NotificationChannel.IN_APP, NotificationChannel.EMAIL]
    )


@strawberry.input(description="A stalled campaign (`Campaign.stalled`).")
class ResumeCampaignInput:
    id: strawberry.ID


@strawberry.input(description="A campaign still running, and why it must stop (kept with it).")
class CancelCampaignInput:
    id: strawberry.ID
    reason: str
