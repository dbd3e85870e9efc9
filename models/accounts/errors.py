"""The codes the account rules raise: registration, sign-in, sessions, bindings, recovery,
cancellation and restoration. ``AccountError.code`` in GraphQL is this enum."""

from __future__ import annotations

from enum import StrEnum

from models.errors import domain_codes


@domain_codes
class AccountErrorCode(StrEnum):
    INVALID = "INVALID"
    REQUIRED = "REQUIRED"
    NOT_FOUND = "NOT_FOUND"
    UNIQUE = "UNIQUE"
    INVALID_CREDENTIALS = "INVALID_CREDENTIALS"
    WEAK_PASSWORD = "WEAK_PASSWORD"
    #: The password is on the shipped list of common ones or in a breach (models.accounts.breaches).
    BREACHED_PASSWORD = "BREACHED_PASSWORD"
    RATE_LIMITED = "RATE_LIMITED"
    NOT_AUTHENTICATED = "NOT_AUTHENTICATED"
    FORBIDDEN = "FORBIDDEN"
    REAUTHENTICATION_REQUIRED = "REAUTHENTICATION_REQUIRED"
    INVALID_TOKEN = "INVALID_TOKEN"
    UNKNOWN_PROVIDER = "UNKNOWN_PROVIDER"
    PROVIDER_UNAVAILABLE = "PROVIDER_UNAVAILABLE"
    ALREADY_BOUND = "ALREADY_BOUND"
    NOT_BOUND = "NOT_BOUND"
    LAST_SIGN_IN_METHOD = "LAST_SIGN_IN_METHOD"
    ACCOUNT_INACTIVE = "ACCOUNT_INACTIVE"
    TOO_MANY_LOGINS = "TOO_MANY_LOGINS"
    CONFLICT = "CONFLICT"
    # Second factors and step-up (issue 15).
    SECOND_FACTOR_REQUIRED = "SECOND_FACTOR_REQUIRED"
    #: A sign-in challenge or passkey ceremony that is unknown, expired or already answered.
    INVALID_CHALLENGE = "INVALID_CHALLENGE"
    ALREADY_ENROLLED = "ALREADY_ENROLLED"
    # AccountErrorCode was once every code of every domain: no account rule raises the ten
    # from here to CONSENT_REQUIRED, and they stay listed because clients may switch on them.
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
    # Verifying an e-mail address or phone number (models/accounts/contacts.py).
    INVALID_CODE = "INVALID_CODE"
    CODE_EXPIRED = "CODE_EXPIRED"
    TOO_MANY_ATTEMPTS = "TOO_MANY_ATTEMPTS"
    # Operators' actions on the deletion queue (models.rights.deletion_queue).
    #: The deletion is still in its grace period: the user may restore the account until then.
    IN_GRACE_PERIOD = "IN_GRACE_PERIOD"
    #: A worker holds the deletion now (its lease has not expired).
    DELETION_RUNNING = "DELETION_RUNNING"
    #: The user restored the account: there is no deletion to act on.
    DELETION_CANCELLED = "DELETION_CANCELLED"
