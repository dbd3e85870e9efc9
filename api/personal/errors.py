"""The typed error of the personal-data mutations."""

from __future__ import annotations

import strawberry

from api.payloads import error_code
from models.errors import DomainError
from models.personal import errors as personal_errors

# The models' own enums, which strawberry.enum registers in place: still types to mypy.
#: The rules' own enum, so GraphQL lists exactly the codes they raise.
PersonalDataErrorCode = personal_errors.PersonalDataErrorCode
strawberry.enum(PersonalDataErrorCode)


@strawberry.type(description="A mistake the caller can fix; switch on `code`, not `message`.")
class PersonalDataError:
    code: PersonalDataErrorCode
    field: str | None
    message: str

    @classmethod
    def of(cls, error: DomainError) -> PersonalDataError:
        return cls(
            code=error_code(PersonalDataErrorCode, error.code),
            field=error.field,
            message=error.message,
        )
