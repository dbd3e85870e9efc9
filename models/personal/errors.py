"""The codes the personal-data rules raise: favorites, feedback and pictures, support,
questionnaires, activity records, devices and error reports. ``PersonalDataError.code`` in
GraphQL is this enum."""

from __future__ import annotations

from enum import StrEnum

from models.errors import domain_codes


@domain_codes
class PersonalDataErrorCode(StrEnum):
    INVALID = "INVALID"
    REQUIRED = "REQUIRED"
    NOT_FOUND = "NOT_FOUND"
    NOT_AUTHENTICATED = "NOT_AUTHENTICATED"
    FORBIDDEN = "FORBIDDEN"
    CONFLICT = "CONFLICT"
    TOO_LARGE = "TOO_LARGE"
    UNSUPPORTED_TYPE = "UNSUPPORTED_TYPE"
    RATE_LIMITED = "RATE_LIMITED"
    SECOND_FACTOR_REQUIRED = "SECOND_FACTOR_REQUIRED"
