"""The error a caller can act on: a code from a fixed list, the field at fault, a message.

Rules raise ``DomainError``; the GraphQL edge turns it into ``errors: [...]`` on the payload.
Anything else that escapes a resolver is a bug and is masked.
"""

from __future__ import annotations

from enum import StrEnum


class ErrorCode(StrEnum):
    INVALID = "INVALID"
    REQUIRED = "REQUIRED"
    NOT_FOUND = "NOT_FOUND"
    UNIQUE = "UNIQUE"
    INVALID_CREDENTIALS = "INVALID_CREDENTIALS"
    WEAK_PASSWORD = "WEAK_PASSWORD"
    RATE_LIMITED = "RATE_LIMITED"
    NOT_AUTHENTICATED = "NOT_AUTHENTICATED"
    FORBIDDEN = "FORBIDDEN"
    REAUTHENTICATION_REQUIRED = "REAUTHENTICATION_REQUIRED"
    INVALID_TOKEN = "INVALID_TOKEN"
    UNKNOWN_PROVIDER = "UNKNOWN_PROVIDER"
    ALREADY_BOUND = "ALREADY_BOUND"
    NOT_BOUND = "NOT_BOUND"
    LAST_SIGN_IN_METHOD = "LAST_SIGN_IN_METHOD"
    ACCOUNT_INACTIVE = "ACCOUNT_INACTIVE"
    TOO_MANY_LOGINS = "TOO_MANY_LOGINS"
    CONFLICT = "CONFLICT"
    UNKNOWN_PURPOSE = "UNKNOWN_PURPOSE"
    UNKNOWN_POLICY_VERSION = "UNKNOWN_POLICY_VERSION"
    PURPOSE_NOT_IN_POLICY = "PURPOSE_NOT_IN_POLICY"
    REQUIRED_PURPOSE = "REQUIRED_PURPOSE"
    CLOCK_SKEW = "CLOCK_SKEW"
    DEVICE_LINKED = "DEVICE_LINKED"
    TOO_MANY_EVENTS = "TOO_MANY_EVENTS"
    TOO_LARGE = "TOO_LARGE"
    UNSUPPORTED_TYPE = "UNSUPPORTED_TYPE"
    CONSENT_REQUIRED = "CONSENT_REQUIRED"
    ACCOUNT_DELETED = "ACCOUNT_DELETED"
    GRACE_PERIOD_OVER = "GRACE_PERIOD_OVER"
    NAME_IN_QUARANTINE = "NAME_IN_QUARANTINE"


class DomainError(Exception):
    def __init__(
        self,
        code: ErrorCode,
        field: str | None,
        message: str,
        *,
        retry_after: int | None = None,
    ) -> None:
        super().__init__(message)
        self.code = code
        self.field = field
        self.message = message
        self.retry_after = retry_after


class DomainErrors(Exception):
    """Several field errors found at once, so a form can show them all together."""

    def __init__(self, errors: list[DomainError]) -> None:
        super().__init__("; ".join(e.message for e in errors))
        self.errors = errors
