"""The codes the notification rules raise: inbox, campaigns, incidents and notices.
``NotificationError.code`` in GraphQL is this enum."""

from __future__ import annotations

from enum import StrEnum

from models.errors import domain_codes


@domain_codes
class NotificationErrorCode(StrEnum):
    INVALID = "INVALID"
    REQUIRED = "REQUIRED"
    NOT_FOUND = "NOT_FOUND"
    NOT_AUTHENTICATED = "NOT_AUTHENTICATED"
    FORBIDDEN = "FORBIDDEN"
    CONFLICT = "CONFLICT"
    RATE_LIMITED = "RATE_LIMITED"
    SECOND_FACTOR_REQUIRED = "SECOND_FACTOR_REQUIRED"
    # Operators' actions on a campaign (models.notifications.campaign_actions).
    #: Every message is out: there is nothing to resume or cancel.
    CAMPAIGN_FINISHED = "CAMPAIGN_FINISHED"
    #: An operator cancelled it: it cannot be resumed.
    CAMPAIGN_CANCELLED = "CAMPAIGN_CANCELLED"
    #: It moved on within ACCORD_CAMPAIGN_STALL_MINUTES: the workers are on it.
    NOT_STALLED = "NOT_STALLED"
    #: The job queue (Redis) did not answer: nothing was queued; try again.
    QUEUE_UNAVAILABLE = "QUEUE_UNAVAILABLE"
