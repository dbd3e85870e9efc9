"""The mutation convention: ``<Name>Payload { ...result, errors: [<Domain>Error!]! }``.

``@payload(AccountError, signed_in=True)`` sits beside a mutation and declares who may call
it; a rule that refuses raises ``DomainError`` and the caller gets a typed error entry, an
empty result, and never a top-level error or HTTP 500. A string argument that no input
may carry is answered the same way, before the resolver runs (``api.arguments``).
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from enum import StrEnum
from typing import Any, Protocol, TypeVar, get_type_hints

import structlog
from strawberry.types import Info

from api.context import Context
from models.accounts.account import Role
from models.errors import FALLBACK_CODE, DomainError, DomainErrors

P = TypeVar("P")
C = TypeVar("C", bound=StrEnum)

log = structlog.get_logger("accord.graphql")


def error_code(enum: type[C], code: StrEnum | str) -> C:
    """A rule's code as this payload's enum. A code the enum lacks is a bug
    (``tests/test_error_codes.py`` looks for them): it is logged and answered with
    ``FALLBACK_CODE`` and the rule's own message, never turned into an internal error."""
    try:
        return enum(str(code))
    except ValueError:
        log.error("error code missing from the payload's enum", code=str(code), enum=enum.__name__)
        return enum(FALLBACK_CODE)


class ErrorType(Protocol):
    @classmethod
    def of(cls, error: DomainError) -> Any: ...


def payload(
    error_type: type[ErrorType],
    *,
    signed_in: bool = False,
    roles: tuple[Role, ...] = (),
) -> Callable[[Callable[..., Awaitable[P]]], Callable[..., Awaitable[P]]]:
    def decorate(resolver: Callable[..., Awaitable[P]]) -> Callable[..., Awaitable[P]]:
        payload_type = get_type_hints(resolver)["return"]

        @functools.wraps(resolver)
        async def guarded(*args: Any, **kwargs: Any) -> P:
            info: Info[Context, None] = kwargs["info"]
            try:
                if roles:
                    await info.context.require_role(*roles)
                elif signed_in:
                    await info.context.require_session()
                return await resolver(*args, **kwargs)
            except DomainError as error:
                return payload_type(errors=[error_type.of(error)])
            except DomainErrors as errors:
                return payload_type(errors=[error_type.of(e) for e in errors.errors])

        # How ``api.arguments`` answers a refused string before this resolver runs.
        guarded.as_payload = lambda error: payload_type(errors=[error_type.of(error)])  # type: ignore[attr-defined]
        return guarded

    return decorate
