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
    one_of=True,
    description="Whom an incident affected, exactly one of: every account, listed "
    "accounts, or the accounts bound to an identity provider (an incident at that provider). "
    "Only they are told.",
)
class AffectedAccountsInput:
    all: bool | None = strawberry.UNSET
    account_ids: list[strawberry.ID] | None = strawberry.UNSET
    bound_to_provider: str | None = strawberry.field(
        default=strawberry.UNSET,
        description="A provider's name as in ACCORD_OIDC_PROVIDERS (e.g. `google`).",
    )


@strawberry.input(
    description="Name whom it affected (`affected`); the message carries the impact, the "
    "measures taken, advice to users and the remedies. `detectedAt` (default: now) starts "
    "the clock of its report to the supervisory authority."
)
class ReportSecurityIncidentInput:
    title: str
    impact: str
    measures_taken: str
    advice_to_users: str
    remedies: str
    affected: AffectedAccountsInput | None = None
    affected_account_ids: list[strawberry.ID] | None = strawberry.field(
        default=None, deprecation_reason="Use `affected: {accountIds}`."
    )
    all_accounts: bool = strawberry.field(
        default=False, deprecation_reason="Use `affected: {all: true}`."
    )
    detected_at: datetime | None = None
    channels: list[NotificationChannel] = strawberry.field(
        default_factory=lambda: [NotificationChannel.IN_APP, NotificationChannel.EMAIL]
    )


@strawberry.input(
    description="The report made to the supervisory authority: when, the authority's "
    "reference, and what was reported (categories and approximate numbers of people and "
    "records, likely consequences, measures; GDPR Art 33(3)), naming no one."
)
class RecordAuthorityReportInput:
    incident_id: strawberry.ID
    reported_at: datetime
    reference: str
    summary: str


@strawberry.input(
    description="What stops: a consent purpose (its `code`); on `shutdownAt` the kinds of "
    "personal data held for that purpose alone (the dataMap says which) are deleted."
)
class ServiceShutdownScopeInput:
    purpose_code: str


@strawberry.input(
    description="Without `scope` only the notice is sent; with it, a shutdown is scheduled "
    "that deletes the scope's data on `shutdownAt` (serviceShutdowns shows its progress)."
)
class AnnounceServiceShutdownInput:
    title: str
    message: str
    shutdown_at: datetime
    scope: ServiceShutdownScopeInput | None = None
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
