"""The codes the data-subject rights rules raise: filing, verifying, answering and following
requests, and exports. ``DataRequestError.code`` in GraphQL is this enum."""

from __future__ import annotations

from enum import StrEnum

from models.errors import domain_codes


@domain_codes
class RightsErrorCode(StrEnum):
    INVALID = "INVALID"
    REQUIRED = "REQUIRED"
    NOT_FOUND = "NOT_FOUND"
    CONFLICT = "CONFLICT"
    NOT_AUTHENTICATED = "NOT_AUTHENTICATED"
    FORBIDDEN = "FORBIDDEN"
    RATE_LIMITED = "RATE_LIMITED"
    SECOND_FACTOR_REQUIRED = "SECOND_FACTOR_REQUIRED"
    # Recent authentication (models.accounts.reauthentication), which filing requires.
    REAUTHENTICATION_REQUIRED = "REAUTHENTICATION_REQUIRED"
    INVALID_CREDENTIALS = "INVALID_CREDENTIALS"
    INVALID_TOKEN = "INVALID_TOKEN"
    UNKNOWN_PROVIDER = "UNKNOWN_PROVIDER"
    PROVIDER_UNAVAILABLE = "PROVIDER_UNAVAILABLE"
    NOT_BOUND = "NOT_BOUND"
    ACCOUNT_INACTIVE = "ACCOUNT_INACTIVE"
    #: A request of this kind is still open (e.g. an export being built).
    REQUEST_IN_PROGRESS = "REQUEST_IN_PROGRESS"
    #: The request was already answered (completed, rejected or withdrawn).
    ALREADY_DECIDED = "ALREADY_DECIDED"
    #: The map does not let a correction request name this field (``correctable``).
    NOT_CORRECTABLE = "NOT_CORRECTABLE"
    #: The map does not let an erasure request name this kind (``erasure_refusal``).
    NOT_ERASABLE = "NOT_ERASABLE"
    #: The row a correction names was deleted since the request was filed.
    ROW_GONE = "ROW_GONE"
    #: Exports and account deletions are answered by their own process, not by staff.
    NOT_DECIDABLE = "NOT_DECIDABLE"
    #: The requester's identity is not verified: the request cannot be fulfilled yet,
    #: and no clock runs to extend.
    IDENTITY_NOT_VERIFIED = "IDENTITY_NOT_VERIFIED"
    # Identity of a requester who cannot sign in (models.rights.identity, verifyDataRequest).
    #: The code is not the one sent (the attempt counts).
    INVALID_CODE = "INVALID_CODE"
    CODE_EXPIRED = "CODE_EXPIRED"
    #: Too many wrong codes: file the request again for a new one.
    TOO_MANY_ATTEMPTS = "TOO_MANY_ATTEMPTS"
    #: The code already verified its request: it works once.
    CODE_USED = "CODE_USED"
    # The clock (models.rights.deadlines, extendDataRequest).
    #: A request is extended once.
    ALREADY_EXTENDED = "ALREADY_EXTENDED"
    #: The due date has passed: too late to extend.
    PAST_DUE = "PAST_DUE"
