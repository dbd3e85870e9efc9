"""Who may see what: every read check of the GraphQL edge, written once and declared beside
the field it guards (in the spirit of Netflix Dispatch's ``auth/permissions``).

- ``@visible_to(OWNER_OR_ADMIN, otherwise=list)`` on a field of ``Account``: the account
  itself (or an ADMIN) reads it, including the account a sign-in mutation returns, which
  is read as the session it opened (``Context.reader_of``); anyone else gets the field's
  empty value (``[]``, an empty connection, ``false``), the same answer as for an account
  with nothing there, so a field never tells a stranger whether there is something to hide.
- ``@staff_only(Role.SUPPORT)`` on a root query: anyone else gets a top-level error whose
  ``extensions.code`` is ``NOT_AUTHENTICATED`` or ``FORBIDDEN`` (or
  ``SECOND_FACTOR_REQUIRED``: ``Context.require_role``). ``reads_subject_data=True`` when it
  answers a user's personal data: it also takes a recent authentication at the staff
  account's strongest level (``staff_reads_subject_data``), else
  ``REAUTHENTICATION_REQUIRED`` with ``extensions.factors``.
- ``CONSENT_READERS.allows(viewer, owns)`` where the owner is found through the data (a
  consent event belongs to whichever account holds its subject).

Mutations declare theirs with ``@payload(..., signed_in=True, roles=...)`` and live streams
with ``@live_stream(roles=...)``. The role rule itself (``Account.holds_role``: ADMIN holds
every role) stays in ``models``.

Strawberry's own ``permission_classes`` are not used: a refusal there is an error, or
``null``/``[]``, while these fields answer with an empty value of their own type and staff
queries with a typed code the error policy passes through.
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, TypeVar, cast

from strawberry.types import Info

from api.context import Context
from api.errors import ClientError
from models.accounts import staff
from models.accounts.account import Account, Role
from models.errors import DomainError

#: A resolver, returned with its own signature (Strawberry reads it through ``__wrapped__``).
F = TypeVar("F", bound=Callable[..., Awaitable[Any]])


@dataclass(frozen=True)
class OwnerOr:
    """The owner of the data, or an account holding one of ``roles`` (none: the owner only)."""

    roles: tuple[Role, ...] = ()

    def holds_role(self, viewer: Account) -> bool:
        return bool(self.roles) and viewer.holds_role(*self.roles)

    def allows_account(self, viewer: Account | None, owner_id: int, *, staff: bool = True) -> bool:
        """``staff``: whether the viewer may use its role now
        (``Context.may_read_subject_data``); the owner needs nothing more."""
        return viewer is not None and (viewer.id == owner_id or (staff and self.holds_role(viewer)))

    async def allows(
        self, viewer: Account | None, owns: Callable[[Account], Awaitable[bool]]
    ) -> bool:
        """For data whose owner takes a look-up to find: ``owns(viewer)`` says."""
        return viewer is not None and (self.holds_role(viewer) or await owns(viewer))


# --- staff, by what they do (``@payload(roles=...)``, ``@staff_only(...)``, ``@live_stream``)

#: The privacy office: policies, purposes, the ledger check, security incidents.
PRIVACY_OFFICE = (Role.PRIVACY_OFFICER,)
#: Who watches deletions, campaigns and the job queue.
OPERATIONS = staff.OPERATIONS
#: Support staff, on a need-to-know basis (``models.personal.support``).
SUPPORT_STAFF = (Role.SUPPORT,)
#: Who writes questionnaires.
QUESTIONNAIRE_AUTHORS = (Role.OPERATOR,)

# --- owners ----------------------------------------------------------------------------------

#: An account's sessions, bindings, consents and personal data.
OWNER_OR_ADMIN = OwnerOr((Role.ADMIN,))
#: An account's inbox: not even an ADMIN reads another's.
OWNER = OwnerOr()
#: A consent event (and its signed receipt): its subject's account, or the privacy office.
CONSENT_READERS = OwnerOr((Role.PRIVACY_OFFICER,))
#: A data request: its subject's account, or the privacy office (and ADMIN) that answers it.
DATA_REQUEST_READERS = OwnerOr((Role.PRIVACY_OFFICER,))


def visible_to(permission: OwnerOr, *, otherwise: Callable[[], Any]) -> Callable[[F], F]:
    """A field of ``Account`` (its resolver reads ``self.pk``, the row id) that only ``permission``
    reads; anyone else gets ``otherwise()``."""

    def decorate(resolver: F) -> F:
        @functools.wraps(resolver)
        async def guarded(self: Any, *args: Any, **kwargs: Any) -> Any:
            info: Info[Context, None] = kwargs["info"]
            owner_id = int(self.pk)
            reader = await info.context.reader_of(owner_id)
            staff = (
                reader is not None
                and reader.id != owner_id
                and await info.context.may_read_subject_data()
            )
            if not permission.allows_account(reader, owner_id, staff=staff):
                return otherwise()
            return await resolver(self, *args, **kwargs)

        return cast(F, guarded)

    return decorate


async def staff_reads_subject_data(context: Context) -> None:
    """Staff about to read a user's personal data: a recent authentication at the staff
    account's strongest level (a second factor, where staff must have one), or a top-level
    REAUTHENTICATION_REQUIRED naming what ``stepUp`` takes."""
    try:
        await context.reauthenticate()
    except DomainError as error:
        raise ClientError(str(error.code), error.message, factors=error.factors) from None


def staff_only(*roles: Role, reads_subject_data: bool = False) -> Callable[[F], F]:
    """A root query for staff holding one of ``roles``; others get a top-level error."""

    def decorate(resolver: F) -> F:
        @functools.wraps(resolver)
        async def guarded(*args: Any, **kwargs: Any) -> Any:
            info: Info[Context, None] = kwargs["info"]
            try:
                await info.context.require_role(*roles)
            except DomainError as error:
                raise ClientError(str(error.code), error.message) from None
            if reads_subject_data:
                await staff_reads_subject_data(info.context)
            return await resolver(*args, **kwargs)

        return cast(F, guarded)

    return decorate
