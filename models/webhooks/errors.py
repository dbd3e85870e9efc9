"""The codes the consent webhook rules raise. ``WebhookError.code`` in GraphQL is this enum."""

from __future__ import annotations

from enum import StrEnum

from models.errors import domain_codes


@domain_codes
class WebhookErrorCode(StrEnum):
    INVALID = "INVALID"
    REQUIRED = "REQUIRED"
    NOT_FOUND = "NOT_FOUND"
    CONFLICT = "CONFLICT"
    NOT_AUTHENTICATED = "NOT_AUTHENTICATED"
    FORBIDDEN = "FORBIDDEN"
    RATE_LIMITED = "RATE_LIMITED"
    SECOND_FACTOR_REQUIRED = "SECOND_FACTOR_REQUIRED"
    #: A URL that is not https (plain http only to this machine, and only where the
    #: deployment allows it: ``ACCORD_WEBHOOK_ALLOW_LOCAL_HTTP``).
    INSECURE_URL = "INSECURE_URL"
    #: A purpose code no purpose has.
    UNKNOWN_PURPOSE = "UNKNOWN_PURPOSE"
