"""The codes the consent rules raise: the ledger, decisions, offline sync, policies and
purposes. ``ConsentError.code`` in GraphQL (and a rejected sync event's code) is this enum."""

from __future__ import annotations

from enum import StrEnum

from models.errors import domain_codes


@domain_codes
class ConsentErrorCode(StrEnum):
    INVALID = "INVALID"
    REQUIRED = "REQUIRED"
    NOT_FOUND = "NOT_FOUND"
    UNIQUE = "UNIQUE"
    NOT_AUTHENTICATED = "NOT_AUTHENTICATED"
    FORBIDDEN = "FORBIDDEN"
    #: The ledger stayed busy (retry the call); on one sync event, its idempotency key
    #: already stands for another decision (do not retry it; a new decision needs a new key).
    CONFLICT = "CONFLICT"
    UNKNOWN_PURPOSE = "UNKNOWN_PURPOSE"
    UNKNOWN_POLICY_VERSION = "UNKNOWN_POLICY_VERSION"
    PURPOSE_NOT_IN_POLICY = "PURPOSE_NOT_IN_POLICY"
    REQUIRED_PURPOSE = "REQUIRED_PURPOSE"
    CLOCK_SKEW = "CLOCK_SKEW"
    #: No longer raised: who may act for a device is ``models.personal.devices.owner_check``,
    #: which answers FORBIDDEN in every domain. Listed still, because clients may switch on it.
    DEVICE_LINKED = "DEVICE_LINKED"
    TOO_MANY_EVENTS = "TOO_MANY_EVENTS"
    #: A sync event whose client time is older than ACCORD_CONSENT_MAX_EVENT_AGE.
    TOO_OLD = "TOO_OLD"
    RATE_LIMITED = "RATE_LIMITED"
    SECOND_FACTOR_REQUIRED = "SECOND_FACTOR_REQUIRED"
