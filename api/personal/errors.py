"""The typed error of the personal-data mutations."""

from __future__ import annotations

import strawberry

from api.payloads import error_code
from models.errors import DomainError
from models.personal import errors as personal_errors

#: The rules' own enum, so GraphQL lists exactly the codes they raise.
PersonalDataErrorCode = strawberry.enum(personal_errors.PersonalDataErrorCode)


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
