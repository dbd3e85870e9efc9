"""GraphQL types of children's information: the account's minor flag and its guardian's
consent (rules in ``models.accounts.minors`` and ``models.consent.guardians``)."""

from __future__ import annotations

from datetime import datetime

import strawberry
from strawberry.types import Info

from api.context import Context
from api.permissions import OWNER_OR_ADMIN, visible_to
from models.accounts import minors
from models.accounts.account import Account as AccountRow
from models.consent import guardians

# ``strawberry.enum`` registers the models' enum itself; the name below is a plain alias.
strawberry.enum(
    guardians.GuardianConsentStatus,
    description="Whether a minor's public content waits for a guardian's consent.",
)
GuardianConsentStatus = guardians.GuardianConsentStatus


@strawberry.type(
    description="A code sent to your guardian, waiting to come back (confirmGuardianConsent)."
)
class GuardianConsentRequest:
    id: strawberry.ID = strawberry.field(description="The request id the guardian quotes.")
    guardian_email: str = strawberry.field(
        description="Masked (`p***@example.org`): the address is your guardian's."
    )
    expires_at: datetime
    attempts_left: int = strawberry.field(description="Wrong codes still allowed.")

    @classmethod
    def of(cls, row: guardians.GuardianConsentRequest, max_attempts: int) -> GuardianConsentRequest:
        return cls(
            id=strawberry.ID(str(row.id)),
            guardian_email=guardians.masked(row.guardian_email),
            expires_at=row.expires_at,
            attempts_left=max(0, max_attempts - row.attempts),
        )


@strawberry.type(description="A guardian's consent to publishing a minor's content.")
class GuardianConsent:
    status: GuardianConsentStatus
    confirmed_at: datetime | None = strawberry.field(
        description="When the consent was recorded; null without one."
    )
    pending_request: GuardianConsentRequest | None = strawberry.field(
        default=None, description="The code sent to your guardian, while it may be used."
    )

    @classmethod
    def of(cls, state: guardians.GuardianConsent, max_attempts: int) -> GuardianConsent:
        pending = state.pending
        return cls(
            status=state.status,
            confirmed_at=state.confirmed_at,
            pending_request=GuardianConsentRequest.of(pending, max_attempts) if pending else None,
        )


def _not_required() -> GuardianConsent:
    return GuardianConsent(status=GuardianConsentStatus.NOT_REQUIRED, confirmed_at=None)


@strawberry.type
class AccountMinorFields:
    """Mixed into ``Account``; resolvers read ``self.pk`` (the row id)."""

    @strawberry.field(
        description="A minor's account: what you publish is shown to others only once a "
        "guardian consents (see guardianConsent)."
    )
    @visible_to(OWNER_OR_ADMIN, otherwise=bool)
    async def minor(self, info: Info[Context, None]) -> bool:
        row = await AccountRow.get(id=self.pk)  # type: ignore[attr-defined]
        return row.minor

    @strawberry.field(description="The year of birth you declared, if any.")
    @visible_to(OWNER_OR_ADMIN, otherwise=lambda: None)
    async def birth_year(self, info: Info[Context, None]) -> int | None:
        row = await AccountRow.get(id=self.pk)  # type: ignore[attr-defined]
        return minors.birth_year_of(row)

    @strawberry.field(description="NOT_REQUIRED unless the account is a minor's.")
    @visible_to(OWNER_OR_ADMIN, otherwise=_not_required)
    async def guardian_consent(self, info: Info[Context, None]) -> GuardianConsent:
        row = await AccountRow.get(id=self.pk)  # type: ignore[attr-defined]
        state = await guardians.consent_of(row)
        return GuardianConsent.of(state, info.context.settings.contact_code_max_attempts)
