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
