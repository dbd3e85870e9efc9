"""The typed error of the personal-data mutations."""

from __future__ import annotations

from enum import StrEnum

import strawberry

from models.errors import DomainError, ErrorCode


@strawberry.enum
class PersonalDataErrorCode(StrEnum):
    INVALID = ErrorCode.INVALID.value
    REQUIRED = ErrorCode.REQUIRED.value
    NOT_FOUND = ErrorCode.NOT_FOUND.value
    NOT_AUTHENTICATED = ErrorCode.NOT_AUTHENTICATED.value
    FORBIDDEN = ErrorCode.FORBIDDEN.value
    CONFLICT = ErrorCode.CONFLICT.value
    TOO_LARGE = ErrorCode.TOO_LARGE.value
    UNSUPPORTED_TYPE = ErrorCode.UNSUPPORTED_TYPE.value


@strawberry.type(description="A mistake the caller can fix; switch on `code`, not `message`.")
class PersonalDataError:
    code: PersonalDataErrorCode
    field: str | None
    message: str

    @classmethod
    def of(cls, error: DomainError) -> PersonalDataError:
        return cls(
            code=PersonalDataErrorCode(str(error.code)), field=error.field, message=error.message
        )
